"""The table of operations driving the generic op tests (see test_table.py).

Each ``Row`` names one public operation (or a primitive called directly) with:

* ``fn(*tensors, **params)``   the chainrule call,
* ``ref(*arrays, **params)``   a NumPy reference for the forward value,
* ``case``                     a hypothesis strategy of ``(input shapes, params)``,
* ``domain(rng, shapes, params)``  the float64 inputs: positive for log, away from 0 for
  division, away from kinks for relu/abs/floor, ... (default: uniform on [-2, 2]).

Special values at the kinks (ReLU at 0, ties, huge magnitudes) are tested one by one in
test_special_values.py.
"""

from __future__ import annotations

from typing import NamedTuple
from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule import ops as P


class Row(NamedTuple):
    name: str
    fn: Callable
    ref: Callable
    case: st.SearchStrategy
    domain: Callable | None = None


# -- input domains --------------------------------------------------------------------
def uniform(rng, shapes, params):
    return [rng.uniform(-2, 2, s) for s in shapes]


def positive(rng, shapes, params):
    return [rng.uniform(0.5, 3, s) for s in shapes]


def nonzero(rng, shapes, params):
    """Away from 0 (division, abs, relu, sign kinks)."""
    return [rng.uniform(0.3, 2, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def numer_denom(rng, shapes, params):
    """x uniform, y away from 0: for x / y."""
    return [rng.uniform(-2, 2, shapes[0]), nonzero(rng, shapes[1:], params)[0]]


def fractional(rng, shapes, params):
    """Values whose fractional part is in (0.1, 0.4) or (0.6, 0.9): away from the jumps of
    floor, ceil and round."""
    out = []
    for s in shapes:
        frac = rng.uniform(0.1, 0.4, s) + rng.choice([0.0, 0.5], s)
        out.append(rng.integers(-3, 3, s) + frac)
    return out


def quotient_away_from_int(rng, shapes, params):
    """(x, y) with y away from 0 and x / y away from integers: for // and % (x has the
    broadcast shape, see ``x_full_pair``)."""
    y = rng.uniform(0.5, 2, shapes[1]) * rng.choice([-1.0, 1.0], shapes[1])
    q = fractional(rng, [shapes[0]], params)[0]
    return [q * y, y]


def five_over_fractional(rng, shapes, params):
    """x with 5 / x away from integers: for 5.0 // x and 5.0 % x."""
    q = fractional(rng, shapes, params)[0] + rng.choice([-6.0, 6.0], shapes[0])
    return [5.0 / q]


def away_from_bounds(rng, shapes, params):
    """For clamp(-0.5, 0.8): no value within 0.05 of a bound."""
    x = rng.uniform(-2, 2, shapes[0])
    for b in (-0.5, 0.8):
        close = np.abs(x - b) < 0.05
        x = np.where(close, x + 0.1, x)
    return [x]


def distinct(rng, shapes, params):
    """Values with well separated entries (no ties for max/min/sort)."""
    out = []
    for s in shapes:
        n = int(np.prod(s))
        out.append((rng.permutation(n) * 0.25 - n * 0.1).reshape(s) + rng.uniform(0, 0.05, s))
    return out


def positive_tensor_base(rng, shapes, params):
    return [rng.uniform(0.5, 2, shapes[0]), rng.uniform(-2, 2, shapes[1])]


# -- shape strategies -----------------------------------------------------------------
SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SHAPE1 = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
SHAPE2 = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)


def one(shapes=SHAPE):
    return shapes.map(lambda s: ((s,), {}))


def broadcast_pair():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4).map(
        lambda b: (b.input_shapes, {}))


@st.composite
def with_dim(draw, shapes=SHAPE1, keepdim=True, **extra):
    s = draw(shapes)
    params = {"dim": draw(st.integers(-len(s), len(s) - 1))}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    for k, v in extra.items():
        params[k] = draw(v)
    return (s,), params


