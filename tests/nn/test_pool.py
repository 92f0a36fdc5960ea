"""Pooling: against naive nested loops (every option), ties, finite differences, layers."""

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


def _out_len(n, k, s, p, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    o = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def naive_max_pool2d(x, k, s, p, d, ceil):
    """Returns (out, flat index, d out / d x routed to the first maximum of each window)."""
    n, c, h, w = x.shape
    ho, wo = _out_len(h, k[0], s[0], p[0], d[0], ceil), _out_len(w, k[1], s[1], p[1], d[1], ceil)
    out, idx = np.zeros((n, c, ho, wo)), np.zeros((n, c, ho, wo), np.int64)
    for ni, ci, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        best, arg = -np.inf, None
        for a, b in itertools.product(range(k[0]), range(k[1])):  # row-major window order
            r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
            if 0 <= r < h and 0 <= q < w and (arg is None or x[ni, ci, r, q] > best):
                best, arg = x[ni, ci, r, q], r * w + q
        out[ni, ci, i, j], idx[ni, ci, i, j] = best, arg
    return out, idx


def naive_avg_pool2d(x, k, s, p, ceil, include_pad, divisor=None):
    n, c, h, w = x.shape
    ho, wo = _out_len(h, k[0], s[0], p[0], 1, ceil), _out_len(w, k[1], s[1], p[1], 1, ceil)
    out = np.zeros((n, c, ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
        r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
        size = (r1 - r0) * (q1 - q0)
        r0c, q0c, r1c, q1c = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
        total = x[:, :, r0c:r1c, q0c:q1c].sum((2, 3))
        div = divisor or (size if include_pad else (r1c - r0c) * (q1c - q0c))
        out[:, :, i, j] = total / div
    return out


def _t(a, grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


MAX_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    ((2, 2), (2, 2), (0, 0), (1, 1), False), ((3, 3), (1, 1), (1, 1), (1, 1), False),
    ((3, 2), (2, 1), (1, 0), (1, 1), True), ((2, 2), (3, 3), (1, 1), (1, 1), True),
    ((3, 3), (2, 2), (1, 1), (2, 2), False), ((2, 3), (2, 2), (0, 1), (2, 1), True),
    ((3, 3), (3, 3), (0, 0), (1, 1), True),
]


@pytest.mark.parametrize("k,s,p,d,ceil", MAX_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_matches_naive_loops(k, s, p, d, ceil, ties):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (2, 2, 8, 7)).astype(float) if ties else rng.standard_normal((2, 2, 8, 7))
    ref, ref_idx = naive_max_pool2d(x, k, s, p, d, ceil)
    xt = _t(x, True)
    out, idx = F.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), ref)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    # gradient: each window's upstream gradient lands on exactly its chosen element
    g = rng.standard_normal(ref.shape)
    (out * _t(g)).sum().backward()
    expect = np.zeros(x.shape)
    for ni, ci in itertools.product(range(2), range(2)):
        np.add.at(expect[ni, ci].reshape(-1), ref_idx[ni, ci].reshape(-1), g[ni, ci].reshape(-1))
    np.testing.assert_allclose(xt.grad.numpy(), expect, atol=1e-12)


def test_max_pool_ties_route_gradient_to_first_maximum():
    x = _t(np.ones((1, 1, 4, 4)), True)
    F.max_pool2d(x, 2).sum().backward()
    expect = np.zeros((4, 4))
    expect[0::2, 0::2] = 1.0  # the top-left element of each 2x2 window, and only it
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expect)
    x = _t([[[0.0, 5.0, 5.0, 0.0, 2.0]]], True)
    F.max_pool1d(x, 3, stride=1).sum().backward()
    # windows [0 5 5], [5 5 0], [5 0 2]: the first 5 of each
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [0, 2, 1, 0, 0])


def test_max_pool_propagates_nan():
    x = cr.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    assert math.isnan(float(F.max_pool2d(x, 2)))


