"""Convolution: against a naive nested-loop reference, finite differences (VJP, JVP,
double backward), the adjoint identity of conv_transpose, and the layers (init, padding
modes, errors)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.func
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck


def naive_conv2d(x, w, b=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """The definition, one output element at a time."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    (sh, sw), (dh, dw) = stride, dilation
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for ni, oi, hi, wi in itertools.product(range(n), range(o), range(ho), range(wo)):
        g = oi // og
        acc = 0.0 if b is None else b[oi]
        for ci, i, j in itertools.product(range(cg), range(kh), range(kw)):
            acc += w[oi, ci, i, j] * xp[ni, g * cg + ci, hi * sh + i * dh, wi * sw + j * dw]
        out[ni, oi, hi, wi] = acc
    return out


def _t(a, grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


CASES = [  # (stride, padding, dilation, groups)
    (1, 0, 1, 1), (2, 1, 1, 1), ((1, 2), (2, 0), 1, 1), (1, 2, 2, 1), (2, 1, (2, 1), 1),
    (1, 1, 1, 2), (3, 2, 2, 2), (1, "same", 1, 1), (1, "same", 2, 2), (1, "valid", 1, 1),
]


def _pad_pairs(padding, k, d):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        tot = [dd * (kk - 1) for kk, dd in zip(k, d)]
        return tuple((t // 2, t - t // 2) for t in tot)
    p = (padding, padding) if isinstance(padding, int) else padding
    return tuple((a, a) for a in p)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.fixture(params=["nhw", "hwn"])
def order(request, monkeypatch):
    """Run the test with every convolution in one column order (both must be right)."""
    from chainrule.ops import _conv_kernels as K

    monkeypatch.setattr(K, "choose_order", lambda *a, **k: request.param)
    return request.param


@pytest.mark.parametrize("stride,padding,dilation,groups", CASES)
def test_conv2d_matches_naive_loops(order, stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 4 // groups, 3, 2)), rng.standard_normal(6)
    out = F.conv2d(_t(x), _t(w), _t(b), stride, padding, dilation, groups).numpy()
    ref = naive_conv2d(x, w, b, _pair(stride), _pad_pairs(padding, (3, 2), _pair(dilation)),
                       _pair(dilation), groups)
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_conv2d_float32_stays_float32_and_matches():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 2, 8, 8)), rng.standard_normal((4, 2, 3, 3))
    out = F.conv2d(cr.tensor(x.astype(np.float32)), cr.tensor(w.astype(np.float32)), padding=1)
    assert out.dtype == cr.float32
    np.testing.assert_allclose(out.numpy(), naive_conv2d(x, w, padding=((1, 1), (1, 1))), atol=1e-4)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 2, 1, 1), (2, 1, 3, 3)])
def test_conv1d_matches_naive(order, stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 11)), rng.standard_normal((6, 3 // groups, 3))
    out = F.conv1d(_t(x), _t(w), None, stride, padding, dilation, groups).numpy()
    ref = naive_conv2d(x[:, :, None], w[:, :, None], None, (1, stride), ((0, 0), (padding, padding)),
                       (1, dilation), groups)[:, :, 0]
    np.testing.assert_allclose(out, ref, atol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation,groups", CASES[:7])
def test_conv2d_gradcheck(order, stride, padding, dilation, groups):
    rng = np.random.default_rng(1)
    x = _t(rng.standard_normal((2, 2, 6, 5)), True)
    w = _t(rng.standard_normal((4, 2 // groups, 2, 3)), True)
    b = _t(rng.standard_normal(4), True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), (x, w, b))


@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 1, 1), (2, 0, 2)])
def test_conv2d_double_backward(order, stride, padding, dilation):
    rng = np.random.default_rng(2)
    x = _t(rng.standard_normal((1, 2, 5, 5)), True)
    w = _t(rng.standard_normal((3, 2, 2, 2)), True)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), (x, w))


def test_conv2d_jvp_matches_finite_differences_and_vjp():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 3))
    xd, wd = rng.standard_normal(x.shape), rng.standard_normal(w.shape)

    def f(x, w):
        return F.conv2d(x, w, None, 2, 1)

    _, tangent = cr.func.jvp(f, (_t(x), _t(w)), (_t(xd), _t(wd)))
    eps = 1e-6
    fd = (f(_t(x + eps * xd), _t(w + eps * wd)).numpy() - f(_t(x - eps * xd), _t(w - eps * wd)).numpy()) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), fd, atol=1e-7)
    # <u, J v> == <J^T u, v>
    u = rng.standard_normal(fd.shape)
    xt, wt = _t(x, True), _t(w, True)
    (f(xt, wt) * _t(u)).sum().backward()
    lhs = float((u * tangent.numpy()).sum())
    rhs = float((xt.grad.numpy() * xd).sum() + (wt.grad.numpy() * wd).sum())
    assert math.isclose(lhs, rhs, rel_tol=1e-10)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1), (3, 2, 2, 1),
                                                            ((2, 1), (1, 0), (1, 2), 2), (2, 0, 1, 2)])