@st.composite
def with_dims(draw, min_side=1):
    """A shape and a tuple of distinct dims (for sum/amax/var over several dims)."""
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    dims = draw(st.lists(st.integers(0, len(s) - 1), min_size=1, max_size=len(s), unique=True))
    neg = draw(st.booleans())
    dims = tuple(d - len(s) if neg else d for d in dims)
    return (s,), {"dim": dims, "keepdim": draw(st.booleans())}


@st.composite
def x_full_pair(draw):
    """(x shape, y shape) where y broadcasts to x's shape (x keeps the full shape)."""
    s = draw(SHAPE)
    keep = draw(st.lists(st.booleans(), min_size=len(s), max_size=len(s)))
    y = tuple(d if k else 1 for d, k in zip(s, keep))
    y = y[draw(st.integers(0, len(y))):]
    return (s, y), {}


def _np_dims(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


# -- rows -----------------------------------------------------------------------------
def unary(name, fn, ref, domain=uniform):
    return Row(name, fn, ref, one(), domain)


def binary(name, fn, ref, domain=uniform):
    return Row(name, fn, ref, broadcast_pair(), domain)


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _lse(x, dim, keepdim=False):
    m = x.max(axis=dim, keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=dim, keepdims=True))
    return out if keepdim else np.squeeze(out, axis=dim)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def grad_of(f):
    """x -> d(sum f(x))/dx, recorded (create_graph=True): its VJP is a Hessian-vector
    product and its JVP forward-over-reverse, so these rows test double backward."""

    def fn(x):
        with cr.enable_grad():
            x2 = x + cr.zeros_like(x).requires_grad_()  # requires grad, keeps x's history
            return cr.autograd.grad(f(x2).sum(), x2, create_graph=True)[0]

    return fn