AVG_CASES = [  # kernel, stride, padding, ceil, count_include_pad, divisor
    ((2, 2), (2, 2), (0, 0), False, True, None), ((3, 3), (2, 2), (1, 1), False, True, None),
    ((3, 3), (2, 2), (1, 1), False, False, None), ((3, 2), (2, 1), (1, 1), True, True, None),
    ((3, 2), (2, 2), (1, 1), True, False, None), ((2, 2), (3, 3), (1, 0), True, True, 3),
]


@pytest.mark.parametrize("k,s,p,ceil,incl,div", AVG_CASES)
def test_avg_pool2d_matches_naive_loops(k, s, p, ceil, incl, div):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 8))
    out = F.avg_pool2d(_t(x), k, s, p, ceil, incl, div).numpy()
    np.testing.assert_allclose(out, naive_avg_pool2d(x, k, s, p, ceil, incl, div), atol=1e-12)


@pytest.mark.parametrize("k,s,p,ceil,incl,div", AVG_CASES[1:5])
def test_avg_pool2d_gradcheck(k, s, p, ceil, incl, div):
    x = _t(np.random.default_rng(2).standard_normal((1, 2, 5, 6)), True)
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, incl, div), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, incl, div) ** 2, (x,))


def test_max_pool2d_gradcheck_and_double_backward():
    # distinct values (no ties within eps) so the max is differentiable
    x = _t(np.random.default_rng(3).permutation(60).reshape(1, 2, 5, 6) / 7.0, True)
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, (2, 3), 1, dilation=(2, 1)) ** 2, (x,))


def test_max_pool_jvp():
    rng = np.random.default_rng(4)
    x, v = rng.permutation(48).reshape(1, 3, 4, 4) / 5.0, rng.standard_normal((1, 3, 4, 4))
    _, tangent = cr.func.jvp(lambda x: F.max_pool2d(x, 2, 1), (_t(x),), (_t(v),))
    eps = 1e-6
    fd = (F.max_pool2d(_t(x + eps * v), 2, 1).numpy() - F.max_pool2d(_t(x - eps * v), 2, 1).numpy()) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), fd, atol=1e-8)


def test_pool1d_matches_2d_with_height_one():
    x = np.random.default_rng(5).standard_normal((2, 3, 11))
    out, idx = F.max_pool1d(_t(x), 3, 2, 1, 2, True, return_indices=True)
    ref, ref_idx = naive_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), (1, 2), True)
    np.testing.assert_array_equal(out.numpy(), ref[:, :, 0])
    np.testing.assert_array_equal(idx.numpy(), ref_idx[:, :, 0])
    avg = F.avg_pool1d(_t(x), 4, 3, 2, True, False).numpy()
    np.testing.assert_allclose(avg, naive_avg_pool2d(x[:, :, None], (1, 4), (1, 3), (0, 2), True, False)[:, :, 0])


def _bins(n, o):
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


@pytest.mark.parametrize("out_hw", [(1, 1), (3, 4), (5, 7), (7, 9)])
def test_adaptive_pools_match_definition(out_hw):
    x = np.random.default_rng(6).integers(0, 4, (2, 2, 7, 9)).astype(float)
    avg = F.adaptive_avg_pool2d(_t(x), out_hw).numpy()
    mx, idx = F.adaptive_max_pool2d(_t(x), out_hw, return_indices=True)
    for (i, (r0, r1)), (j, (q0, q1)) in itertools.product(enumerate(_bins(7, out_hw[0])),
                                                          enumerate(_bins(9, out_hw[1]))):
        win = x[:, :, r0:r1, q0:q1]
        np.testing.assert_allclose(avg[:, :, i, j], win.mean((2, 3)), atol=1e-12)
        np.testing.assert_array_equal(mx.numpy()[:, :, i, j], win.max((2, 3)))
        flat = win.reshape(2, 2, -1).argmax(-1)  # first maximum in row-major order
        rows, cols = r0 + flat // (q1 - q0), q0 + flat % (q1 - q0)
        np.testing.assert_array_equal(idx.numpy()[:, :, i, j], rows * 9 + cols)


