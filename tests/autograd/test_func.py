"""chainrule.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func


def _t(a):
    return cr.tensor(np.asarray(a, dtype=np.float64))


def test_grad_matches_formula_and_is_detached():
    x = _t([0.1, -0.4, 2.0])
    g = func.grad(lambda x: (x.sin() * x).sum())(x)
    xn = x.numpy()
    np.testing.assert_allclose(g.numpy(), np.cos(xn) * xn + np.sin(xn))
    assert g.grad_fn is None and not g.requires_grad


def test_nested_grad_gives_higher_derivatives():
    x = _t(0.5)
    d1 = func.grad(lambda x: x ** 4)
    d2 = func.grad(d1)
    d3 = func.grad(d2)
    assert d2(x).item() == pytest.approx(12 * 0.25)
    assert d3(x).item() == pytest.approx(24 * 0.5)


def test_argnums_and_has_aux():
    a, b = _t(2.0), _t(3.0)
    ga, gb = func.grad(lambda a, b: a * b ** 2, argnums=(0, 1))(a, b)
    assert (ga.item(), gb.item()) == (9.0, 12.0)
    g, aux = func.grad(lambda a: (a ** 2, "note"), has_aux=True)(a)
    assert g.item() == 4.0 and aux == "note"
    g, v = func.grad_and_value(lambda a: a ** 3)(a)
    assert (g.item(), v.item()) == (12.0, 8.0)


def test_grad_rejects_non_scalar():
    with pytest.raises(RuntimeError, match="scalar"):
        func.grad(lambda x: x * 2)(_t([1.0, 2.0]))


def test_vjp_jvp_jacrev_jacfwd_agree():
    x = _t([0.3, 0.9, -0.5])
    f = lambda x: (x.exp() * x.sum()).tanh()
    J = func.jacrev(f)(x).numpy()
    np.testing.assert_allclose(func.jacfwd(f)(x).numpy(), J, rtol=1e-10)
    v = _t([1.0, 2.0, -1.0])
    out, vjp_fn = func.vjp(f, x)
    (g,) = vjp_fn(v)
    np.testing.assert_allclose(g.numpy(), v.numpy() @ J, rtol=1e-10)
    out2, t = func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(t.numpy(), J @ v.numpy(), rtol=1e-10)
    np.testing.assert_allclose(out.numpy(), out2.numpy())


def test_hessian_forward_over_reverse():
    x = _t([0.2, -0.7])
    f = lambda x: x[0] ** 2 * x[1] + x[1].sin()
    H = func.hessian(f)(x).numpy()
    a, b = x.numpy()
    expected = np.array([[2 * b, 2 * a], [2 * a, -np.sin(b)]])
    np.testing.assert_allclose(H, expected, atol=1e-12)


def test_vmap_loops_over_batch():
    X = _t(np.arange(12.0).reshape(4, 3))
    out = func.vmap(lambda r: (r * r).sum())(X)
    np.testing.assert_array_equal(out.numpy(), (X.numpy() ** 2).sum(1))
    per_example = func.vmap(func.grad(lambda r: (r ** 3).sum()))(X)
    np.testing.assert_allclose(per_example.numpy(), 3 * X.numpy() ** 2)