ELEMENTWISE = [
    unary("exp", cr.exp, np.exp),
    unary("expm1", cr.expm1, np.expm1),
    unary("log", cr.log, np.log, positive),
    unary("log1p", cr.log1p, np.log1p, positive),
    unary("log2", cr.log2, np.log2, positive),
    unary("sqrt", cr.sqrt, np.sqrt, positive),
    unary("rsqrt", cr.rsqrt, lambda x: 1 / np.sqrt(x), positive),
    unary("abs", cr.abs, np.abs, nonzero),
    unary("sign", cr.sign, np.sign, nonzero),
    unary("sin", cr.sin, np.sin),
    unary("cos", cr.cos, np.cos),
    unary("tan", cr.tan, np.tan, lambda rng, s, p: [rng.uniform(-1.2, 1.2, s[0])]),
    unary("tanh", cr.tanh, np.tanh),
    unary("sigmoid", cr.sigmoid, _sigmoid),
    # the fused backward nodes of tanh and sigmoid, as functions of (grad, y) in their own right
    binary("tanh_grad", lambda g, y: cr.ops.TanhGrad.apply(g, y), lambda g, y: g * (1 - y * y)),
    binary("sigmoid_grad", lambda g, y: cr.ops.SigmoidGrad.apply(g, y),
           lambda g, y: g * y * (1 - y)),
    unary("relu", cr.relu, lambda x: np.maximum(x, 0), nonzero),
    unary("neg", lambda x: -x, np.negative),
    unary("clamp", lambda x: cr.clamp(x, -0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8),
          away_from_bounds),
    unary("clamp_min", lambda x: x.clamp(min=-0.5), lambda x: np.maximum(x, -0.5),
          away_from_bounds),
    unary("floor", cr.floor, np.floor, fractional),
    unary("ceil", cr.ceil, np.ceil, fractional),
    unary("round", cr.round, np.round, fractional),
    unary("square", cr.square, np.square),
    unary("pow_scalar", lambda x: x ** 3, lambda x: x ** 3),
    unary("pow_half", lambda x: x ** 0.5, np.sqrt, positive),
    unary("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    unary("radd", lambda x: 1.5 + x, lambda x: 1.5 + x),
    unary("rsub", lambda x: 1.5 - x, lambda x: 1.5 - x),
    unary("rmul", lambda x: 1.5 * x, lambda x: 1.5 * x),
    unary("rtruediv", lambda x: 1.5 / x, lambda x: 1.5 / x, nonzero),
    unary("rfloordiv", lambda x: 5.0 // x, lambda x: 5.0 // x, five_over_fractional),
    unary("rmod", lambda x: 5.0 % x, lambda x: 5.0 % x, five_over_fractional),
    unary("sub_scalar", lambda x: x - 0.25, lambda x: x - 0.25),
    unary("div_scalar", lambda x: x / 4.0, lambda x: x / 4.0),
    unary("maximum_scalar_tensor", lambda x: cr.maximum(x, cr.tensor(0.3, dtype=cr.float64)),
          lambda x: np.maximum(x, 0.3), away_from_bounds),
    unary("clone", lambda x: x.clone(), lambda x: x.copy()),
    unary("masked_fill", lambda x: x.masked_fill(x > 0, 0.5), lambda x: np.where(x > 0, 0.5, x),
          nonzero),
    binary("add", lambda x, y: x + y, np.add),
    binary("sub", lambda x, y: x - y, np.subtract),
    binary("mul", lambda x, y: x * y, np.multiply),
    binary("div", lambda x, y: x / y, np.divide, numer_denom),
    Row("floordiv", lambda x, y: x // y, np.floor_divide, x_full_pair(), quotient_away_from_int),
    Row("remainder", lambda x, y: x % y, np.remainder, x_full_pair(), quotient_away_from_int),
    binary("pow", lambda x, y: x ** y, np.power, positive_tensor_base),
    binary("maximum", cr.maximum, np.maximum, distinct),
    binary("minimum", cr.minimum, np.minimum, distinct),
    binary("add_alpha", lambda x, y: cr.add(x, y, alpha=2.0), lambda x, y: x + 2 * y),
    Row("where", lambda x, y: cr.where(x > y, x, y), lambda x, y: np.where(x > y, x, y),
        broadcast_pair(), distinct),
    Row("linear_primitive", lambda x, w, b: P.Linear.apply(x, w, b),
        lambda x, w, b: x @ w.T + b,
        st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).map(
            lambda t: (((t[0], t[1]), (t[2], t[1]), (t[2],)), {}))),
]

SECOND_ORDER = [
    unary("grad_tanh", grad_of(cr.tanh), lambda x: 1 - np.tanh(x) ** 2),
    unary("grad_sigmoid", grad_of(cr.sigmoid), lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    unary("grad_exp_sin", grad_of(lambda x: x.exp() * x.sin()),
          lambda x: np.exp(x) * (np.sin(x) + np.cos(x))),
    unary("grad_cube_log", grad_of(lambda x: x ** 3 + x.log()), lambda x: 3 * x ** 2 + 1 / x,
          positive),
    Row("grad_softmax_sq", grad_of(lambda x: x.softmax(-1) ** 2),
        lambda x: _softmax(x, -1) * 2 * (_softmax(x, -1)
                                         - (_softmax(x, -1) ** 2).sum(-1, keepdims=True)),
        one(SHAPE1)),
]

REDUCTIONS = [
    unary("sum_all", cr.sum, np.sum),
    Row("sum_dim", lambda x, dim, keepdim: x.sum(dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.sum(x, axis=_np_dims(dim), keepdims=keepdim), with_dims()),
    unary("mean_all", cr.mean, np.mean),
    Row("mean_dim", lambda x, dim, keepdim: x.mean(dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.mean(x, axis=_np_dims(dim), keepdims=keepdim), with_dims()),
    unary("prod_all", cr.prod, np.prod, nonzero),
    Row("prod_dim", lambda x, dim, keepdim: x.prod(dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.prod(x, axis=dim, keepdims=keepdim), with_dim(), nonzero),
    unary("max_all", cr.max, np.max, distinct),
    unary("min_all", cr.min, np.min, distinct),
    Row("max_dim", lambda x, dim, keepdim: x.max(dim, keepdim=keepdim).values,
        lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim), with_dim(), distinct),
    Row("min_dim", lambda x, dim, keepdim: cr.min(x, dim, keepdim).values,
        lambda x, dim, keepdim: np.min(x, axis=dim, keepdims=keepdim), with_dim(), distinct),
    Row("amax", lambda x, dim, keepdim: x.amax(dim, keepdim),
        lambda x, dim, keepdim: np.max(x, axis=_np_dims(dim), keepdims=keepdim), with_dims(),
        distinct),
    Row("amin", lambda x, dim, keepdim: cr.amin(x, dim, keepdim),
        lambda x, dim, keepdim: np.min(x, axis=_np_dims(dim), keepdims=keepdim), with_dims(),
        distinct),
    Row("var", lambda x, dim, keepdim, correction: x.var(dim, keepdim=keepdim,
                                                         correction=correction),
        lambda x, dim, keepdim, correction: np.var(x, axis=_np_dims(dim), keepdims=keepdim,
                                                   ddof=correction),
        with_dim(hnp.array_shapes(min_dims=1, max_dims=3, min_side=3, max_side=4),
                 correction=st.sampled_from([0, 1, 2]))),
    Row("std", lambda x, dim, keepdim, correction: cr.std(x, dim, keepdim=keepdim,
                                                          correction=correction),
        lambda x, dim, keepdim, correction: np.std(x, axis=_np_dims(dim), keepdims=keepdim,
                                                   ddof=correction),
        with_dims(min_side=3).map(lambda c: (c[0], {**c[1], "correction": 1})), distinct),
    Row("var_all", lambda x: x.var(), lambda x: np.var(x, ddof=1),
        one(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))),
    Row("logsumexp", lambda x, dim, keepdim: cr.logsumexp(x, dim, keepdim),
        lambda x, dim, keepdim: _lse(x, dim, keepdim), with_dim()),
    Row("norm2", lambda x: cr.norm(x), lambda x: np.sqrt(np.sum(x * x)), one(SHAPE1)),
    Row("norm_p", lambda x, dim, keepdim, p: x.norm(p, dim, keepdim),
        lambda x, dim, keepdim, p: np.sum(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1 / p),
        with_dim(p=st.sampled_from([1, 2, 3])), nonzero),
    Row("norm_inf", lambda x, dim: x.norm(float("inf"), dim),
        lambda x, dim: np.max(np.abs(x), axis=dim), with_dim(keepdim=False), distinct),
    Row("cumsum", lambda x, dim: x.cumsum(dim), lambda x, dim: np.cumsum(x, axis=dim),
        with_dim(keepdim=False)),
    Row("softmax", lambda x, dim: x.softmax(dim), _softmax, with_dim(keepdim=False)),
    Row("log_softmax", lambda x, dim: cr.log_softmax(x, dim),
        lambda x, dim: np.log(_softmax(x, dim)), with_dim(keepdim=False)),
]


# -- shape, indexing and products ----------------------------------------------------
@st.composite
def reshaped(draw):
    s = draw(SHAPE)
    n = int(np.prod(s))
    return (s,), {"shape": draw(st.sampled_from([(-1,), tuple(s[::-1]), (1,) + tuple(s), (n, 1)]))}


@st.composite
def dim_pair(draw):
    s = draw(SHAPE2)
    return (s,), {"d0": draw(st.integers(-len(s), len(s) - 1)),
                  "d1": draw(st.integers(-len(s), len(s) - 1))}


@st.composite
def permuted(draw):
    s = draw(SHAPE1)
    return (s,), {"dims": tuple(draw(st.permutations(range(len(s)))))}


@st.composite
def with_ones(draw):
    """A shape with some dims of size 1 (squeeze, expand) and the expanded target."""
    s = draw(SHAPE1)
    ones = draw(st.lists(st.booleans(), min_size=len(s), max_size=len(s)))
    small = tuple(1 if o else d for d, o in zip(s, ones))
    target = (draw(st.integers(1, 3)),) + tuple(d + 1 if o else d for d, o in zip(s, ones))
    return (small,), {"target": target, "dim": draw(st.integers(-len(s), len(s) - 1))}


@st.composite
def cat_case(draw, n=2, same=False):
    s = draw(SHAPE1)
    dim = draw(st.integers(-len(s), len(s) - 1))
    shapes = []
    for _ in range(n):
        t = list(s)
        if not same:
            t[dim] = draw(st.integers(1, 3))
        shapes.append(tuple(t))
    return tuple(shapes), {"dim": dim}


@st.composite
def split_case(draw):
    (s,), p = draw(with_dim(keepdim=False))
    return (s,), {**p, "size": draw(st.integers(1, 3))}


@st.composite
def narrow_case(draw):
    (s,), p = draw(with_dim(keepdim=False))
    n = s[p["dim"]]
    start = draw(st.integers(0, n - 1))
    return (s,), {**p, "start": start, "length": draw(st.integers(1, n - start))}


@st.composite
def repeat_case(draw):
    s = draw(SHAPE)
    reps = tuple(draw(st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 1)))
    return (s,), {"reps": reps}


# indices for a tensor of shape (4, 3, 2)
INDICES = [
    1, -1, slice(1, 3), slice(None, None, 2), (None, slice(None), 0), (Ellipsis, 1),
    (1, Ellipsis, None), (slice(None), [0, 2, 2]), ([0, 0, 3],), ([3, 1], [0, 2]),
    (np.array([[0, 1], [1, 1]]),), (np.array([True, False, True, True]),),
    (slice(1, None), np.array([True, False, True])), ([1, 2], slice(None), 1),
]


@st.composite
def index_case(draw):
    return ((4, 3, 2),), {"idx": draw(st.sampled_from(INDICES))}


@st.composite
def setitem_case(draw):
    idx = draw(st.sampled_from([1, (slice(None), 0), (Ellipsis, 1), ([0, 3],),
                                (np.array([True, False, True, False]), slice(1, 3))]))
    vshape = np.zeros((4, 3, 2))[idx].shape
    if draw(st.booleans()) and len(vshape) > 0:
        vshape = (1,) + vshape[1:]  # a broadcast value
    return ((4, 3, 2), vshape), {"idx": idx}


@st.composite
def gather_case(draw, src=False):
    (s,), p = draw(with_dim(keepdim=False))
    d = p["dim"]
    ishape = tuple(draw(st.integers(1, n)) for n in s)
    if src:  # scatter_add: index dims must not exceed src dims; src may be larger
        sshape = tuple(n + draw(st.integers(0, 1)) for n in ishape)
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, s[d] - 1)))
    shapes = (s, sshape) if src else (s,)
    return shapes, {"dim": d, "index": index}