def test_adaptive_pools_gradcheck():
    x = _t(np.random.default_rng(7).permutation(70).reshape(1, 2, 5, 7) / 9.0, True)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x[0], 3), (x,))


def test_pool_layers():
    x = cr.randn(2, 3, 8, 8)
    assert tuple(nn.MaxPool2d(2)(x).shape) == (2, 3, 4, 4)
    out, idx = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    assert tuple(out.shape) == tuple(idx.shape) == (2, 3, 4, 4) and idx.dtype == cr.int64
    assert tuple(nn.AvgPool2d(3, stride=1, padding=1)(x).shape) == (2, 3, 8, 8)
    assert tuple(nn.AdaptiveAvgPool2d((1, 1))(x).shape) == (2, 3, 1, 1)
    assert tuple(nn.AdaptiveMaxPool2d(3)(x).shape) == (2, 3, 3, 3)
    assert tuple(nn.MaxPool1d(2)(x[0]).shape) == (3, 8, 4)
    assert tuple(nn.AvgPool1d(2)(x[0]).shape) == (3, 8, 4)
    assert tuple(nn.AdaptiveAvgPool1d(5)(x[0]).shape) == (3, 8, 5)
    assert tuple(nn.AdaptiveMaxPool1d(5)(x[0]).shape) == (3, 8, 5)
    assert tuple(nn.MaxPool2d(2)(x[0]).shape) == (3, 4, 4)  # unbatched
    assert "kernel_size=2" in repr(nn.MaxPool2d(2))


def test_pool_errors_name_the_problem():
    x = cr.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="avg_pool2d: output size"):
        F.avg_pool2d(cr.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="max_pool2d: expected a 3-D"):
        F.max_pool2d(cr.randn(4, 4), 2)
    with pytest.raises(ValueError, match="MaxPool2d: kernel_size must be >= 1"):
        nn.MaxPool2d(0)


def test_dropout2d_zeroes_whole_channels():
    x = cr.ones(16, 32, 3, 3)
    y = F.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(16, 32, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert 0.35 < frac < 0.65
    drop = nn.Dropout2d(0.5)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="Dropout2d: dropout probability"):
        nn.Dropout2d(1.5)


def test_upsample_layers():
    x = cr.arange(4.0).reshape(1, 1, 2, 2)
    y = nn.Upsample(scale_factor=2)(x).numpy()[0, 0]
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x.numpy()[0, 0], 2, 0), 2, 1))
    z = nn.UpsamplingBilinear2d(size=(3, 3))(x).numpy()[0, 0]  # align_corners: exact midpoints
    np.testing.assert_allclose(z, [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)


def test_max_pool_routes_infinite_gradients_only_to_the_maximum():
    """An inf upstream gradient must not become NaN at the non-maximal elements (inf * 0)."""
    x = _t(np.random.default_rng(11).permutation(25).reshape(1, 1, 5, 5), True)
    out = F.max_pool2d(x, 3, stride=1, padding=1)
    out.backward(cr.full(tuple(out.shape), float("inf"), dtype=cr.float64))
    g = x.grad.numpy()
    assert not np.isnan(g).any()
    _, idx = F.max_pool2d(x.detach(), 3, stride=1, padding=1, return_indices=True)
    chosen = np.zeros(25, bool)
    chosen[idx.numpy().ravel()] = True
    assert np.all(np.isinf(g.ravel()) == chosen)


def test_dropout2d_3d_input_follows_pytorch_reading():
    x = cr.ones(8, 16, 5)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        y = F.dropout2d(x, 0.5).numpy()
    assert np.all((y == 0).all(-1) | (y == 2.0).all(-1))  # whole (n, c) rows
    z = F.dropout1d(cr.ones(16, 5), 0.5).numpy()  # unbatched (C, L): whole channels
    assert np.all((z == 0).all(-1) | (z == 2.0).all(-1))
