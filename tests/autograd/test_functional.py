"""autograd.functional: jacobian (both strategies), hessian, vjp, jvp, hvp, vhp."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as F
from tests.conftest import numeric_grad


def _t(a):
    return cr.tensor(np.asarray(a, dtype=np.float64))


def _mlp(params_np):
    """A small two-layer tanh network's loss as a function of a flat parameter vector."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 1))

    def loss(w):
        W1 = w[:6].reshape(3, 2)
        W2 = w[6:8].reshape(2, 1)
        h = (cr.tensor(X) @ W1).tanh()
        return ((h @ W2 - cr.tensor(y)) ** 2).mean()

    def loss_np(w):
        h = np.tanh(X @ w[:6].reshape(3, 2))
        return float(np.mean((h @ w[6:8].reshape(2, 1) - y) ** 2))

    return loss, loss_np


def test_jacobian_reverse_and_forward_match_analytic():
    x = _t([0.3, -1.2, 2.0])
    f = lambda x: x.exp() * x.sum()
    expected = np.diag(np.exp(x.numpy())) * x.numpy().sum() + np.exp(x.numpy())[:, None]
    J_rev = F.jacobian(f, x)
    J_fwd = F.jacobian(f, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(J_rev.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(J_fwd.numpy(), expected, rtol=1e-12)
    assert J_rev.grad_fn is None


def test_jacobian_tuple_inputs_and_outputs_shapes():
    a, b = _t(np.ones((2, 3))), _t(np.ones(4))
    J = F.jacobian(lambda a, b: (a.sum(1), b * 2), (a, b))
    assert J[0][0].shape == (2, 2, 3) and J[0][1].shape == (2, 4)
    assert J[1][0].shape == (4, 2, 3) and J[1][1].shape == (4, 4)
    np.testing.assert_array_equal(J[1][1].numpy(), 2 * np.eye(4))
    np.testing.assert_array_equal(J[0][1].numpy(), np.zeros((2, 4)))


def test_forward_mode_requires_vectorize():
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        F.jacobian(lambda x: x, _t([1.0]), strategy="forward-mode")


def test_hessian_of_two_layer_network_matches_finite_differences():
    loss, loss_np = _mlp(None)
    w = np.random.default_rng(2).standard_normal(8) * 0.5
    H = F.hessian(loss, _t(w)).numpy()
    H_fd = np.stack([numeric_grad(lambda v, i=i: numeric_grad(loss_np, v)[i], w, eps=1e-4)
                     for i in range(8)])
    np.testing.assert_allclose(H, H_fd, atol=1e-5)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_hvp_vhp_equal_hessian_times_vector():
    loss, _ = _mlp(None)
    w = _t(np.random.default_rng(3).standard_normal(8))
    v = _t(np.random.default_rng(4).standard_normal(8))
    H = F.hessian(loss, w).numpy()
    value, hv = F.hvp(loss, w, v)
    _, vh = F.vhp(loss, w, v)
    np.testing.assert_allclose(hv.numpy(), H @ v.numpy(), atol=1e-10)
    np.testing.assert_allclose(vh.numpy(), v.numpy() @ H, atol=1e-10)
    np.testing.assert_allclose(value.item(), loss(w).item())


def test_vjp_and_jvp():
    x = _t([0.5, 1.5])
    v = _t([1.0, -2.0])
    out, g = F.vjp(lambda x: x.sin() * 3, x, v)
    np.testing.assert_allclose(g.numpy(), 3 * np.cos(x.numpy()) * v.numpy())
    out, t = F.jvp(lambda x: x.sin() * 3, x, v)
    np.testing.assert_allclose(t.numpy(), 3 * np.cos(x.numpy()) * v.numpy())
    np.testing.assert_allclose(out.numpy(), 3 * np.sin(x.numpy()))


def test_create_graph_allows_differentiating_the_jacobian():
    x = _t([0.7]).requires_grad_()
    J = F.jacobian(lambda x: x ** 3, x, create_graph=True)
    (J.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * 0.7)
