"""Generic tests driven by the op table (optable.py), all in float64.

For every row and hypothesis-drawn shapes/axes (inputs contiguous or transposed):

* forward agrees with the NumPy reference;
* the VJP agrees with a random-direction central finite difference:
  <J^T u, v> ~ (<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps);
* the JVP (forward_ad.make_dual / unpack_dual) agrees with (f(x + eps v) - f(x - eps v)) / 2eps;
* VJP and JVP agree through <u, J v> == <J^T u, v>, with no finite difference at all.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from .optable import ROWS, uniform

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD

EPS = 1e-6
PHASES = [Phase.explicit, Phase.generate]
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, phases=PHASES,
                    suppress_health_check=[HealthCheck.too_slow])
IDS = [r.name for r in ROWS]


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _inputs(row, case, seed, transposed):
    shapes, params = case
    rng = np.random.default_rng(seed)
    arrays = (row.domain or uniform)(rng, shapes, params)
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    if transposed:  # same values, non-contiguous (transposed) memory layout
        arrays = [np.ascontiguousarray(a.T).T if a.ndim >= 2 else a for a in arrays]
    return arrays, params


def _leaves(arrays, requires_grad=True):
    return [cr.from_numpy(np.array(a, np.float64, order="K")).requires_grad_(requires_grad)
            for a in arrays]


def _f(row, arrays, params):
    """The forward value(s) as float64 arrays, computed without recording."""
    with cr.no_grad():
        outs = _outputs(row.fn(*_leaves(arrays, False), **params))
    return [o.detach().numpy().astype(np.float64) for o in outs]


def _directions(arrays, seed):
    rng = np.random.default_rng(seed + 1)
    return [np.asarray(rng.standard_normal(a.shape)) for a in arrays]


def _vjp(row, arrays, params, cotangents):
    leaves = _leaves(arrays)
    outs = _outputs(row.fn(*leaves, **params))
    grads = cr.autograd.grad(outs, leaves, [cr.from_numpy(u) for u in cotangents],
                             allow_unused=True)
    return [np.zeros_like(a) if g is None else g.detach().numpy() for a, g in zip(arrays, grads)]


def _jvp(row, arrays, params, tangents):
    with fwAD.dual_level():
        duals = [fwAD.make_dual(cr.from_numpy(np.asarray(a)), cr.from_numpy(v))
                 for a, v in zip(arrays, tangents)]
        outs = _outputs(row.fn(*duals, **params))
        result = []
        for o in outs:
            t = fwAD.unpack_dual(o).tangent
            result.append(np.zeros(o.shape) if t is None else t.detach().numpy().astype(np.float64))
    return result


def _fd(row, arrays, params, tangents):
    plus = _f(row, [a + EPS * v for a, v in zip(arrays, tangents)], params)
    minus = _f(row, [a - EPS * v for a, v in zip(arrays, tangents)], params)
    return [(p - m) / (2 * EPS) for p, m in zip(plus, minus)]


def _dot(xs, ys):
    return float(sum(np.sum(x * y) for x, y in zip(xs, ys)))


def _case(row):
    return st.tuples(row.case, st.integers(0, 2**16), st.booleans())


def check_forward(row, case, seed, transposed):
    arrays, params = _inputs(row, case, seed, transposed)
    outs = _outputs(row.fn(*_leaves(arrays, False), **params))
    refs = _outputs(row.ref(*arrays, **params))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.dtype == cr.float64, f"{row.name}: float64 in gave {o.dtype} out"
        assert tuple(o.shape) == np.shape(r), f"{row.name}: shape {o.shape} vs {np.shape(r)}"
        np.testing.assert_allclose(o.detach().numpy(), r, rtol=1e-10, atol=1e-12)


def check_vjp(row, case, seed, transposed):
    arrays, params = _inputs(row, case, seed, transposed)
    outs = _f(row, arrays, params)
    rng = np.random.default_rng(seed + 2)
    us = [np.asarray(rng.standard_normal(o.shape)) for o in outs]
    vs = _directions(arrays, seed)
    grads = _vjp(row, arrays, params, us)
    for g, a in zip(grads, arrays):
        assert g.shape == a.shape
    lhs = _dot(grads, vs)
    rhs = _dot(us, _fd(row, arrays, params, vs))
    assert abs(lhs - rhs) <= 1e-6 * (1 + abs(rhs)), f"{row.name}: VJP {lhs} vs FD {rhs}"


def check_jvp(row, case, seed, transposed):
    arrays, params = _inputs(row, case, seed, transposed)
    vs = _directions(arrays, seed)
    jv = _jvp(row, arrays, params, vs)
    fd = _fd(row, arrays, params, vs)
    assert len(jv) == len(fd)
    for t, f in zip(jv, fd):
        assert t.shape == f.shape
        np.testing.assert_allclose(t, f, rtol=1e-5, atol=1e-6, err_msg=row.name)


def check_adjoint(row, case, seed, transposed):
    """<u, J v> == <J^T u, v>: reverse and forward mode agree without finite differences."""
    arrays, params = _inputs(row, case, seed, transposed)
    outs = _f(row, arrays, params)
    rng = np.random.default_rng(seed + 2)
    us = [np.asarray(rng.standard_normal(o.shape)) for o in outs]
    vs = _directions(arrays, seed)
    u_jv = _dot(us, _jvp(row, arrays, params, vs))
    jtu_v = _dot(_vjp(row, arrays, params, us), vs)
    assert u_jv == pytest.approx(jtu_v, rel=1e-10, abs=1e-12), row.name


def _generic(check):
    @pytest.mark.parametrize("row", ROWS, ids=IDS)
    @SETTINGS
    @given(data=st.data())
    def test(row, data):
        check(row, *data.draw(_case(row)))

    test.__doc__ = check.__doc__
    return test


test_forward_matches_numpy = _generic(check_forward)
test_vjp_matches_finite_differences = _generic(check_vjp)
test_jvp_matches_finite_differences = _generic(check_jvp)
test_vjp_and_jvp_are_adjoint = _generic(check_adjoint)

BINARY = {r.name: r for r in ROWS if r.name in (
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "add_alpha")}
PAIRS = [((3, 1), (1, 4)), ((5,), (2, 5)), ((), (3,)), ((2, 3), ())]


@pytest.mark.parametrize("pair", PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_broadcast_pairs(name, pair):
    """The classic broadcast pairs, including a 0-dim tensor with a dimensioned one."""
    row = BINARY[name]
    for transposed in (False, True):
        case = (pair, {})
        check_forward(row, case, 7, transposed)
        check_vjp(row, case, 7, transposed)
        check_jvp(row, case, 7, transposed)
        check_adjoint(row, case, 7, transposed)


def _primitive_names():
    import chainrule.ops as ops

    listed = set()
    text = ops.__doc__.split("The primitives, by kind")[1]
    kind = None
    for line in text.splitlines()[2:]:
        if line[:1] not in (" ", ""):
            kind = line.split()[0]
        words = line.split()[1 if line[:1] != " " else 0:]
        # the layer primitives (convolution, pooling, losses, recurrences) have their own
        # tests in tests/nn; this table covers the core kinds
        if kind in CORE_KINDS:
            listed.update(words)
    return listed


CORE_KINDS = ("elementwise", "reduction", "shape", "linalg")


@settings(max_examples=1, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_table_covers_every_primitive(data):
    """Every primitive listed in chainrule.ops appears in the graph of some row."""
    seen = set()
    for row in ROWS:
        arrays, params = _inputs(row, data.draw(row.case), 0, False)
        stack = [o.grad_fn for o in _outputs(row.fn(*_leaves(arrays), **params))]
        while stack:
            node = stack.pop()
            if node is None or not hasattr(node, "_edges"):
                continue
            seen.add(type(node).__name__)
            stack.extend(fn for fn, _ in node.next_functions)
    missing = _primitive_names() - seen
    assert not missing, f"primitives without a table row: {sorted(missing)}"
