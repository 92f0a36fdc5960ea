"""torch.nn surface: Conv3d/ConvTranspose3d, 3-D/LP/unpool/fractional pooling, 3-D padding
and the private pooling/padding bases against PyTorch (float64 values, input and weight
gradients; ties and ceil_mode windows included)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import compare, compare_module

CONV3D = [dict(), dict(stride=2), dict(padding=1), dict(padding=(1, 0, 2), stride=(2, 1, 1)),
          dict(dilation=(2, 1, 2), padding=2), dict(groups=2), dict(padding="same"),
          dict(padding="same", dilation=2)]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV3D)
def test_conv3d(torch, kw):
    rng = np.random.default_rng(0)
    g = kw.get("groups", 1)
    x, w, b = (rng.standard_normal((2, 4, 6, 5, 7)), rng.standard_normal((6, 4 // g, 3, 2, 3)),
               rng.standard_normal(6))
    compare(torch, lambda *a: F.conv3d(*a, **kw), lambda *a: torch.nn.functional.conv3d(*a, **kw),
            [x, w, b])


CONVT3D = [dict(), dict(stride=2), dict(padding=1, stride=2, output_padding=1),
           dict(stride=(2, 1, 3), padding=(1, 0, 1), dilation=(1, 2, 1), output_padding=(1, 0, 2)),
           dict(groups=2, stride=2), dict(dilation=3, stride=2, output_padding=2, padding=1)]


@pytest.mark.parametrize("kw", CONVT3D)
def test_conv_transpose3d(torch, kw):
    rng = np.random.default_rng(1)
    g = kw.get("groups", 1)
    x, w, b = (rng.standard_normal((2, 4, 3, 4, 3)), rng.standard_normal((4, 6 // g, 3, 2, 3)),
               rng.standard_normal(6))
    compare(torch, lambda *a: F.conv_transpose3d(*a, **kw),
            lambda *a: torch.nn.functional.conv_transpose3d(*a, **kw), [x, w, b])


@pytest.mark.parametrize("make", [
    lambda m: m.Conv3d(2, 4, 3, padding=1, padding_mode="reflect"),
    lambda m: m.Conv3d(4, 2, (1, 2, 3), stride=2, groups=2, bias=False),
    lambda m: m.ConvTranspose3d(2, 3, 2, stride=2, output_padding=1, dilation=2),
])
def test_conv3d_modules(torch, make):
    cm, tm = make(nn), make(torch.nn)
    assert repr(cm) == repr(tm)
    x = np.random.default_rng(2).standard_normal((2, cm.in_channels, 4, 5, 4))
    compare_module(torch, cm, tm, [x])
    compare_module(torch, cm, tm, [x[0]])  # unbatched


def test_conv_tbc(torch):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((7, 2, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    compare(torch, lambda *a: F.conv_tbc(*a, 1), lambda *a: torch.conv_tbc(*a, 1), [x, w, b])


POOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), ceil_mode=True),
        dict(kernel_size=3, stride=2, ceil_mode=True, padding=1)]


def _x3d():
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 6, 5))
    x[0, 0, :2, :2, :2] = 1.0  # ties: the first maximum wins
    return x


@pytest.mark.parametrize("kw", POOL + [dict(kernel_size=2, dilation=2)])
def test_max_pool3d(torch, kw):
    compare(torch, lambda a: F.max_pool3d(a, **kw, return_indices=True),
            lambda a: torch.nn.functional.max_pool3d(a, **kw, return_indices=True), [_x3d()])
    m, t = nn.MaxPool3d(**kw), torch.nn.MaxPool3d(**kw)
    assert repr(m) == repr(t)
    compare(torch, m, t, [_x3d()[0]])


@pytest.mark.parametrize("kw", POOL)
@pytest.mark.parametrize("cip,div", [(True, None), (False, None), (True, 3)])
def test_avg_pool3d(torch, kw, cip, div):
    m = nn.AvgPool3d(**kw, count_include_pad=cip, divisor_override=div)
    t = torch.nn.AvgPool3d(**kw, count_include_pad=cip, divisor_override=div)
    assert repr(m) == repr(t)
    compare(torch, m, t, [_x3d()])


@pytest.mark.parametrize("size", [(2, 3, 2), 1, (None, 4, 3), (3, 3, 3)])
def test_adaptive_pool3d(torch, size):
    compare(torch, nn.AdaptiveAvgPool3d(size), torch.nn.AdaptiveAvgPool3d(size), [_x3d()])
    compare(torch, nn.AdaptiveMaxPool3d(size, True), torch.nn.AdaptiveMaxPool3d(size, True),
            [_x3d()])
    assert repr(nn.AdaptiveMaxPool3d(size)) == repr(torch.nn.AdaptiveMaxPool3d(size))


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_lp_pool(torch, p):
    x = np.abs(_x3d()) + 0.1
    for cm, tm, arr in [(nn.LPPool3d(p, 2, ceil_mode=True), torch.nn.LPPool3d(p, 2, ceil_mode=True), x),
                        (nn.LPPool2d(p, (2, 3), 1), torch.nn.LPPool2d(p, (2, 3), 1), x[0]),
                        (nn.LPPool1d(p, 3, 2), torch.nn.LPPool1d(p, 3, 2), x[0, :, 0])]:
        assert repr(cm) == repr(tm)
        compare(torch, cm, tm, [arr])


@pytest.mark.parametrize("nd,shape", [(1, (2, 3, 9)), (2, (2, 3, 6, 8)), (3, (1, 2, 4, 6, 6))])
def test_max_unpool(torch, nd, shape):
    x = np.random.default_rng(5).standard_normal(shape)
    v, i = getattr(torch.nn.functional, f"max_pool{nd}d")(torch.tensor(x), 2, return_indices=True)
    cm, tm = getattr(nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    assert repr(cm) == repr(tm)
    compare(torch, cm, tm, [v.numpy(), i.numpy()])
    size = tuple((n // 2) * 2 + 1 for n in shape[2:])
    compare(torch, lambda a, b: cm(a, b, size), lambda a, b: tm(a, b, size), [v.numpy(), i.numpy()])
    with pytest.raises(ValueError, match="invalid output_size"):
        cm(cr.tensor(v.numpy()), cr.tensor(i.numpy()), tuple(n + 5 for n in shape[2:]))


@pytest.mark.parametrize("kw", [dict(kernel_size=3, output_size=(5, 4)),
                                dict(kernel_size=2, output_ratio=(0.5, 0.5)),
                                dict(kernel_size=(2, 3), output_size=(10, 7))])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_fractional_max_pool2d(torch, kw, dtype, tol):
    rng = np.random.default_rng(6)
    x, u = rng.standard_normal((2, 3, 11, 9)).astype(dtype), rng.random((2, 3, 2)).astype(dtype)
    compare(torch, lambda a, b: F.fractional_max_pool2d(a, **kw, return_indices=True, _random_samples=b),
            lambda a, b: torch.nn.functional.fractional_max_pool2d(
                a, **kw, return_indices=True, _random_samples=b), [x, u], grad_of=[0], tol=tol)


def test_fractional_max_pool3d_and_modules(torch):
    rng = np.random.default_rng(7)
    x, u = rng.standard_normal((2, 3, 9, 8, 7)), rng.random((2, 3, 3))
    compare(torch, lambda a, b: nn.FractionalMaxPool3d(2, (4, 5, 5), return_indices=True,
                                                       _random_samples=b)(a),
            lambda a, b: torch.nn.FractionalMaxPool3d(2, (4, 5, 5), return_indices=True,
                                                      _random_samples=b)(a), [x, u], grad_of=[0])
    cr.manual_seed(0)
    m = nn.FractionalMaxPool2d(3, output_ratio=0.5)
    y1, y2 = m(cr.tensor(x[:, :, 0])), m(cr.tensor(x[:, :, 0]))
    assert tuple(y1.shape) == (2, 3, 4, 3) and not np.array_equal(y1.numpy(), y2.numpy())
    with pytest.raises(ValueError, match="either an output size"):
        nn.FractionalMaxPool2d(2)


@pytest.mark.parametrize("name,args", [
    ("ZeroPad3d", ((1, 2, 0, 1, 2, 0),)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 2.5)),
    ("ReflectionPad3d", ((1, 2, 0, 1, 2, 1),)), ("ReplicationPad3d", (2,)),
    ("CircularPad3d", ((1, 2, 0, 1, 2, 0),)),
])
def test_pad3d(torch, name, args):
    cm, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(cm) == repr(tm)
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 5, 4))
    compare(torch, cm, tm, [x])
    compare(torch, cm, tm, [x[0]])


def test_private_pool_and_pad_bases(torch):
    import chainrule.nn.modules.padding as P
    import chainrule.nn.modules.pooling as Q

    pairs = [(nn.AvgPool2d(2), Q._AvgPoolNd), (nn.AvgPool3d(2), Q._AvgPoolNd),
             (nn.AdaptiveAvgPool1d(2), Q._AdaptiveAvgPoolNd),
             (nn.AdaptiveMaxPool3d(2), Q._AdaptiveMaxPoolNd), (nn.MaxPool3d(2), Q._MaxPoolNd),
             (nn.LPPool2d(2, 2), Q._LPPoolNd), (nn.MaxUnpool1d(2), Q._MaxUnpoolNd),
             (nn.ZeroPad2d(1), P._ConstantPadNd), (nn.ZeroPad1d(1), nn.ConstantPad1d),
             (nn.ReflectionPad3d(1), P._ReflectionPadNd),
             (nn.ReplicationPad1d(1), P._ReplicationPadNd), (nn.CircularPad2d(1), P._CircularPadNd)]
    for m, base in pairs:
        assert isinstance(m, base), (m, base)
        torch_bases = [c.__name__ for c in getattr(torch.nn, type(m).__name__).__mro__]
        assert base.__name__ in torch_bases  # the same private base as in PyTorch
