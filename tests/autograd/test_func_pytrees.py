"""torch.func transforms over pytrees, argnums, has_aux, nesting in any order, modules as
functions — each compared with torch.func."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

RNG = np.random.default_rng(1)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal(4)


def _close(a, b, tol=1e-9):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=tol, atol=tol)


def _tree_close(a, b):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _tree_close(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _tree_close(x, y)
    else:
        _close(a, b)


def model(L, p, x):
    h = (x @ p["w"].T + p["b"]).tanh()
    return (h * p["scale"]).sum(), h


def both(fn):
    """Run fn with (chainrule, chainrule.func) and (torch, torch.func); compare trees."""
    import torch

    _tree_close(fn(cr, func), fn(torch, torch.func))


def _p(L):
    return {"w": L.tensor(A), "b": L.tensor(A[:, 0]), "scale": L.tensor(2.0)}


def test_grad_over_dict_with_aux(torch):
    both(lambda L, F: F.grad(lambda p, x: model(L, p, x), has_aux=True)(_p(L), L.tensor(B)))


def test_grad_tuple_argnums_and_value(torch):
    both(lambda L, F: F.grad_and_value(lambda p, x: model(L, p, x)[0], argnums=(0, 1))(
        _p(L), L.tensor(B)))


def test_vjp_and_jvp_pytrees(torch):
    def f(L, t):
        return {"y": t[0] * t[1].sin(), "z": [t[0].sum()]}

    def run(L, F):
        prim = ((L.tensor(B), L.tensor(B[::-1].copy())),)
        out, fn = F.vjp(lambda t: f(L, t), *prim)
        ct = {"y": L.tensor(B * 3), "z": [L.tensor(1.5)]}
        po, to = F.jvp(lambda t: f(L, t), prim, ((L.tensor(B * 0 + 1), L.tensor(B)),))
        return out, fn(ct), po, to

    both(run)


def test_jacrev_jacfwd_dict_inputs_and_outputs(torch):
    def f(L, p):
        return {"a": (p["u"] * p["v"]).exp(), "b": p["u"].sum() * p["v"]}

    for name in ("jacrev", "jacfwd"):
        both(lambda L, F: getattr(F, name)(lambda p: f(L, p))(
            {"u": L.tensor(B), "v": L.tensor(B + 1)}))


def test_jacobian_chunk_size_and_multiple_argnums(torch):
    f = lambda x, y: (x[:, None] * y[None, :]).sin()  # noqa: E731
    both(lambda L, F: F.jacrev(f, argnums=(0, 1), chunk_size=2)(L.tensor(B), L.tensor(A[0])))
    both(lambda L, F: F.jacfwd(f, argnums=(0, 1))(L.tensor(B), L.tensor(A[0])))
    np.testing.assert_allclose(func.jacfwd(f, chunk_size=3)(cr.tensor(B), cr.tensor(A[0])).numpy(),
                               func.jacrev(f)(cr.tensor(B), cr.tensor(A[0])).numpy())


@pytest.mark.parametrize("outer", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("inner", ["jacrev", "jacfwd"])
def test_second_order_all_combinations(torch, outer, inner):
    f = lambda x: (x.sin() * x.sum() ** 2).tanh()  # noqa: E731
    both(lambda L, F: getattr(F, outer)(getattr(F, inner)(f))(L.tensor(B)))


def test_third_order_and_vmap_of_hessian(torch):
    f = lambda x: (x ** 3).sum() * x.cos().sum()  # noqa: E731
    both(lambda L, F: F.jacfwd(F.jacfwd(F.jacfwd(f)))(L.tensor(B[:3])))
    both(lambda L, F: F.grad(F.grad(F.grad(lambda s: s.sin() * s ** 4)))(L.tensor(0.7, dtype=L.float64)))
    both(lambda L, F: F.vmap(F.hessian(f))(L.tensor(A)))
    both(lambda L, F: F.vmap(F.jacrev(F.grad(f)))(L.tensor(A)))


def test_per_example_gradients_of_params(torch):
    X, Y = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 3))

    def loss(L, p, x, y):
        return ((model(L, p, x)[1] - y) ** 2).mean()

    both(lambda L, F: F.vmap(F.grad(lambda p, x, y: loss(L, p, x, y)), in_dims=(None, 0, 0))(
        _p(L), L.tensor(X), L.tensor(Y)))


def test_linearize(torch):
    both(lambda L, F: (lambda r: (r[0], r[1](L.tensor(B))))(
        F.linearize(lambda x: x.exp() * x, L.tensor(B))))


def test_functional_call_and_ensembles(torch):
    import torch.nn as tnn

    def run(L, F, nnmod):
        L.manual_seed(0)
        models = [nnmod.Sequential(nnmod.Linear(4, 3), nnmod.Tanh(), nnmod.Linear(3, 2))
                  for _ in range(3)]
        for m in models:
            m.double()
            for p in m.parameters():
                with L.no_grad():
                    p.copy_(L.tensor(RNG2.standard_normal(tuple(p.shape))))
        params, buffers = F.stack_module_state(models)
        base = models[0]

        def call(p, b, x):
            return F.functional_call(base, (p, b), (x,))

        x = L.tensor(A)
        one = F.functional_call(base, {k: v[1] for k, v in params.items()}, x)
        ens = F.vmap(call, in_dims=(0, 0, None))(params, buffers, x)
        g = F.vmap(F.grad(lambda p, b, x: call(p, b, x).sum()), in_dims=(0, 0, None))(
            params, buffers, x)
        return one, ens, g

    global RNG2
    RNG2 = np.random.default_rng(5)
    mine = run(cr, func, cr.nn)
    RNG2 = np.random.default_rng(5)
    theirs = run(torch, torch.func, tnn)
    _tree_close(mine, theirs)


def test_functional_call_options():
    lin = cr.nn.Linear(2, 2)
    w0 = lin.weight.detach().clone()
    z = {"weight": cr.zeros(2, 2), "bias": cr.ones(2)}
    out = func.functional_call(lin, z, (cr.ones(1, 2),))
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 1.0]])
    np.testing.assert_allclose(lin.weight.detach().numpy(), w0.numpy())  # restored
    with pytest.raises(RuntimeError, match="missing keys"):
        func.functional_call(lin, {"weight": cr.zeros(2, 2)}, (cr.ones(1, 2),), strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        func.functional_call(lin, ({"bias": cr.ones(2)}, {"bias": cr.ones(2)}), cr.ones(1, 2))
    tied = cr.nn.Sequential(cr.nn.Linear(2, 2, bias=False), cr.nn.Linear(2, 2, bias=False))
    tied[1].weight = tied[0].weight
    out = func.functional_call(tied, {"0.weight": cr.eye(2) * 2}, (cr.ones(1, 2),))
    np.testing.assert_allclose(out.detach().numpy(), [[4.0, 4.0]])


def test_results_detached_unless_inputs_require_grad(torch):
    x = cr.tensor(B, requires_grad=True)
    g = func.grad(lambda v: (v ** 3).sum())(x)
    assert g.requires_grad  # as torch.func: composes with regular autograd
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * B)
    assert not func.grad(lambda v: (v ** 3).sum())(cr.tensor(B)).requires_grad


def test_errors():
    with pytest.raises(RuntimeError, match="scalar"):
        func.grad(lambda v: v * 2)(cr.tensor(B))
    with pytest.raises(RuntimeError, match="argnums"):
        func.grad(lambda v: v.sum(), argnums=3)(cr.tensor(B))
    with pytest.raises(RuntimeError, match="tuple"):
        func.grad(lambda v: v.sum(), has_aux=True)(cr.tensor(B))
    with pytest.raises(RuntimeError, match="same python structure"):
        func.jvp(lambda v: v, (cr.tensor(B),), (cr.tensor(B), cr.tensor(B)))


def test_functionalize_and_batch_norm_helper():
    f = lambda x: x * 2  # noqa: E731
    assert func.functionalize(f) is f
    net = cr.nn.Sequential(cr.nn.Linear(3, 3), cr.nn.BatchNorm1d(3))
    func.replace_all_batch_norm_modules_(net)
    assert net[1].running_mean is None and not net[1].track_running_stats
    assert cr.vmap is func.vmap
