"""Activations: values against NumPy formulas, float64 gradcheck, kinks and extreme values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck


def _sig(z):
    return 1 / (1 + np.exp(-z))


_ERF = np.vectorize(math.erf)

# name: (module, NumPy reference)
TABLE = {
    "step": (nn.Step(), lambda z: np.where(z > 0, 1.0, np.where(z < 0, 0.0, 0.5))),
    "sign": (nn.Sign(), np.sign),
    "piecewise": (nn.PiecewiseLinear(), lambda z: np.clip(z + 0.5, 0, 1)),
    "sigmoid": (nn.Sigmoid(), _sig),
    "tanh": (nn.Tanh(), np.tanh),
    "relu": (nn.ReLU(), lambda z: np.maximum(z, 0)),
    "leaky": (nn.LeakyReLU(0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    "softplus": (nn.Softplus(beta=2, threshold=10), lambda z: np.where(
        2 * z > 10, z, np.log1p(np.exp(np.minimum(2 * z, 10))) / 2)),
    "elu": (nn.ELU(0.5), lambda z: np.where(z > 0, z, 0.5 * np.expm1(np.minimum(z, 0)))),
    "selu": (nn.SELU(), lambda z: 1.0507009873554805 * np.where(
        z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0)))),
    "celu": (nn.CELU(2.0), lambda z: np.maximum(z, 0) + np.minimum(0, 2 * np.expm1(z / 2))),
    "silu": (nn.SiLU(), lambda z: z * _sig(z)),
    "eswish": (nn.ESwish(1.5), lambda z: 1.5 * z * _sig(z)),
    "gelu": (nn.GELU(), lambda z: 0.5 * z * (1 + _ERF(z / np.sqrt(2)))),
    "gelu_tanh": (nn.GELU("tanh"), lambda z: 0.5 * z * (1 + np.tanh(
        np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))),
    "mish": (nn.Mish(), lambda z: z * np.tanh(np.log1p(np.exp(z)))),
    "hardtanh": (nn.Hardtanh(-2, 1), lambda z: np.clip(z, -2, 1)),
    "relu6": (nn.ReLU6(), lambda z: np.clip(z, 0, 6)),
    "hardsigmoid": (nn.Hardsigmoid(), lambda z: np.clip(z + 3, 0, 6) / 6),
    "hardswish": (nn.Hardswish(), lambda z: z * np.clip(z + 3, 0, 6) / 6),
    "logsigmoid": (nn.LogSigmoid(), lambda z: np.log(_sig(z))),
    "threshold": (nn.Threshold(0.5, -1.0), lambda z: np.where(z > 0.5, z, -1.0)),
    "softsign": (nn.Softsign(), lambda z: z / (1 + np.abs(z))),
    "tanhshrink": (nn.Tanhshrink(), lambda z: z - np.tanh(z)),
    "softshrink": (nn.Softshrink(0.5), lambda z: np.where(
        z > 0.5, z - 0.5, np.where(z < -0.5, z + 0.5, 0.0))),
    "hardshrink": (nn.Hardshrink(0.5), lambda z: np.where(np.abs(z) > 0.5, z, 0.0)),
}
# points where a function has a kink / jump: keep finite differences away from them
KINKS = {"step": [0], "sign": [0], "piecewise": [-0.5, 0.5], "relu": [0], "leaky": [0],
         "hardtanh": [-2, 1], "relu6": [0, 6], "hardsigmoid": [-3, 3], "hardswish": [-3, 3],
         "threshold": [0.5], "softshrink": [-0.5, 0.5], "hardshrink": [-0.5, 0.5],
         "softplus": [5], "elu": [0], "selu": [0], "celu": [0]}


def _points(name):
    z = np.random.default_rng(0).uniform(-7, 7, size=(5, 6))
    for k in KINKS.get(name, []):
        z[np.abs(z - k) < 1e-3] += 0.01
    return z


@pytest.mark.parametrize("name", sorted(TABLE))
def test_activation_values(name):
    module, ref = TABLE[name]
    z = _points(name)
    z[0, :3] = [0.0, -0.5, 0.5]
    out = module(cr.tensor(z))
    np.testing.assert_allclose(out.numpy(), ref(z), rtol=1e-12, atol=1e-12)
    assert tuple(out.shape) == z.shape


@pytest.mark.parametrize("name", sorted(TABLE))
def test_activation_gradcheck(name):
    module, _ = TABLE[name]
    x = cr.tensor(_points(name), requires_grad=True)
    assert gradcheck(module, (x,), eps=1e-6, atol=1e-6)


def test_float32_stays_float32():
    x = cr.randn(4, 5)
    for name, (module, _) in TABLE.items():
        assert module(x).dtype == cr.float32, name


def test_step_and_sign_have_zero_gradient():
    x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.step(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert F.step(x).tolist() == [0.0, 0.5, 1.0]


def test_relu_gradient_is_zero_at_zero():
    x = cr.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    nn.ReLU()(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_logsigmoid_softplus_extremes_float32():
    x = cr.tensor([-300.0, 300.0, -1e4, 1e4], requires_grad=True)
    y = F.logsigmoid(x)
    assert y.dtype == cr.float32
    np.testing.assert_allclose(y.detach().numpy(), [-300.0, 0.0, -1e4, 0.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 1.0, 0.0])
    s = F.softplus(x)
    np.testing.assert_allclose(s.detach().numpy(), [0.0, 300.0, 0.0, 1e4])
    for fn in (F.elu, F.selu, F.celu, F.mish, F.silu, F.gelu, F.sigmoid, F.tanh):
        x.grad = None
        out = fn(x)
        out.sum().backward()
        assert np.isfinite(out.detach().numpy()).all(), fn.__name__
        assert np.isfinite(x.grad.numpy()).all(), fn.__name__


def test_erf_accuracy_and_symmetry():
    z = np.linspace(-8, 8, 4001)
    out = F.erf(cr.tensor(z)).numpy()
    np.testing.assert_allclose(out, _ERF(z), rtol=0, atol=3e-15)
    out32 = F.erf(cr.tensor(z, dtype=cr.float32)).numpy()
    np.testing.assert_allclose(out32, _ERF(z.astype(np.float32)), atol=2e-7)


def test_softmax_modules_and_jacobian():
    z = np.random.default_rng(0).normal(size=(3, 4))
    e = np.exp(z - z.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim=1)(cr.tensor(z)).numpy(), sm, rtol=1e-12)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(cr.tensor(z)).numpy(), np.log(sm),
                               rtol=1e-12)
    e2 = np.exp(-z - (-z).max(1, keepdims=True))
    np.testing.assert_allclose(nn.Softmin(dim=1)(cr.tensor(z)).numpy(),
                               e2 / e2.sum(1, keepdims=True), rtol=1e-12)
    # the softmax Jacobian y_i (delta_ij - y_j)
    x = cr.tensor(z[0], requires_grad=True)
    y = F.softmax(x, dim=0)
    jac = np.stack([cr.autograd.grad(y[i], x, retain_graph=True)[0].numpy() for i in range(4)])
    s = sm[0]
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), atol=1e-12)


def test_maxout_picks_the_best_piece_and_routes_gradient():
    m = nn.Maxout(3, 2, pieces=4).double()
    x = cr.tensor(np.random.default_rng(0).normal(size=(5, 3)), requires_grad=True)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    z = (x.detach().numpy() @ w.T + b).reshape(5, 2, 4)
    np.testing.assert_allclose(m(x).detach().numpy(), z.max(-1), rtol=1e-12)
    assert gradcheck(m, (x,))
    m.zero_grad()
    m(x).sum().backward()
    winners = z.argmax(-1)  # (5, 2): the gradient of b reaches exactly the winning pieces
    counts = np.zeros(8)
    for j in range(2):
        np.add.at(counts, j * 4 + winners[:, j], 1)
    np.testing.assert_allclose(m.bias.grad.numpy(), counts)
    assert repr(m) == "Maxout(in_features=3, out_features=2, pieces=4, bias=True)"


def test_activation_reprs_and_bad_arguments():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert nn.ESwish().beta == 1.375
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="pieces"):
        nn.Maxout(2, 2, 0)