@st.composite
def take_case(draw):
    """take_along_dim: indices broadcast against x in the other dims."""
    (s,), p = draw(with_dim(keepdim=False))
    d = p["dim"] % len(s)
    ishape = tuple(draw(st.integers(1, 3)) if i == d else draw(st.sampled_from([1, n]))
                   for i, n in enumerate(s))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, s[d] - 1)))
    return (s,), {"dim": p["dim"], "index": index}


def _np_take(x, dim, index):
    d = dim % x.ndim
    shape = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                index.shape[:d] + (1,) + index.shape[d + 1:])
    x = np.broadcast_to(x, shape[:d] + (x.shape[d],) + shape[d + 1:])
    index = np.broadcast_to(index, shape[:d] + (index.shape[d],) + shape[d + 1:])
    return np.take_along_axis(x, index, d)


def _np_gather(x, dim, index):
    corner = tuple(slice(None) if d == dim % x.ndim else slice(0, n)
                   for d, n in enumerate(index.shape))
    return np.take_along_axis(x[corner], index, dim)


@st.composite
def index_select_case(draw):
    (s,), p = draw(with_dim(keepdim=False))
    idx = draw(hnp.arrays(np.int64, (draw(st.integers(1, 5)),),
                          elements=st.integers(0, s[p["dim"]] - 1)))
    return (s,), {"dim": p["dim"], "index": idx}


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5)), ((2, 2, 3), (3,)), ((3,), (2, 3, 1)),
]

