"""stationary_point and Lanczos: verdicts from the optimality conditions; eigenvalues vs numpy."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.diagnostics import hessian_eigenvalues, lanczos, stationary_point


def _pt(*v):
    return cr.tensor(list(v), dtype=cr.float64)


@pytest.mark.parametrize("f, verdict, lo, hi", [
    (lambda x: (x ** 2).sum(), "minimum", 2.0, 2.0),
    (lambda x: x[0] ** 2 - x[1] ** 2, "saddle", -2.0, 2.0),
    (lambda x: -(x ** 2).sum(), "maximum", -2.0, -2.0),
    (lambda x: x[0] ** 4 + x[1] ** 2, "degenerate", 0.0, 2.0),
])
def test_verdicts_at_the_origin(f, verdict, lo, hi):
    r = stationary_point(f, _pt(0.0, 0.0))
    assert r.verdict == verdict
    assert r.grad_norm == 0.0
    assert r.min_eigenvalue == pytest.approx(lo, abs=1e-9)
    assert r.max_eigenvalue == pytest.approx(hi, abs=1e-9)
    assert verdict in str(r)


def test_not_stationary_reports_gradient_norm():
    # f = x^2 + y^2 at (1, 2): grad = (2, 4)
    r = stationary_point(lambda x: (x ** 2).sum(), _pt(1.0, 2.0))
    assert r.verdict == "not stationary"
    assert r.grad_norm == pytest.approx(np.sqrt(20.0))


def test_closure_over_several_parameters():
    a = cr.tensor(0.0, dtype=cr.float64, requires_grad=True)
    b = cr.tensor([0.0, 0.0], dtype=cr.float64, requires_grad=True)
    r = stationary_point(lambda: a ** 2 + (b ** 2).sum() - 3 * a * b[0], [a, b])
    # H = [[2, -3, 0], [-3, 2, 0], [0, 0, 2]]: eigenvalues -1, 2, 5
    assert r.verdict == "saddle"
    np.testing.assert_allclose(r.eigenvalues, [-1.0, 2.0, 5.0], atol=1e-10)


def _net_loss(theta, X, y, n_in, n_hid):
    w1 = theta[: n_in * n_hid].reshape(n_hid, n_in)
    b1 = theta[n_in * n_hid: n_in * n_hid + n_hid]
    w2 = theta[n_in * n_hid + n_hid:]
    return ((cr.tanh(X @ w1.T + b1) @ w2 - y) ** 2).mean()


def test_lanczos_matches_eigvalsh_of_explicit_hessian_on_a_small_network():
    rng = np.random.default_rng(0)
    n_in, n_hid = 3, 4
    n = n_in * n_hid + 2 * n_hid
    X = cr.tensor(rng.standard_normal((20, n_in)))
    y = cr.tensor(rng.standard_normal(20))
    theta = cr.tensor(rng.standard_normal(n))
    f = lambda t: _net_loss(t, X, y, n_in, n_hid)
    H = cr.autograd.functional.hessian(f, theta).numpy()
    expected = np.linalg.eigvalsh(H)
    ritz = hessian_eigenvalues(f, theta)  # n steps: the whole spectrum
    np.testing.assert_allclose(ritz, expected, rtol=1e-8, atol=1e-10)
    # a few steps already give the extreme eigenvalues
    few = hessian_eigenvalues(f, theta, steps=12)
    assert few[0] == pytest.approx(expected[0], rel=1e-4, abs=1e-6)
    assert few[-1] == pytest.approx(expected[-1], rel=1e-4)
    r = stationary_point(f, theta, steps=n)
    assert r.min_eigenvalue == pytest.approx(expected[0], rel=1e-8, abs=1e-10)
    assert r.max_eigenvalue == pytest.approx(expected[-1], rel=1e-8)
    np.testing.assert_allclose(hessian_eigenvalues(f, theta, method="exact"), expected,
                               rtol=1e-8, atol=1e-10)


def test_lanczos_repeated_eigenvalues_and_breakdown():
    A = np.diag([1.0, 1.0, 1.0, 5.0, -2.0])
    ritz = lanczos(lambda v: A @ v, 5)
    np.testing.assert_allclose(ritz, np.sort(np.diag(A)), atol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="scalar"):
        stationary_point(lambda x: x * 2, _pt(1.0, 2.0))
    with pytest.raises(TypeError, match="params"):
        stationary_point(lambda x: x, [1.0])
    with pytest.raises(ValueError, match="method"):
        stationary_point(lambda x: (x ** 2).sum(), _pt(0.0), method="power")
