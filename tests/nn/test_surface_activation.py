"""torch.nn surface: PReLU, GLU, RReLU, Softmax2d, gumbel_softmax and the in-place functional
aliases against PyTorch (float64 values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import close, compare, compare_module


@pytest.mark.parametrize("num,shape", [(1, (5, 3)), (3, (4, 3, 2, 2)), (3, (2, 3)), (1, (7,))])
def test_prelu_module(torch, num, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    x.flat[0] = 0.0  # the kink: the gradient there is the slope, as PyTorch
    tm = torch.nn.PReLU(num, init=0.1)
    with torch.no_grad():
        tm.weight.uniform_(-0.5, 0.5)
    compare_module(torch, nn.PReLU(num, init=0.1), tm, [x])
    assert repr(nn.PReLU(num)) == repr(torch.nn.PReLU(num))


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="channel size"):
        F.prelu(cr.randn(2, 4), cr.ones(3))


@pytest.mark.parametrize("dim,shape", [(-1, (3, 4)), (0, (6, 2)), (1, (2, 4, 3))])
def test_glu(torch, dim, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    compare(torch, lambda a: F.glu(a, dim), lambda a: torch.nn.functional.glu(a, dim), [x])
    compare(torch, nn.GLU(dim), torch.nn.GLU(dim), [x])
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(cr.randn(3, 3))


def test_rrelu_eval_matches_torch_and_training_is_random_in_range(torch):
    x = np.random.default_rng(2).standard_normal((50, 40))
    compare(torch, lambda a: F.rrelu(a, 0.1, 0.3), lambda a: torch.nn.functional.rrelu(a, 0.1, 0.3),
            [x])
    m = nn.RReLU(0.1, 0.3)
    assert repr(m) == repr(torch.nn.RReLU(0.1, 0.3))
    xc = cr.tensor(x, requires_grad=True)
    y = m(xc)
    y.sum().backward()
    neg = x < 0
    slope = y.detach().numpy()[neg] / x[neg]
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.03
    np.testing.assert_allclose(xc.grad.numpy()[neg], slope)  # gradient is the drawn slope
    np.testing.assert_array_equal(xc.grad.numpy()[~neg], 1.0)


def test_softmax2d(torch):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    compare(torch, nn.Softmax2d(), torch.nn.Softmax2d(), [x])
    compare(torch, nn.Softmax2d(), torch.nn.Softmax2d(), [x[0]])
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(cr.randn(2, 3))


@pytest.mark.parametrize("name,args", [
    ("relu_", ()), ("elu_", (0.7,)), ("celu_", (1.3,)), ("selu_", ()), ("leaky_relu_", (0.2,)),
    ("hardtanh_", (-0.5, 0.7)), ("threshold_", (0.1, -3.0)), ("rrelu_", (0.1, 0.4)),
])
def test_inplace_functional_aliases(torch, name, args):
    x = np.random.default_rng(4).standard_normal((4, 5))

    def run(lib, fn):
        def f(a):
            b = a * 1.0
            out = fn(b, *args)
            assert out is b  # written in place and returned
            return b
        return f

    tol = 1e-6 if name == "celu_" else 1e-10  # PyTorch's CELU backward uses a float32 1/alpha
    compare(torch, run(cr, getattr(F, name)), run(torch, getattr(torch.nn.functional, name)),
            [x], tol=tol)


def test_gumbel_softmax():
    cr.manual_seed(0)
    logits = cr.tensor(np.log([[0.7, 0.2, 0.1]]).repeat(4000, 0), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    close(soft.sum(-1), np.ones(4000))
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(-1) == 1).all()
    freq = h.mean(0)  # the Gumbel-max trick samples the categorical distribution
    np.testing.assert_allclose(freq, [0.7, 0.2, 0.1], atol=0.03)
    (hard * cr.tensor([1.0, 2.0, 3.0])).sum().backward()  # straight-through: soft's gradient
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


@pytest.mark.parametrize("make", [
    lambda m: m.LeakyReLU(0.2, inplace=True), lambda m: m.ELU(inplace=True),
    lambda m: m.Hardtanh(inplace=True), lambda m: m.SiLU(inplace=True),
    lambda m: m.Hardswish(inplace=True), lambda m: m.ReLU6(inplace=True),
])
def test_inplace_activation_modules_backprop_like_torch(torch, make):
    # DCGAN-style nn.LeakyReLU(0.2, inplace=True) after a layer: the graph stays valid
    x = np.random.default_rng(5).standard_normal((3, 4)) * 3
    compare(torch, lambda a: make(nn)(a * 2.0), lambda a: make(torch.nn)(a * 2.0), [x])