EINSUM = [
    ("ij,jk->ik", ((2, 3), (3, 4))), ("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))),
    ("i,i->", ((3,), (3,))), ("ij->ji", ((2, 3),)), ("ij->j", ((2, 3),)),
    ("ij,ij->i", ((2, 3), (2, 3))), ("i,j->ij", ((2,), (3,))), ("ij,j", ((2, 3), (3,))),
]


def _setitem(x, v, idx):
    y = x * 1.0
    y[idx] = v
    return y


def _np_setitem(x, v, idx):
    y = x.copy()
    y[idx] = v
    return y


def _inplace_view(x, v):
    y = x.contiguous() * 1.0  # view(-1) needs contiguous data (as in PyTorch)
    y[:, 1].mul_(v)  # CopySlices: y takes the history, its column the product
    y.view(-1)[2:5].add_(1.5)
    return y


def _np_inplace_view(x, v):
    y = x.copy()
    y[:, 1] *= v
    y.reshape(-1)[2:5] += 1.5
    return y


def _np_scatter_add(x, src, dim, index):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] += src[pos]  # src may be larger than index: its corner is used
    return out


def _np_index_add(src, shape, idx):
    out = np.zeros(shape)
    np.add.at(out, idx, src)
    return out


def _fixed(shapes, **params):
    return st.just((shapes, params))