def test_conv_transpose_is_the_adjoint_of_conv(order, stride, padding, dilation, groups):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every x, y."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    y_shape = F.conv2d(_t(x), _t(w), None, stride, padding, dilation, groups).shape
    y = rng.standard_normal(tuple(y_shape))
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    op = tuple(n - ((m - 1) * si - 2 * pi + di * (k - 1) + 1)
               for n, m, si, pi, di, k in zip(x.shape[2:], y.shape[2:], s, p, d, w.shape[2:]))
    xt = F.conv_transpose2d(_t(y), _t(w), None, stride, padding, op, groups, dilation).numpy()
    assert xt.shape == x.shape
    lhs = float((F.conv2d(_t(x), _t(w), None, stride, padding, dilation, groups).numpy() * y).sum())
    assert math.isclose(lhs, float((x * xt).sum()), rel_tol=1e-10)


def test_conv_transpose2d_gradcheck_and_double_backward():
    rng = np.random.default_rng(5)
    x = _t(rng.standard_normal((1, 4, 3, 4)), True)
    w = _t(rng.standard_normal((4, 1, 3, 2)), True)
    b = _t(rng.standard_normal(2), True)

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=1)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (x, w))


def test_conv1d_and_conv_transpose1d_gradcheck():
    rng = np.random.default_rng(6)
    x = _t(rng.standard_normal((2, 2, 7)), True)
    w = _t(rng.standard_normal((3, 2, 3)), True)
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1, dilation=2), (x, w))
    wt = _t(rng.standard_normal((2, 3, 3)), True)
    assert gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2), (x, wt))


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                          ("circular", "wrap"), ("zeros", "constant")])
def test_conv2d_padding_modes(mode, np_mode):
    conv = nn.Conv2d(2, 3, (3, 2), padding=(2, 1), padding_mode=mode, dtype=cr.float64)
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 6))
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode=np_mode)
    ref = naive_conv2d(xp, conv.weight.detach().numpy(), conv.bias.detach().numpy())
    np.testing.assert_allclose(conv(_t(x)).detach().numpy(), ref, atol=1e-12)


def test_conv_layers_init_and_shapes():
    conv = nn.Conv2d(16, 32, 3, padding=1)
    assert tuple(conv.weight.shape) == (32, 16, 3, 3) and conv.weight.dtype == cr.float32
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform std = bound/sqrt(3)
    assert np.abs(b).max() <= bound
    g = nn.Conv1d(6, 4, 5, groups=2, bias=False)
    assert tuple(g.weight.shape) == (4, 3, 5) and g.bias is None
    t = nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert tuple(t.weight.shape) == (6, 2, 3, 3)
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(2 * 9)
    assert tuple(t(cr.randn(1, 6, 5, 5)).shape) == (1, 4, 7, 7)
    assert tuple(nn.ConvTranspose1d(4, 2, 3, stride=2)(cr.randn(1, 4, 10)).shape) == (1, 2, 21)
    up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)
    assert tuple(up(cr.randn(1, 3, 4, 4), output_size=(8, 8)).shape) == (1, 3, 8, 8)
    names = [n for n, _ in nn.Conv2d(1, 2, 3).named_parameters()]
    assert names == ["weight", "bias"]


def test_conv_errors_name_the_problem():
    x = cr.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="conv2d.*3 channels.*expects 4"):
        F.conv2d(x, cr.randn(5, 4, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(x, cr.randn(5, 3, 9, 9))
    with pytest.raises(ValueError, match="same.*strided"):
        F.conv2d(x, cr.randn(5, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="expected a 3-D or 4-D input"):
        F.conv2d(cr.randn(8, 8), cr.randn(5, 3, 3, 3))
    with pytest.raises(ValueError, match="in_channels .* divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        nn.Conv2d(3, 4, 3, stride=0)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, cr.randn(3, 2, 3, 3), stride=2, output_padding=2)


def test_conv_module_trains_under_autograd():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    x = cr.randn(8, 1, 8, 8)
    y = cr.tensor([0, 1] * 4)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 0)])
def test_conv2d_1x1_kernel(stride, padding):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((4, 3, 1, 1))
    out = F.conv2d(_t(x), _t(w), None, stride, padding).numpy()
    ref = naive_conv2d(x, w, None, (stride, stride), ((padding, padding),) * 2)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    assert gradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding), (_t(x, True), _t(w, True)))


