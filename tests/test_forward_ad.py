"""Forward-mode AD (``chainrule.autograd.forward_ad``): dual tensors and their tangents."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD


def _f64(a):
    return cr.tensor(a, dtype=cr.float64)


def test_make_dual_and_unpack_dual():
    with fwAD.dual_level():
        x = fwAD.make_dual(_f64([1.0, 2.0]), _f64([0.5, -1.0]))
        primal, tangent = fwAD.unpack_dual(x)
        assert primal.tolist() == [1.0, 2.0] and tangent.tolist() == [0.5, -1.0]
        y = x * x + 3 * x
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   (2 * np.array([1.0, 2.0]) + 3) * [0.5, -1.0])
        assert fwAD.unpack_dual(_f64([1.0])).tangent is None  # not a dual
    assert fwAD.unpack_dual(y).tangent is None  # tangents are dropped when the level exits


def test_non_dual_inputs_contribute_no_tangent():
    w = _f64([[1.0, 2.0], [3.0, 4.0]])
    with fwAD.dual_level():
        x = fwAD.make_dual(_f64([1.0, -1.0]), _f64([1.0, 0.0]))
        y = (w @ x).tanh()
        t = fwAD.unpack_dual(y).tangent.numpy()
    z = w.numpy() @ np.array([1.0, -1.0])
    np.testing.assert_allclose(t, (1 - np.tanh(z) ** 2) * (w.numpy() @ [1.0, 0.0]))


def test_jacobian_columns_by_forward_mode_equal_rows_by_reverse_mode():
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))

    def f(x):
        return cr.from_numpy(w2) @ (cr.from_numpy(w1) @ x).sigmoid()

    x0 = rng.standard_normal(3)
    cols = []
    with fwAD.dual_level():
        for e in np.eye(3):
            cols.append(fwAD.unpack_dual(f(fwAD.make_dual(_f64(x0), _f64(e)))).tangent.numpy())
    jac_fwd = np.stack(cols, axis=1)
    x = cr.tensor(x0, requires_grad=True)
    y = f(x)
    jac_rev = np.stack([cr.autograd.grad(y[i], x, retain_graph=True)[0].numpy()
                        for i in range(2)])
    np.testing.assert_allclose(jac_fwd, jac_rev, rtol=1e-12)


def test_two_dual_inputs_add_their_contributions():
    with fwAD.dual_level():
        x = fwAD.make_dual(_f64(2.0), _f64(1.0))
        y = fwAD.make_dual(_f64(3.0), _f64(10.0))
        z = x * y + x / y
        # dz = (y + 1/y) dx + (x - x / y^2) dy
        expected = (3 + 1 / 3) * 1.0 + (2 - 2 / 9) * 10.0
        assert fwAD.unpack_dual(z).tangent.item() == pytest.approx(expected, rel=1e-12)


def test_float32_tangents_stay_float32():
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 1.0]))
        t = fwAD.unpack_dual(x.exp().sum()).tangent
    assert t.dtype == cr.float32
    assert t.item() == pytest.approx(np.exp(1.0) + np.exp(2.0), rel=1e-6)


def test_dual_of_a_leaf_that_requires_grad_keeps_reverse_mode():
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(w, _f64([1.0, 0.0]))
        y = (x ** 2).sum()
        assert fwAD.unpack_dual(y).tangent.item() == 2.0
        y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_forward_mode_errors():
    with pytest.raises(RuntimeError, match=r"make_dual: must be called inside `with "
                                           r"forward_ad.dual_level\(\):`"):
        fwAD.make_dual(_f64([1.0]), _f64([1.0]))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"make_dual: expected tangent of shape \(2,\) to "
                                               r"match the primal, got \(3,\)"):
            fwAD.make_dual(_f64([1.0, 2.0]), _f64([1.0, 2.0, 3.0]))
        with pytest.raises(RuntimeError, match="make_dual: expected a floating primal"):
            fwAD.make_dual(cr.tensor([1, 2]), cr.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="nested dual levels are not supported"):
            with fwAD.dual_level():
                pass
