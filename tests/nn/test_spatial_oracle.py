"""Oracle tests: convolution, pooling, padding, unfold/fold and interpolation against
torch.nn.functional (values, and gradients of a random projection of the output)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def _compare(torch, cr_fn, torch_fn, arrays, grad_of=None, dtype=np.float64, atol=1e-10):
    """Run both libraries on the same inputs; compare outputs and the input gradients of
    sum(out * r) for a random r (grad_of: indices of the inputs to differentiate)."""
    grad_of = range(len(arrays)) if grad_of is None else grad_of
    xs = [cr.tensor(a.astype(dtype), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a.astype(dtype), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out, ref = cr_fn(*xs), torch_fn(*ts)
    outs, refs = (out, ref) if isinstance(out, tuple) else ((out,), (ref,))
    for o, r in zip(outs, refs):
        assert tuple(o.shape) == tuple(r.shape)
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), atol=atol, rtol=1e-6)
    rng = np.random.default_rng(1)
    proj = rng.standard_normal(tuple(ref.shape if not isinstance(ref, tuple) else refs[0].shape))
    (outs[0] * cr.tensor(proj.astype(dtype))).sum().backward()
    (refs[0] * torch.tensor(proj.astype(dtype))).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(xs[i].grad.numpy(), ts[i].grad.numpy(), atol=atol, rtol=1e-6)


CONV2D = [
    dict(), dict(stride=2), dict(padding=1), dict(padding=(2, 0), stride=(1, 2)),
    dict(dilation=2, padding=2), dict(dilation=(1, 2), stride=(2, 1)), dict(groups=2),
    dict(groups=4, padding=1, stride=2), dict(padding="same"), dict(padding="same", dilation=2),
    dict(padding="valid"), dict(stride=3, padding=1, dilation=2, groups=2),
]


@pytest.mark.parametrize("kw", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(torch, kw, bias):
    rng = np.random.default_rng(0)
    g = kw.get("groups", 1)
    arrays = [rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((8, 4 // g, 3, 2))]
    if bias:
        arrays.append(rng.standard_normal(8))
    _compare(torch, lambda *a: F.conv2d(*a, **kw), lambda *a: torch.nn.functional.conv2d(*a, **kw),
             arrays)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=3), dict(groups=3),
                                dict(padding="same"), dict(padding="same", dilation=2)])
def test_conv1d(torch, kw):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 6, 13)), rng.standard_normal((3, 6 // kw.get("groups", 1), 4)),
              rng.standard_normal(3)]
    _compare(torch, lambda *a: F.conv1d(*a, **kw), lambda *a: torch.nn.functional.conv1d(*a, **kw),
             arrays)


def test_conv_float32_and_unbatched(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 10, 10)), rng.standard_normal((5, 3, 3, 3))]
    _compare(torch, lambda *a: F.conv2d(*a, padding=1), lambda *a: torch.nn.functional.conv2d(*a, padding=1),
             arrays, dtype=np.float32, atol=1e-4)


CONVT = [
    dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1), dict(dilation=2),
    dict(groups=2, stride=(2, 1)), dict(stride=3, padding=2, output_padding=(2, 0), dilation=2),
    dict(stride=1, output_padding=1, dilation=2),
]


@pytest.mark.parametrize("kw", CONVT)
def test_conv_transpose2d(torch, kw):
    rng = np.random.default_rng(0)
    g = kw.get("groups", 1)
    arrays = [rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 6 // g, 3, 2)),
              rng.standard_normal(6)]
    _compare(torch, lambda *a: F.conv_transpose2d(*a, **kw),
             lambda *a: torch.nn.functional.conv_transpose2d(*a, **kw), arrays)


@pytest.mark.parametrize("kw", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=2)])
def test_conv_transpose1d(torch, kw):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 4, 7)), rng.standard_normal((4, 3, 3)), rng.standard_normal(3 * kw.get("groups", 1))]
    arrays[1] = rng.standard_normal((4, 3, 3))
    _compare(torch, lambda *a: F.conv_transpose1d(*a, **kw),
             lambda *a: torch.nn.functional.conv_transpose1d(*a, **kw), arrays)


MAXPOOL = [
    dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)), dict(kernel_size=3, ceil_mode=True),
    dict(kernel_size=2, stride=3, padding=1, ceil_mode=True), dict(kernel_size=3, stride=2, dilation=2, padding=1),
]


@pytest.mark.parametrize("kw", MAXPOOL)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d(torch, kw, ties):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (2, 3, 9, 10)) if ties else rng.standard_normal((2, 3, 9, 10))
    _compare(torch, lambda a: F.max_pool2d(a, **kw, return_indices=True),
             lambda a: torch.nn.functional.max_pool2d(a, **kw, return_indices=True), [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=3)])
def test_max_pool1d(torch, kw):
    x = np.random.default_rng(0).integers(0, 4, (2, 3, 11))
    _compare(torch, lambda a: F.max_pool1d(a, **kw, return_indices=True),
             lambda a: torch.nn.functional.max_pool1d(a, **kw, return_indices=True), [x])


AVGPOOL = [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=3, ceil_mode=True, divisor_override=5),
]


@pytest.mark.parametrize("kw", AVGPOOL)
def test_avg_pool2d(torch, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    _compare(torch, lambda a: F.avg_pool2d(a, **kw), lambda a: torch.nn.functional.avg_pool2d(a, **kw), [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True),
                                dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)])
def test_avg_pool1d(torch, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 12))
    _compare(torch, lambda a: F.avg_pool1d(a, **kw), lambda a: torch.nn.functional.avg_pool1d(a, **kw), [x])


@pytest.mark.parametrize("size", [(1, 1), (3, 4), (5, 7), 4, (None, 2), (9, 10)])
def test_adaptive_pool2d(torch, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 10))
    tf = torch.nn.functional
    _compare(torch, lambda a: F.adaptive_avg_pool2d(a, size), lambda a: tf.adaptive_avg_pool2d(a, size), [x])
    xi = rng.integers(0, 3, (2, 3, 9, 10))  # ties
    _compare(torch, lambda a: F.adaptive_max_pool2d(a, size, return_indices=True),
             lambda a: tf.adaptive_max_pool2d(a, size, return_indices=True), [xi])


@pytest.mark.parametrize("size", [1, 3, 4, 7])
def test_adaptive_pool1d(torch, size):
    x = np.random.default_rng(0).integers(0, 3, (2, 3, 10))
    tf = torch.nn.functional
    _compare(torch, lambda a: F.adaptive_avg_pool1d(a, size), lambda a: tf.adaptive_avg_pool1d(a, size), [x])
    _compare(torch, lambda a: F.adaptive_max_pool1d(a, size, return_indices=True),
             lambda a: tf.adaptive_max_pool1d(a, size, return_indices=True), [x])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 1, 0, 3), (3, 0, 1, 1)])
def test_pad(torch, mode, pads):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6)[4 - len(pads) // 2 - 2:])
    _compare(torch, lambda a: F.pad(a, pads, mode=mode), lambda a: torch.nn.functional.pad(a, pads, mode=mode), [x])


def test_pad_constant_value_and_negative(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    tf = torch.nn.functional
    _compare(torch, lambda a: F.pad(a, (1, -2, -1, 3), value=2.5), lambda a: tf.pad(a, (1, -2, -1, 3), value=2.5), [x])
    _compare(torch, lambda a: F.pad(a, (1, 1, 0, 0, 2, 1)), lambda a: tf.pad(a, (1, 1, 0, 0, 2, 1)), [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3), dilation=(2, 1), stride=(1, 2))])
def test_unfold_fold(torch, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8))
    tf = torch.nn.functional
    _compare(torch, lambda a: F.unfold(a, **kw), lambda a: tf.unfold(a, **kw), [x])
    cols = tf.unfold(torch.tensor(x), **kw).numpy()
    _compare(torch, lambda a: F.fold(a, (7, 8), **kw), lambda a: tf.fold(a, (7, 8), **kw), [cols])


INTERP = [
    dict(size=(7, 5), mode="nearest"), dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=1.7, mode="nearest"), dict(scale_factor=0.6, mode="nearest-exact"),
    dict(size=(3, 11), mode="bilinear"), dict(size=(3, 11), mode="bilinear", align_corners=True),
    dict(scale_factor=1.5, mode="bilinear"), dict(scale_factor=(0.7, 2.3), mode="bilinear"),
    dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
]


@pytest.mark.parametrize("kw", INTERP)
def test_interpolate2d(torch, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5))
    _compare(torch, lambda a: F.interpolate(a, **kw), lambda a: torch.nn.functional.interpolate(a, **kw), [x])


@pytest.mark.parametrize("kw", [dict(size=9, mode="nearest"), dict(scale_factor=2.5, mode="linear"),
                                dict(size=4, mode="linear", align_corners=True)])
def test_interpolate1d(torch, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 6))
    _compare(torch, lambda a: F.interpolate(a, **kw), lambda a: torch.nn.functional.interpolate(a, **kw), [x])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_layers_with_copied_weights(torch, mode):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6))
    for padding in [(2, 1), "same"]:
        ours = cr.nn.Conv2d(4, 6, (3, 2), padding=padding, groups=2, padding_mode=mode, dtype=cr.float64)
        theirs = torch.nn.Conv2d(4, 6, (3, 2), padding=padding, groups=2, padding_mode=mode).double()
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
            theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
        _compare(torch, ours, theirs, [x])
    ours1 = cr.nn.Conv1d(4, 3, 4, padding="same", padding_mode=mode, dtype=cr.float64)
    theirs1 = torch.nn.Conv1d(4, 3, 4, padding="same", padding_mode=mode).double()
    with torch.no_grad():
        theirs1.weight.copy_(torch.tensor(ours1.weight.detach().numpy()))
        theirs1.bias.copy_(torch.tensor(ours1.bias.detach().numpy()))
    _compare(torch, ours1, theirs1, [x[:, :, 0]])


def test_conv_transpose_layer_output_size(torch):
    ours = cr.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1, dtype=cr.float64)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 5))
    _compare(torch, lambda a: ours(a, output_size=(11, 14)), lambda a: theirs(a, output_size=(11, 14)), [x])


def test_layer_reprs_match(torch):
    pairs = [("Conv2d", (1, 16, 3), dict(padding=1)), ("Conv1d", (2, 4, 5), dict(stride=2, bias=False)),
             ("ConvTranspose2d", (16, 8, 4), dict(stride=2, padding=1)), ("MaxPool2d", (2,), {}),
             ("AvgPool2d", (3,), dict(stride=1)), ("AdaptiveAvgPool2d", ((1, 1),), {}),
             ("Dropout2d", (0.25,), {}), ("Upsample", (), dict(scale_factor=2, mode="bilinear"))]
    for name, args, kw in pairs:
        assert repr(getattr(cr.nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_batchnorm2d_over_nchw(torch):
    """BatchNorm2d (from nn.normalization) on conv feature maps: training output, input and
    affine gradients, running statistics, then eval mode."""
    rng = np.random.default_rng(0)
    ours = cr.nn.BatchNorm2d(3, momentum=0.2, dtype=cr.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    with torch.no_grad():
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    with cr.no_grad():
        ours.weight.copy_(cr.tensor(w))
        ours.bias.copy_(cr.tensor(b))
    x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
    _compare(torch, ours, theirs, [x])
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-10)
    ours.eval()
    theirs.eval()
    _compare(torch, ours, theirs, [x])


@pytest.mark.parametrize("name,args", [
    ("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad1d", (2,)), ("ConstantPad2d", (1, 3.5)),
    ("ConstantPad1d", ((2, 0), -1.0)), ("ReflectionPad2d", ((1, 2, 3, 0),)), ("ReflectionPad1d", (2,)),
    ("ReplicationPad2d", (2,)), ("ReplicationPad1d", ((0, 3),)), ("CircularPad2d", ((1, 0, 2, 2),)),
    ("CircularPad1d", (1,)),
])
def test_padding_layers(torch, name, args):
    ours, theirs = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6) if name.endswith("2d") else (2, 3, 6))
    _compare(torch, ours, theirs, [x])


def test_fold_unfold_layers(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=2)
    ours, theirs = cr.nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(ours) == repr(theirs)
    _compare(torch, ours, theirs, [x])
    cols = theirs(torch.tensor(x)).numpy()
    ours, theirs = cr.nn.Fold((6, 7), **kw), torch.nn.Fold((6, 7), **kw)
    assert repr(ours) == repr(theirs)
    _compare(torch, ours, theirs, [cols])
