"""The course's worked examples, each checked against its hand-derived formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD


@pytest.mark.parametrize("x0", [0.3, -1.1, 2.0])
def test_composite_cos_sin_square_reverse_and_forward(x0):
    """J = cos(sin(x^2) + 3x^2);  dJ/dx = -sin(u) (2x cos(x^2) + 6x),  u = sin(x^2) + 3x^2."""
    u = math.sin(x0 ** 2) + 3 * x0 ** 2
    expected_j = math.cos(u)
    expected_dj = -math.sin(u) * (2 * x0 * math.cos(x0 ** 2) + 6 * x0)

    x = cr.tensor(x0, dtype=cr.float64, requires_grad=True)
    j = cr.cos(cr.sin(x ** 2) + 3 * x ** 2)
    j.backward()
    assert j.item() == pytest.approx(expected_j, rel=1e-12)
    assert x.grad.item() == pytest.approx(expected_dj, rel=1e-12)

    with fwAD.dual_level():
        xd = fwAD.make_dual(cr.tensor(x0, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64))
        jd = cr.cos(cr.sin(xd ** 2) + 3 * xd ** 2)
        assert fwAD.unpack_dual(jd).tangent.item() == pytest.approx(expected_dj, rel=1e-12)


DL_DW = -3 * math.exp(-9) / (1 + math.exp(-9))


def test_logistic_loss_table_value():
    """The hand-computed number itself: dL/dw = -3e^-9/(1+e^-9) = -0.000370183728..."""
    assert DL_DW == pytest.approx(-0.000370183728, abs=1e-12)


def _loss(w, x, y):
    return -y * cr.log(cr.sigmoid(w * x))


def test_logistic_loss_gradient_by_reverse_mode():
    """L = -y log sigmoid(w x) at w = x = 3, y = 1."""
    w = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    loss = _loss(w, cr.tensor(3.0, dtype=cr.float64), 1.0)
    loss.backward()
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-9)), rel=1e-12)
    assert w.grad.item() == pytest.approx(DL_DW, rel=1e-10)


def test_logistic_loss_gradient_by_forward_mode():
    """The forward-mode table: seed w_dot = 1 and read L_dot."""
    with fwAD.dual_level():
        w = fwAD.make_dual(cr.tensor(3.0, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64))
        loss = _loss(w, cr.tensor(3.0, dtype=cr.float64), 1.0)
        assert fwAD.unpack_dual(loss).tangent.item() == pytest.approx(DL_DW, rel=1e-10)


def test_logistic_loss_gradient_in_float32():
    w = cr.tensor(3.0, requires_grad=True)
    _loss(w, cr.tensor(3.0), 1.0).backward()
    assert w.grad.dtype == cr.float32
    # 1 - sigmoid(9) in float32 keeps ~4 digits (PyTorch gives the same -0.00037014484)
    assert w.grad.item() == pytest.approx(DL_DW, rel=1e-3)


def _bce(p, y):
    return -(y * cr.log(p) + (1 - y) * cr.log(1 - p))


def test_case1_logistic_regression_gradient():
    """p = sigmoid(w.x + b), BCE loss:  dL/dw = (p - y) x,  dL/db = p - y."""
    rng = np.random.default_rng(1)
    x_np, w_np, b_np = rng.standard_normal(5), rng.standard_normal(5), 0.3
    for y_np in (0.0, 1.0):
        w = cr.tensor(w_np, requires_grad=True, dtype=cr.float64)
        b = cr.tensor(b_np, requires_grad=True, dtype=cr.float64)
        p = cr.sigmoid(cr.dot(w, cr.from_numpy(x_np)) + b)
        _bce(p, y_np).backward()
        p_np = 1 / (1 + np.exp(-(w_np @ x_np + b_np)))
        np.testing.assert_allclose(w.grad.numpy(), (p_np - y_np) * x_np, rtol=1e-10)
        assert b.grad.item() == pytest.approx(p_np - y_np, rel=1e-10)


def test_case2_two_layer_sigmoid_network_gradients():
    """h = sigmoid(W1 x + b1), p = sigmoid(w2.h + b2), delta2 = p - y:
    dL/dw2 = delta2 h, dL/db2 = delta2, dL/dW1 = (delta2 w2 * h(1-h)) x^T,
    dL/db1 = delta2 w2 * h(1-h)."""
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal(4)
    W1_np, b1_np = rng.standard_normal((3, 4)), rng.standard_normal(3)
    w2_np, b2_np, y = rng.standard_normal(3), 0.1, 1.0

    W1, b1, w2, b2 = (cr.tensor(a, dtype=cr.float64, requires_grad=True)
                      for a in (W1_np, b1_np, w2_np, b2_np))
    h = cr.sigmoid(W1 @ cr.from_numpy(x_np) + b1)
    p = cr.sigmoid(cr.dot(w2, h) + b2)
    _bce(p, y).backward()

    h_np = 1 / (1 + np.exp(-(W1_np @ x_np + b1_np)))
    p_np = 1 / (1 + np.exp(-(w2_np @ h_np + b2_np)))
    delta2 = p_np - y
    delta1 = delta2 * w2_np * h_np * (1 - h_np)
    np.testing.assert_allclose(w2.grad.numpy(), delta2 * h_np, rtol=1e-10)
    assert b2.grad.item() == pytest.approx(delta2, rel=1e-10)
    np.testing.assert_allclose(W1.grad.numpy(), np.outer(delta1, x_np), rtol=1e-10)
    np.testing.assert_allclose(b1.grad.numpy(), delta1, rtol=1e-10)


def test_softmax_jacobian_is_diag_y_minus_y_yT():
    """dy_i/dz_j = y_i (delta_ij - y_j): rows by reverse mode, columns by forward mode."""
    z_np = np.array([0.5, -1.0, 2.0, 0.1])
    n = z_np.size
    y_np = np.exp(z_np) / np.exp(z_np).sum()
    expected = np.diag(y_np) - np.outer(y_np, y_np)

    z = cr.tensor(z_np, requires_grad=True)
    y = cr.softmax(z, 0)
    rows = [cr.autograd.grad(y[i], z, retain_graph=True)[0].numpy() for i in range(n)]
    np.testing.assert_allclose(np.stack(rows), expected, atol=1e-15)

    cols = []
    with fwAD.dual_level():
        for j in range(n):
            zd = fwAD.make_dual(cr.tensor(z_np), cr.from_numpy(np.eye(n)[j]))
            cols.append(fwAD.unpack_dual(cr.softmax(zd, 0)).tangent.numpy())
    np.testing.assert_allclose(np.stack(cols, axis=1), expected, atol=1e-15)