JVP_FUNCS = {
    "conv_transpose2d": lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
    "conv2d_groups": lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, groups=2),
    "unfold": lambda x, w: F.unfold(x, 2, dilation=2, padding=1, stride=2) * w.sum(),
    "fold": lambda x, w: F.fold(F.unfold(x, 3, padding=1), (5, 6), 3, padding=1) * w.sum(),
    "pad": lambda x, w: F.pad(x, (2, -1, 1, 3), value=0.5) * w.sum(),
    "avg_pool2d": lambda x, w: F.avg_pool2d(x * w.sum(), 3, 2, 1, True, False),
    "max_pool2d": lambda x, w: F.max_pool2d(x * w.sum(), 3, 2, 1),
}


@pytest.mark.parametrize("name", sorted(JVP_FUNCS))
def test_spatial_jvp_agrees_with_vjp_and_finite_differences(name):
    """<u, J v> == <J^T u, v> (no finite differences), and J v matches central differences."""
    f = JVP_FUNCS[name]
    rng = np.random.default_rng(9)
    x = rng.permutation(2 * 4 * 5 * 6).reshape(2, 4, 5, 6) / 11.0  # distinct: max is smooth
    w = rng.standard_normal((4, 2, 3, 3))
    xd, wd = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    _, tangent = cr.func.jvp(f, (_t(x), _t(w)), (_t(xd), _t(wd)))
    eps = 1e-6
    fd = (f(_t(x + eps * xd), _t(w + eps * wd)).numpy() - f(_t(x - eps * xd), _t(w - eps * wd)).numpy()) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), fd, atol=1e-6)
    u = rng.standard_normal(fd.shape)
    xt, wt = _t(x, True), _t(w, True)
    (f(xt, wt) * _t(u)).sum().backward()
    rhs = float((xt.grad.numpy() * xd).sum() + (wt.grad.numpy() * wd).sum())
    assert math.isclose(float((u * tangent.numpy()).sum()), rhs, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("groups", [1, 2])
def test_large_convolutions_run_in_sample_blocks(monkeypatch, order, groups):
    """Columns above the keep limit are built block by block (forward) and rebuilt in
    backward, and the input gradient runs in blocks: same values and gradients as the
    one-shot path."""
    from chainrule.ops import _conv_kernels as C

    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((5, 4, 6, 7)), rng.standard_normal((6, 4 // groups, 3, 3)), rng.standard_normal(6)
    u = rng.standard_normal((5, 6, 3, 4))

    def run():
        xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
        out = F.conv2d(xt, wt, bt, stride=2, padding=1, groups=groups)
        (out * _t(u)).sum().backward()
        return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()

    ref = run()
    monkeypatch.setattr(C, "_KEEP_BYTES", 100)
    monkeypatch.setattr(C, "_TILE_BYTES", 2 * 4 * 9 * 12 * 8)  # small tiles
    monkeypatch.setattr(C, "_GATHER_TILE_BYTES", 2 * 4 * 9 * 12 * 8)
    for a, r in zip(run(), ref):
        np.testing.assert_allclose(a, r, atol=1e-12)
    np.testing.assert_allclose(ref[0], naive_conv2d(x, w, b, (2, 2), ((1, 1), (1, 1)), (1, 1), groups), atol=1e-12)


def test_frozen_weight_and_frozen_input_gradients():
    """Only x requires grad (frozen layer), then only w (first layer): each gets the
    gradient the adjoint formulas give."""
    rng = np.random.default_rng(12)
    x, w, u = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 6, 6))
    xt = _t(x, True)
    (F.conv2d(xt, _t(w), padding=1) * _t(u)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), F.conv_transpose2d(_t(u), _t(w), padding=1).numpy(), atol=1e-12)
    wt = _t(w, True)
    (F.conv2d(_t(x), wt, padding=1) * _t(u)).sum().backward()
    ref = np.einsum("nohw,nchw->oc", u, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, :, 1:7, 1:7])
    np.testing.assert_allclose(wt.grad.numpy()[:, :, 1, 1], ref, atol=1e-10)  # centre tap
