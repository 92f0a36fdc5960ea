"""vmap regressions, each checked against torch.func: ``detach`` inside a transform,
non-differentiable results computed with raw NumPy (comparisons, masks, indices, integer
math) returned from vmap or used again inside it, printing batched tensors, and custom
Functions with ``set_materialize_grads(False)``."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

RNG = np.random.default_rng(3)
XF = RNG.normal(size=(4, 5)).round(1)
XF[0, 1], XF[1, 2], XF[2, 3] = np.nan, np.inf, -np.inf
YF = RNG.normal(size=(4, 5)) + np.arange(5) * 1e-3  # no ties along a row
XI = RNG.integers(-5, 6, size=(4, 5))
YI = RNG.integers(1, 4, size=(4, 5))


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(c, t):
    """chainrule result c equals torch result t: values (NaN-aware), shape and dtype."""
    if isinstance(t, tuple):
        assert len(c) == len(t)
        for a, b in zip(c, t):
            _same(a, b)
        return
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(c).astype(float), _np(t).astype(float), rtol=1e-12, atol=1e-12,
                               equal_nan=True)


def _vmap_both(torch, f, arrays, in_dims=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.func.vmap(lambda *a: f(torch, *a), in_dims)(*[torch.tensor(a) for a in arrays])
        c = func.vmap(lambda *a: f(cr, *a), in_dims)(*[cr.tensor(a) for a in arrays])
    return c, t


# -- 1. detach detaches the physical value (from every level) -------------------------------
DETACH = [
    ("vmap_grad", lambda F, x: F.vmap(F.grad(lambda t: (t.detach() * t).sum()))(x)),
    ("vmap_grad_fn", lambda F, x: F.vmap(F.grad(lambda t: (F.torch.detach(t) * t ** 2).sum()))(x)),
    ("vmap_jvp", lambda F, x: F.vmap(lambda t: F.jvp(lambda u: u.detach() * u, (t,),
                                                      (F.torch.ones_like(t),))[1])(x)),
    ("vmap_vmap_grad", lambda F, x: F.vmap(F.vmap(F.grad(lambda t: t.detach() * t)))(x)),
    ("grad_grad", lambda F, x: F.grad(F.grad(lambda t: t.detach() * t ** 2))(x[0, 0])),
    ("grad_vmap", lambda F, x: F.grad(lambda s: F.vmap(lambda t: t.detach() * t)(s).sum())(x)),
    ("jacrev_vmap", lambda F, x: F.vmap(F.jacrev(lambda t: t.detach() * t.sin()))(x)),
    ("detach_then_grad", lambda F, x: F.vmap(F.grad(lambda t: (t * t.detach().exp()).sum()))(x)),
]


@pytest.mark.parametrize("name,f", DETACH, ids=[d[0] for d in DETACH])
def test_detach_inside_transforms_matches_torch(torch, name, f):
    import types

    x = np.arange(1.0, 7.0).reshape(2, 3) / 4
    tf = types.SimpleNamespace(**{k: getattr(torch.func, k) for k in ("vmap", "grad", "jvp",
                                                                       "jacrev")}, torch=torch)
    cf = types.SimpleNamespace(**{k: getattr(func, k) for k in ("vmap", "grad", "jvp",
                                                                "jacrev")}, torch=cr)
    _same(f(cf, cr.tensor(x)), f(tf, torch.tensor(x)))


def test_detach_inside_vmap_keeps_batch_and_drops_history():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def f(t):
        d = t.detach()
        assert func._vmap.is_batched(d) and not d.requires_grad
        return d * t

    out = func.vmap(f)(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x.detach().numpy())


# -- 2, 3 and the audit: raw-NumPy results under vmap ----------------------------------------
CASES = {
    "gt_scalar": (lambda m, a: a > 0.3, [XF]),
    "gt_tensor": (lambda m, a, b: a > b, [XF, YF]),
    "lt_method": (lambda m, a: a.lt(0.0), [XF]),
    "ge_fn": (lambda m, a, b: m.ge(a, b), [XF, YF]),
    "le_op": (lambda m, a: a <= 0.1, [XF]),
    "eq_int": (lambda m, a, b: a == b, [XI, YI]),
    "ne_int": (lambda m, a, b: a.ne(b), [XI, YI]),
    "eq_scalar": (lambda m, a: m.eq(a, 2), [XI]),
    "invert_cmp": (lambda m, a: ~(a > 0.0), [XF]),
    "logical_not_cmp": (lambda m, a: (a > 0.0).logical_not(), [XF]),
    "bitwise_not_cmp": (lambda m, a: m.bitwise_not(a > 0.0), [XF]),
    "cmp_sum": (lambda m, a: (a > 0.0).sum(), [XF]),
    "cmp_cast": (lambda m, a: (a > 0.0).to(a.dtype) * a, [YF]),
    "cmp_int": (lambda m, a: (a > 0.0).int(), [XF]),
    "cmp_of_cmp": (lambda m, a: (a > 0) == (a < 1), [YF]),
    "cmp_ne_bool": (lambda m, a: (a > 0) != (a > 1), [YF]),
    "isnan": (lambda m, a: m.isnan(a), [XF]),
    "isinf": (lambda m, a: a.isinf(), [XF]),
    "isfinite": (lambda m, a: m.isfinite(a), [XF]),
    "not_isnan": (lambda m, a: ~a.isnan(), [XF]),
    "isposinf": (lambda m, a: m.isposinf(a), [XF]),
    "isneginf": (lambda m, a: m.isneginf(a), [XF]),
    "isclose": (lambda m, a, b: m.isclose(a, b), [YF, YF.round(1)]),
    "argmax_all": (lambda m, a: a.argmax(), [YF]),
    "argmin_all": (lambda m, a: m.argmin(a), [YF]),
    "argmax_dim": (lambda m, a: a.reshape(1, -1).argmax(1, keepdim=True), [YF]),
    "argmax_bool": (lambda m, a: (a > 0).int().argmax(), [YF]),
    "max_dim": (lambda m, a: m.max(a.reshape(1, -1), 1), [YF]),
    "min_dim": (lambda m, a: a.reshape(1, -1).min(1), [YF]),
    "sort": (lambda m, a: m.sort(a), [YF]),
    "sort_desc": (lambda m, a: a.sort(descending=True), [YF]),
    "sort_int": (lambda m, a: a.sort().values, [XI]),
    "argsort": (lambda m, a: m.argsort(a), [YF]),
    "topk": (lambda m, a: m.topk(a, 2), [YF]),
    "topk_smallest": (lambda m, a: a.topk(2, largest=False), [YF]),
    "kthvalue": (lambda m, a: m.kthvalue(a, 2), [YF]),
    "median": (lambda m, a: a.median(), [YF]),
    "cummax": (lambda m, a: m.cummax(a, 0), [YF]),
    "searchsorted": (lambda m, a: m.searchsorted(a.sort().values, a), [YF]),
    "bucketize": (lambda m, a: m.bucketize(a, m.tensor([-1.0, 0.0, 1.0], dtype=a.dtype)), [YF]),
    "where_cmp": (lambda m, a, b: m.where(a > b, a, b), [YF, XF]),
    "where_scalar": (lambda m, a: m.where(a > 0, a, 0.0), [YF]),
    "where_isnan": (lambda m, a: m.where(a.isnan(), 0.0, a), [XF]),
    "masked_fill": (lambda m, a: a.masked_fill(a > 0, 1.5), [YF]),
    "masked_fill_other": (lambda m, a, b: a.masked_fill(b > 0, 1.5), [YF, XF]),
    "clamp_tensor_min": (lambda m, a, b: a.clamp(min=b), [YF, XF]),
    "clamp_tensor_both": (lambda m, a, b: m.clamp(a, b - 1, b + 1), [YF, YF[::-1].copy()]),
    "floor": (lambda m, a: a.floor(), [YF]),
    "round": (lambda m, a: m.round(a), [YF]),
    "round_decimals": (lambda m, a: a.round(decimals=1), [YF]),
    "ceil_trunc_sign": (lambda m, a: a.ceil() + a.trunc() + a.sign(), [YF]),
    "any": (lambda m, a: (a > 1).any(), [YF]),
    "all": (lambda m, a: (a > -1).all(), [YF]),
    "any_dim": (lambda m, a: (a > 1).reshape(1, -1).any(1), [YF]),
    "all_dim": (lambda m, a: m.all(a.reshape(1, -1) > -1, 1), [YF]),
    "count_nonzero": (lambda m, a: m.count_nonzero(a > 0), [YF]),
    "logical_and": (lambda m, a, b: m.logical_and(a > 0, b > 0), [YF, XF]),
    "logical_or": (lambda m, a, b: (a > 0).logical_or(b > 0), [YF, XF]),
    "logical_xor": (lambda m, a, b: m.logical_xor(a > 0, b > 0), [YF, XF]),
    "logical_not_float": (lambda m, a: m.logical_not(a), [YF]),
    "bitwise_and": (lambda m, a, b: a & b, [XI, YI]),
    "bitwise_or": (lambda m, a, b: a | b, [XI, YI]),
    "bitwise_xor": (lambda m, a, b: a ^ b, [XI, YI]),
    "bitwise_not_int": (lambda m, a: ~a, [XI]),
    "bitwise_and_bool": (lambda m, a, b: (a > 0) & (b > 0), [YF, XF]),
    "shift_left": (lambda m, a, b: a << b, [YI, YI]),
    "shift_right": (lambda m, a: a >> 1, [YI]),
    "shift_fn": (lambda m, a, b: m.bitwise_left_shift(a, b), [YI, YI]),
    "int_add_sub_mul": (lambda m, a, b: a + b - b * 2 * a, [XI, YI]),
    "int_floordiv": (lambda m, a, b: a // b, [XI, YI]),
    "int_remainder": (lambda m, a, b: a % b, [XI, YI]),
    "int_div_floor": (lambda m, a, b: m.div(a, b, rounding_mode="floor"), [XI, YI]),
    "int_div_trunc": (lambda m, a, b: m.div(a, b, rounding_mode="trunc"), [XI, YI]),
    "int_true_div": (lambda m, a, b: a / b, [XI, YI]),
    "int_pow_abs_neg": (lambda m, a: a ** 2 + a.abs() - (-a), [XI]),
    "int_sum_max": (lambda m, a: a.sum() + a.max(), [XI]),
    "int_cumsum": (lambda m, a: a.cumsum(0), [XI]),
    "int_clamp_maximum": (lambda m, a, b: m.maximum(a, b).clamp(-1, 2), [XI, YI]),
    "gcd": (lambda m, a, b: m.gcd(a, b), [XI, YI]),
    "signbit": (lambda m, a: m.signbit(a), [YF]),
    "heaviside": (lambda m, a: m.heaviside(a, m.tensor(0.5, dtype=a.dtype)), [YF]),
    "float_times_bool": (lambda m, a: a * (a > 0), [YF]),
    "nan_to_num": (lambda m, a: m.nan_to_num(a), [XF]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_nondifferentiable_results_under_vmap_match_torch(torch, name):
    f, arrays = CASES[name]
    c, t = _vmap_both(torch, f, arrays)
    _same(c, t)


@pytest.mark.parametrize("name", ["gt_tensor", "invert_cmp", "argmax_all", "sort", "topk",
                                  "masked_fill_other", "int_floordiv", "where_cmp", "any_dim"])
def test_nondifferentiable_results_with_in_dims_1(torch, name):
    f, arrays = CASES[name]
    c, t = _vmap_both(torch, f, [a.T.copy() for a in arrays], in_dims=1)
    _same(c, t)


def test_comparisons_under_nested_vmap(torch):
    x = RNG.normal(size=(2, 3, 4))

    def f(m, a):
        return (~(a > 0)).int() + m.argsort(a) * (a < 0.5)

    t = torch.func.vmap(torch.func.vmap(lambda a: f(torch, a)))(torch.tensor(x))
    c = func.vmap(func.vmap(lambda a: f(cr, a)))(cr.tensor(x))
    _same(c, t)


def test_comparison_result_drives_a_gradient_under_vmap(torch):
    def f(m, a):
        return m.where(~(a > 0), a ** 2, a.sin()).sum()

    t = torch.func.vmap(torch.func.grad(lambda a: f(torch, a)))(torch.tensor(YF))
    c = func.vmap(func.grad(lambda a: f(cr, a)))(cr.tensor(YF))
    _same(c, t)


GRADS = {
    "floor_round": lambda m, a, b: (a.floor() * a + a.round() * b).sum(),
    "masked_fill": lambda m, a, b: (a.masked_fill(b > 0, 0.5) * a).sum(),
    "clamp_tensor": lambda m, a, b: (a.clamp(min=b - 0.3, max=b + 0.3) ** 2).sum(),
    "where": lambda m, a, b: m.where(a > b, a * b, a.exp()).sum(),
    "sort_values": lambda m, a, b: (m.sort(a).values * m.arange(5, dtype=a.dtype)).sum(),
    "topk_values": lambda m, a, b: m.topk(a * b, 2).values.sum(),
    "max_dim": lambda m, a, b: m.max(a.reshape(1, -1), 1).values.sum(),
    "median": lambda m, a, b: a.median() * b.sum(),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_per_example_gradients_through_selections_match_torch(torch, name):
    f = GRADS[name]
    t = torch.func.vmap(torch.func.grad(lambda a, b: f(torch, a, b)))(torch.tensor(YF),
                                                                        torch.tensor(XI * 0.3))
    c = func.vmap(func.grad(lambda a, b: f(cr, a, b)))(cr.tensor(YF), cr.tensor(XI * 0.3))
    _same(c, t)


def test_gather_index_bounds_are_still_checked_under_vmap():
    x = cr.tensor(YF)
    with pytest.raises(IndexError, match="out of bounds"):
        func.vmap(lambda a: a.gather(0, (a > 0).long() * 7))(x)


def test_nonzero_under_vmap_raises_like_torch():
    with pytest.raises(RuntimeError, match="data-dependent"):
        func.vmap(lambda a: a.nonzero())(cr.tensor(YF))


def test_shift_operators_match_torch(torch):
    a = np.array([5, 6, 7])
    for op in (lambda m, x: x << 2, lambda m, x: x >> m.tensor([1, 2, 0]),
               lambda m, x: 64 >> x, lambda m, x: 2 << x):
        _same(op(cr, cr.tensor(a)), op(torch, torch.tensor(a)))
    c, t = cr.tensor(a), torch.tensor(a)
    c <<= 1
    t <<= 1
    _same(c, t)


# -- 4. printing a batched tensor ---------------------------------------------------------
def _printed(F, x, case):
    lines = []

    def show(a):
        lines.extend([repr(a), str(a)])
        return a

    runs = {
        "float": lambda: F.vmap(show)(x),
        "in_dims_1": lambda: F.vmap(show, in_dims=1)(x),
        "nested": lambda: F.vmap(F.vmap(show))(x),
        "int": lambda: F.vmap(lambda a: show((a * 10).long()))(x),
        "grad_fn": lambda: F.vmap(lambda a: show(a + 1))(x.requires_grad_()),
        "scalars": lambda: F.vmap(show)(x[0]),
    }
    runs[case]()
    return [s.replace("torch.", "chainrule.") for s in lines]


@pytest.mark.parametrize("case", ["float", "in_dims_1", "nested", "int", "grad_fn", "scalars"])
def test_printing_a_batched_tensor_matches_torch(torch, case):
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    shown = _printed(func, cr.tensor(x), case)
    assert shown == _printed(torch.func, torch.tensor(x), case)
    assert shown[0].startswith("BatchedTensor(lvl=1,") or case == "nested"


# -- 5. set_materialize_grads(False) under the transforms ----------------------------------
def _two_outputs(lib):
    class Two(lib.autograd.Function):
        generate_vmap_rule = True
        seen = []

        @staticmethod
        def forward(x):
            return x * 2, x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g1, g2):
            Two.seen.append((g1 is None, g2 is None))
            (x,) = ctx.saved_tensors
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                out = (0 if out is None else out) + g2 * x.cos()
            return out

    return Two


MATERIALIZE = [
    ("grad", lambda F, T, x: F.grad(lambda t: T.apply(t)[0].sum())(x[0])),
    ("vmap_grad", lambda F, T, x: F.vmap(F.grad(lambda t: T.apply(t)[1].sum()))(x)),
    ("jacrev", lambda F, T, x: F.jacrev(lambda t: T.apply(t)[0])(x[0])),
    ("vmap_jacrev", lambda F, T, x: F.vmap(F.jacrev(lambda t: T.apply(t)[1]))(x)),
]


@pytest.mark.parametrize("name,run", MATERIALIZE, ids=[m[0] for m in MATERIALIZE])
def test_set_materialize_grads_false_under_transforms(torch, name, run):
    x = np.arange(6.0).reshape(2, 3) / 3
    results, seen = {}, {}
    for lib, F in (("torch", torch.func), ("cr", func)):
        m = torch if lib == "torch" else cr
        T = _two_outputs(m)
        results[lib] = run(F, T, m.tensor(x))
        seen[lib] = set(T.seen)
    _same(results["cr"], results["torch"])
    assert seen["cr"] == seen["torch"]
    assert all(any(s) for s in seen["cr"])  # the unused output's gradient came as None
