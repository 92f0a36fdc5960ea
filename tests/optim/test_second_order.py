"""Newton, BFGS, L-BFGS and the line searches."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim._line_search import armijo_backtracking, cubic_interpolate, strong_wolfe


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def make_closure(opt, f, w, backward=True):
    def closure():
        opt.zero_grad()
        loss = f(w)
        if backward:
            loss.backward()
        return loss
    return closure


def test_newton_solves_a_convex_quadratic_in_one_step():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + 4 * np.eye(4)
    b = rng.normal(size=4)
    w = cr.tensor(rng.normal(size=(2, 2)), dtype=cr.float64, requires_grad=True)
    v = cr.tensor([0.5], dtype=cr.float64, requires_grad=True)  # a second parameter
    At, bt = cr.tensor(A), cr.tensor(b)

    def f(_):
        x = cr.cat([w.reshape(-1)[:3], v])
        return 0.5 * (x @ (At @ x)) - bt @ x + (w.reshape(-1)[3] - 2.0) ** 2

    opt = optim.Newton([w, v], damping=0.0)
    opt.step(make_closure(opt, f, None, backward=False))
    x = np.r_[w._data.reshape(-1)[:3], v._data]
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-12, atol=1e-12)
    assert w._data.reshape(-1)[3] == pytest.approx(2.0, abs=1e-12)
    # the gradient at the start point was left in .grad
    assert w.grad is not None and not w.grad.requires_grad


def test_newton_hessian_matches_formula():
    w = cr.tensor([0.3, -0.4], dtype=cr.float64, requires_grad=True)
    opt = optim.Newton([w])
    g, H = opt.hessian(rosenbrock(w))
    x, y = 0.3, -0.4
    np.testing.assert_allclose(g, [-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    np.testing.assert_allclose(H, [[2 - 400 * (y - x**2) + 800 * x**2, -400 * x],
                                   [-400 * x, 200]], rtol=1e-12)


def test_newton_with_damping_and_lr():
    A = np.diag([2.0, 8.0])
    w = cr.tensor([1.0, 1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.Newton([w], lr=0.5, damping=1.0)
    opt.step(lambda: 0.5 * (w @ (cr.tensor(A) @ w)))
    g = A @ [1.0, 1.0]
    np.testing.assert_allclose(w._data, 1.0 - 0.5 * np.linalg.solve(A + np.eye(2), g))


def test_newton_errors():
    big = cr.zeros(10_001, requires_grad=True)
    with pytest.raises(ValueError, match="10001 parameters.*LBFGS"):
        optim.Newton([big])
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.Newton([w])
    with pytest.raises(RuntimeError, match="closure is required"):
        opt.step()
    with pytest.raises(RuntimeError, match="without calling loss.backward"):
        opt.step(make_closure(opt, lambda x: (x * x * x).sum(), w))
    with pytest.raises(ValueError, match="damping"):
        optim.Newton([w], damping=-1.0)


@pytest.mark.parametrize("make", [
    lambda p: optim.BFGS(p),
    # the default tolerance_change (1e-9 on the loss and on g.d) stops at ~1e-6 from (1, 1)
    lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe", tolerance_change=1e-15),
], ids=["BFGS", "LBFGS"])
def test_rosenbrock_minimum(make):
    w = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = make([w])
    closure = make_closure(opt, rosenbrock, w)
    for _ in range(100):
        opt.step(closure)
        if np.abs(w._data - 1.0).max() < 1e-7:
            break
    np.testing.assert_allclose(w._data, [1.0, 1.0], atol=1e-6)


def test_bfgs_inverse_hessian_update_formula():
    # two steps on a quadratic without line search: H after the first pair is
    # (I - rho s y^T) H0 (I - rho y s^T) + rho s s^T with H0 = (y.s / y.y) I
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    w = cr.tensor([1.0, -1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.BFGS([w], lr=0.1, line_search_fn=None)
    closure = make_closure(opt, lambda x: 0.5 * (x @ (cr.tensor(A) @ x)), w)
    x0 = w._data.copy()
    opt.step(closure)
    x1 = w._data.copy()
    np.testing.assert_allclose(x1, x0 - 0.1 * min(1, 1 / np.abs(A @ x0).sum()) * (A @ x0))
    opt.step(closure)
    s, y = x1 - x0, A @ x1 - A @ x0
    rho = 1 / (y @ s)
    H0 = (y @ s) / (y @ y) * np.eye(2)
    V = np.eye(2) - rho * np.outer(s, y)
    H = V @ H0 @ V.T + rho * np.outer(s, s)
    np.testing.assert_allclose(opt.state[w]["H"], H, rtol=1e-12)
    np.testing.assert_allclose(w._data, x1 - 0.1 * H @ (A @ x1), rtol=1e-12)


def test_line_search_gd_decreases_monotonically():
    w = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LineSearchGD([w], lr=1.0)
    closure = make_closure(opt, rosenbrock, w)
    losses = [float(rosenbrock(w))]
    for _ in range(50):
        opt.step(closure)
        losses.append(float(rosenbrock(w)))
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 0.1 * losses[0]
    t = opt.state[w]["last_step_size"]
    assert t < 1.0 and np.log2(1.0 / t) == pytest.approx(round(np.log2(1.0 / t)))


def test_line_search_gd_step_satisfies_armijo():
    w = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LineSearchGD([w], lr=1.0, c1=0.3, shrink=0.5)
    x0 = w._data.copy()
    g = np.array([-2 * (1 - x0[0]) - 400 * x0[0] * (x0[1] - x0[0] ** 2),
                  200 * (x0[1] - x0[0] ** 2)])
    opt.step(make_closure(opt, rosenbrock, w))
    t = opt.state[w]["last_step_size"]
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    np.testing.assert_allclose(w._data, x0 - t * g)
    assert f(x0 - t * g) <= f(x0) - 0.3 * t * g @ g  # accepted step: sufficient decrease
    assert f(x0 - 2 * t * g) > f(x0) - 0.3 * 2 * t * g @ g  # the previous trial was rejected


def test_cubic_interpolate_finds_the_cubic_minimum():
    c = lambda x: (x - 1.0) ** 3 - 3 * (x - 1.0) + 2.0  # local minimum at x = 2
    dc = lambda x: 3 * (x - 1.0) ** 2 - 3
    assert cubic_interpolate(1.5, c(1.5), dc(1.5), 3.0, c(3.0), dc(3.0)) == pytest.approx(2.0)
    assert cubic_interpolate(3.0, c(3.0), dc(3.0), 1.5, c(1.5), dc(1.5)) == pytest.approx(2.0)
    # clipped to the bounds
    assert cubic_interpolate(1.5, c(1.5), dc(1.5), 3.0, c(3.0), dc(3.0),
                             bounds=(2.5, 4.0)) == 2.5


def test_strong_wolfe_conditions_hold():
    f = lambda x: float(rosenbrock(x))
    gf = lambda x: np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                             200 * (x[1] - x[0] ** 2)])
    x = np.array([-1.5, 2.0])
    g = gf(x)
    d = -g
    obj = lambda x0, t, dd: (f(x0 + t * dd), gf(x0 + t * dd))
    f_new, g_new, t, _ = strong_wolfe(obj, x, 1e-4, d, f(x), g, float(g @ d))
    assert f_new <= f(x) + 1e-4 * t * (g @ d)
    assert abs(g_new @ d) <= 0.9 * abs(g @ d)
    np.testing.assert_allclose(g_new, gf(x + t * d))


def test_armijo_backtracking_returns_zero_when_nothing_decreases():
    t, f_new, n = armijo_backtracking(lambda t: 5.0, 1.0, 1.0, -1.0, max_steps=4)
    assert (t, f_new, n) == (0.0, 1.0, 4)


def test_lbfgs_fixed_step_counts_evaluations():
    w = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([w], lr=1e-3, max_iter=4)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(w)
        loss.backward()
        return loss

    opt.step(closure)
    assert len(calls) == opt.state[w]["func_evals"] == 4  # the last iteration skips it
    assert opt.state[w]["n_iter"] == 4


def test_lbfgs_rejects_groups_and_bad_line_search():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([a], line_search_fn="backtracking")
