"""Gradients at the special points the op table keeps away from: kinks, ties, bounds, zeros,
and huge magnitudes (each value written from the rule PyTorch documents)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD

# 0 * inf and log(0) along the way are expected here (NumPy warns, PyTorch does not)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _grad(fn, values, dtype=cr.float64):
    x = cr.tensor(values, dtype=dtype, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def _tangent(fn, values, tangent):
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(values, dtype=cr.float64),
                           cr.tensor(tangent, dtype=cr.float64))
        return fwAD.unpack_dual(fn(x)).tangent.numpy()


def test_relu_gradient_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(cr.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_tangent(cr.relu, [-1.0, 0.0, 2.0], [1.0, 1.0, 1.0]),
                                  [0.0, 0.0, 1.0])


def test_relu_backward_selects_like_threshold_backward():
    # PyTorch: grad where out > 0, else 0, as a selection: a NaN/inf gradient at an inactive
    # unit gives 0 (not inf * 0), and a NaN output passes its gradient
    for dtype in (cr.float16, cr.float32, cr.float64):
        x = cr.tensor([-1.0, 0.0, 2.0, float("nan"), -3.0], dtype=dtype, requires_grad=True)
        cr.relu(x).backward(cr.tensor([float("nan"), float("inf"), 1.0, 3.0, -float("inf")],
                                      dtype=dtype))
        np.testing.assert_array_equal(x.grad.numpy(), np.array([0, 0, 1, 3, 0], x.grad.numpy().dtype))
        # larger arrays take the bitwise selection (two ways to build the mask): same rule
        for reps in (1000, 20000):
            x = cr.tensor(np.tile([-1.0, 0.0, 2.0, np.nan, -3.0], reps), dtype=dtype,
                          requires_grad=True)
            cr.relu(x).backward(cr.tensor(np.tile([np.nan, np.inf, 1.0, 3.0, -np.inf], reps),
                                          dtype=dtype))
            np.testing.assert_array_equal(x.grad.numpy(), np.tile([0, 0, 1, 3, 0], reps))


@pytest.mark.parametrize("shape", [(3,), (4096,), (64, 16, 28, 28), (5, 4097), (17, 4099)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_relu_values_at_every_size_and_layout(shape, dtype):
    # large contiguous inputs take rows of 4,096 against a zero row (and the remainder); the
    # rest np.maximum
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    if dtype is not np.int64:
        a.reshape(-1)[:3] = [np.nan, -0.0, np.inf]
    for arr in (a, a.T):
        out = cr.relu(cr.from_numpy(np.ascontiguousarray(arr) if arr is a else arr)).numpy()
        np.testing.assert_array_equal(out, np.maximum(arr, 0))
        assert out.dtype == arr.dtype and not np.signbit(out[out == 0]).any()


def test_relu_double_backward_and_forward_mode():
    x = cr.tensor([-1.0, 0.5, 2.0], dtype=cr.float64, requires_grad=True)
    g = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    (gx,) = cr.autograd.grad(cr.relu(x), x, g, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [0.0, 2.0, 3.0])
    gg, xx = cr.autograd.grad((gx * cr.tensor([5.0, 6.0, 7.0], dtype=cr.float64)).sum(),
                              (g, x), allow_unused=True)
    np.testing.assert_array_equal(gg.numpy(), [0.0, 6.0, 7.0])
    assert xx is None or not xx.numpy().any()
    assert cr.autograd.gradgradcheck(cr.relu, (x,))


def test_abs_and_sign_gradients_at_zero_are_zero():
    np.testing.assert_array_equal(_grad(cr.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(cr.sign, [-2.0, 0.0, 3.0]), [0.0, 0.0, 0.0])


def test_floor_ceil_round_have_zero_gradient_even_at_the_jumps():
    for fn in (cr.floor, cr.ceil, cr.round):
        x = cr.tensor([1.0, 1.5, 2.5, -0.5], dtype=cr.float64, requires_grad=True)
        y = fn(x)
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_amax_and_amin_share_ties_evenly():
    np.testing.assert_allclose(_grad(cr.amax, [1.0, 3.0, 3.0, 3.0]), [0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(_grad(lambda x: x.amin(1), [[2.0, 1.0, 1.0], [0.0, 5.0, 6.0]]),
                               [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_allclose(_grad(cr.max, [3.0, 1.0, 3.0]), [0.5, 0, 0.5])  # whole-tensor max


def test_maximum_and_minimum_split_ties_in_half():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([1.0, 5.0, 3.0], dtype=cr.float64, requires_grad=True)
    cr.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 1.0, 0.5])
    x.grad = y.grad = None
    cr.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1.0, 0.5])


def test_max_dim_gives_the_gradient_to_one_index():
    x = cr.tensor([[2.0, 7.0, 7.0], [4.0, 4.0, 1.0]], dtype=cr.float64, requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    g = x.grad.numpy()
    np.testing.assert_array_equal(g.sum(1), [1.0, 1.0])
    np.testing.assert_array_equal((g != 0).sum(1), [1, 1])
    np.testing.assert_array_equal(g[[0, 1], indices.numpy()], [1.0, 1.0])


def test_clamp_passes_the_gradient_at_the_bounds():
    np.testing.assert_array_equal(_grad(lambda x: x.clamp(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0]),
                                  [0, 1, 1, 1, 0])


def test_norm_gradient_at_zero_is_zero():
    g = _grad(cr.norm, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(_grad(cr.norm, [3.0, 4.0]), [0.6, 0.8])


def test_pow_with_zero_base():
    # d/dx x^2 at 0 is 0; d/dy 0^y is 0 for y >= 0 (not nan from 0 * log 0)
    np.testing.assert_array_equal(_grad(lambda x: x ** 2, [0.0]), [0.0])
    x = cr.tensor([0.0, 0.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([2.0, 0.0, 3.0], dtype=cr.float64, requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 8 * np.log(2)])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 12.0])


def test_sqrt_gradient_at_zero_is_inf():
    assert np.isposinf(_grad(cr.sqrt, [0.0])).all()


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_large_magnitudes_stay_finite(dtype):
    big = [1000.0, -1000.0, 999.0]
    for fn in (lambda x: x.softmax(0), lambda x: x.log_softmax(0),
               lambda x: cr.logsumexp(x, 0), cr.sigmoid, cr.tanh):
        x = cr.tensor(big, dtype=dtype, requires_grad=True)
        y = fn(x)
        assert np.isfinite(y.detach().numpy()).all()
        (y * cr.tensor([1.0, 2.0, 3.0], dtype=dtype)[: y.numel()].reshape(y.shape)).sum().backward()
        assert np.isfinite(x.grad.numpy()).all()
    x = cr.tensor(big, dtype=cr.float64)
    np.testing.assert_allclose(cr.logsumexp(x, 0).item(), 1000 + np.log(1 + np.exp(-1)))
    np.testing.assert_allclose(x.softmax(0).numpy(), [1 / (1 + np.exp(-1)), 0,
                                                      np.exp(-1) / (1 + np.exp(-1))])


def test_exp_of_large_input_saturates_to_inf_like_numpy():
    with np.errstate(over="ignore"):
        assert np.isposinf(cr.exp(cr.tensor([1000.0])).item())


def test_std_of_a_constant_has_zero_gradient():
    x = cr.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], dtype=cr.float64, requires_grad=True)
    s = x.std(1)
    assert s.tolist() == [0.0, 1.0]
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [-0.5, 0, 0.5]])


def test_sigmoid_extremes_and_float16_match_torch(torch):
    import warnings

    vals = np.r_[[-1e4, -100.0, -88.0, -20.0, 0.0, 20.0, 100.0, 1e4],
                 np.random.default_rng(0).standard_normal(2000) * 8]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning, eager or compiled
        for dt in ("float16", "float32", "float64"):
            ours = cr.sigmoid(cr.tensor(vals, dtype=getattr(cr, dt))).numpy()
            theirs = torch.sigmoid(torch.tensor(vals, dtype=getattr(torch, dt))).numpy()
            if dt == "float16":  # computed in float32 and rounded once, as PyTorch
                np.testing.assert_array_equal(ours, theirs)
            else:
                np.testing.assert_allclose(ours, theirs, rtol=4 * np.finfo(dt).eps, atol=1e-37)
        f = cr.compile(lambda x: cr.sigmoid(x) * 2)
        x = cr.tensor([-1e4, 0.0, 3.0])
        for _ in range(3):
            out = f(x)
        np.testing.assert_allclose(out.numpy(), [0.0, 1.0, 2 / (1 + np.exp(-3.0))], rtol=1e-6)