SHAPES = [
    Row("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
        reshaped()),
    Row("view", lambda x, shape: x.view(*shape), lambda x, shape: x.reshape(shape), reshaped()),
    Row("flatten", lambda x, dim: x.flatten(dim), lambda x, dim: x.reshape(
        x.shape[:dim % x.ndim] + (-1,)), with_dim(keepdim=False)),
    Row("unflatten", lambda x, dim: x.unflatten(dim, (1, -1)),
        lambda x, dim: np.expand_dims(x, dim % x.ndim), with_dim(keepdim=False)),
    Row("squeeze_dim", lambda x, target, dim: x.squeeze(dim),
        lambda x, target, dim: np.squeeze(x, dim) if x.shape[dim] == 1 else x, with_ones()),
    Row("squeeze_all", lambda x, target, dim: cr.squeeze(x), lambda x, target, dim: np.squeeze(x),
        with_ones()),
    Row("unsqueeze", lambda x, dim: x.unsqueeze(dim),
        lambda x, dim: np.expand_dims(x, dim if dim >= 0 else x.ndim + 1 + dim),
        SHAPE.flatmap(lambda s: st.integers(-len(s) - 1, len(s)).map(
            lambda d: ((s,), {"dim": d})))),
    Row("transpose", lambda x, d0, d1: x.transpose(d0, d1),
        lambda x, d0, d1: np.swapaxes(x, d0, d1), dim_pair()),
    Row("T", lambda x: x.T, lambda x: x.T, one(SHAPE2.filter(lambda s: len(s) == 2))),
    Row("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), one(SHAPE2)),
    Row("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
        permuted()),
    Row("expand", lambda x, target, dim: x.expand(*target),
        lambda x, target, dim: np.broadcast_to(x, target), with_ones()),
    Row("expand_as", lambda x, target, dim: x.expand_as(cr.zeros(target)),
        lambda x, target, dim: np.broadcast_to(x, target), with_ones()),
    Row("broadcast_to", lambda x, target, dim: cr.broadcast_to(x, target),
        lambda x, target, dim: np.broadcast_to(x, target), with_ones()),
    Row("cat", lambda x, y, dim: cr.cat([x, y], dim),
        lambda x, y, dim: np.concatenate([x, y], dim), cat_case()),
    Row("cat3", lambda x, y, z, dim: cr.cat((x, y, z), dim=dim),
        lambda x, y, z, dim: np.concatenate([x, y, z], dim), cat_case(3)),
    Row("stack", lambda x, y, dim: cr.stack([x, y], dim),
        lambda x, y, dim: np.stack([x, y], dim), cat_case(same=True).map(
            lambda c: (c[0], {"dim": c[1]["dim"] % (len(c[0][0]) + 1)}))),
    Row("split", lambda x, dim, size: x.split(size, dim),
        lambda x, dim, size: np.split(x, range(size, x.shape[dim], size), axis=dim),
        split_case()),
    Row("chunk", lambda x, dim, size: cr.chunk(x, size, dim),
        lambda x, dim, size: [cr.chunk(cr.from_numpy(x), size, dim)[i].numpy()
                              for i in range(len(cr.chunk(cr.from_numpy(x), size, dim)))],
        split_case()),
    Row("flip", lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims), permuted().map(
        lambda c: (c[0], {"dims": c[1]["dims"][: 1 + len(c[1]["dims"]) // 2]}))),
    Row("repeat", lambda x, reps: x.repeat(*reps), lambda x, reps: np.tile(x, reps),
        repeat_case()),
    Row("tile", lambda x, reps: x.tile(reps), lambda x, reps: np.tile(x, reps), repeat_case()),
    Row("narrow", lambda x, dim, start, length: x.narrow(dim, start, length),
        lambda x, dim, start, length: np.take(x, range(start, start + length), axis=dim),
        narrow_case()),
    Row("getitem", lambda x, idx: x[idx], lambda x, idx: x[idx], index_case()),
    Row("setitem", _setitem, _np_setitem, setitem_case()),
    Row("inplace_through_view", _inplace_view, _np_inplace_view, _fixed(((3, 4), (3,)))),
    Row("index_add_primitive", lambda s, idx: P.IndexAdd.apply(s, (4, 3), idx),
        lambda s, idx: _np_index_add(s, (4, 3), idx),
        _fixed(((5,),), idx=(np.array([0, 3, 0, 0, 2]), np.array([1, 1, 1, 2, 0])))),
    Row("gather", lambda x, dim, index: x.gather(dim, cr.from_numpy(index)),
        _np_gather, gather_case()),
    Row("take_along_dim", lambda x, dim, index: cr.take_along_dim(x, cr.from_numpy(index), dim),
        _np_take, take_case()),
    Row("scatter_add", lambda x, s, dim, index: x.scatter_add(dim, cr.from_numpy(index), s),
        _np_scatter_add, gather_case(src=True)),
    Row("index_select", lambda x, dim, index: x.index_select(dim, cr.from_numpy(index)),
        lambda x, dim, index: np.take(x, index, axis=dim), index_select_case()),
]

PRODUCTS = [
    Row("matmul", lambda x, y: x @ y, np.matmul, st.sampled_from(MATMUL_SHAPES).map(
        lambda s: (s, {}))),
    Row("rmatmul_method", lambda x, y: y.__rmatmul__(x), np.matmul, _fixed(((2, 3), (3, 4)))),
    Row("outer", cr.outer, np.outer, st.tuples(st.integers(1, 4), st.integers(1, 4)).map(
        lambda t: (((t[0],), (t[1],)), {}))),
    Row("dot", cr.dot, np.dot, st.integers(1, 5).map(lambda n: (((n,), (n,)), {}))),
    Row("einsum", lambda *xs, eq: cr.einsum(eq, *xs), lambda *xs, eq: np.einsum(eq, *xs),
        st.sampled_from(EINSUM).map(lambda e: (e[1], {"eq": e[0]}))),
]

ROWS = ELEMENTWISE + SECOND_ORDER + REDUCTIONS + SHAPES + PRODUCTS
