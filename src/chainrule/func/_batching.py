"""Batching rules: for each primitive, how one call on whole batches does the work of a call
per batch element (JAX's batching rules; PyTorch's functorch batch rules).

A rule is ``rule(info, vals, bdims) -> (out, out_bdim)``: ``vals`` are the primitive's
arguments with the batched ones unwrapped (tensors or arrays whose dim ``bdims[i]`` is the
batch; ``bdims[i]`` is None for unbatched arguments), ``info.size`` the batch size. It calls
primitives on the unwrapped values (so they are recorded for reverse mode and carry forward
tangents, and lower vmap levels batch them in turn) and says where the output's batch dim
is. Most rules move the batch dim to the front.

| kind | primitives | rule |
| --- | --- | --- |
| elementwise | Add Sub Mul Div Pow Maximum Minimum Where TanhGrad SigmoidGrad ReluGrad LSTMCellAct GRUCellAct BCEWithLogits BinaryCrossEntropy | batch first, operands padded to a common rank, broadcasting does the rest |
| unary | Neg Exp Expm1 Log Log1p Sqrt Sin Cos Tan Tanh Sigmoid Relu Abs Erf Clamp Cast ZeroGrad | the same call, batch dim unchanged |
| reduction | Sum Mean Amax Amin Prod LogSumExp Cumsum Softmax LogSoftmax | axes shifted past the batch dim |
| shape | Reshape Permute Expand Flip Cat Pad | the batch dim prepended to the shape argument |
| indexing | Getitem IndexAdd IndexPut Gather ScatterAdd | a full slice (or an arange) for the batch dim |
| products | MatMul Linear | batch dims of matmul; a batched input of Linear is one big GEMM |
| convolution | Conv2d ConvInputGrad Unfold Fold MaxPool2d WindowGather WindowScatter | batch merged into N |
| losses | CrossEntropy | batch merged into N |
| linalg | Inverse Det SlogDet Solve Cholesky Eigh SVD QR Pinv Lstsq LUFactor SolveTriangular MatrixExp LDLFactor LDLSolve | leading dims batch in NumPy |
| more math | ops/special.py, ops/elementwise_extra.py (UNARY, BINARY); ops/scan.py Cumprod LogCumSumExp LogCumSumExpGrad | unary / elementwise; scans as Cumsum |
| fallback | ConvWeightGrad, RNNLayer, anything else | ``_batched.loop``: once per element, warned once |

The rules of the layer, linalg and special-function primitives are in ``_batching_more.py``.
User ``Function`` subclasses: a ``vmap`` staticmethod (PyTorch's signature) or
``generate_vmap_rule = True`` (see ``_custom.py``); otherwise the fallback.
"""

from __future__ import annotations

import numpy as np

from .. import ops as P
from ..ops.rnn_cell_ops import GRUCellAct, LSTMCellAct
from ..tensor import Tensor
from ._dispatch import loop


def _nd(v):
    if isinstance(v, Tensor):
        return v._data.ndim
    return np.ndim(v) if not isinstance(v, np.ndarray) else v.ndim


def _shape(v):
    return v._data.shape if isinstance(v, Tensor) else v.shape


def front(v, b):
    """v with its batch dim b moved to 0 (a tensor through Permute, an array by moveaxis)."""
    if b is None or b == 0:
        return v
    if isinstance(v, Tensor):
        perm = (b,) + tuple(i for i in range(v._data.ndim) if i != b)
        return P.Permute.apply(v, perm)
    return np.moveaxis(v, b, 0)


def reshape(v, shape):
    if isinstance(v, Tensor):
        return P.Reshape.apply(v, tuple(shape))
    return v.reshape(tuple(shape))


def expanded(v, size):
    """An unbatched v with a leading batch dim of ``size`` (a broadcast, no copy)."""
    shape = _shape(v)
    if isinstance(v, Tensor):
        return P.Expand.apply(P.Reshape.apply(v, (1,) + shape), (size,) + shape)
    return np.broadcast_to(v, (size,) + shape)


def batch_first(v, b, size):
    return expanded(v, size) if b is None else front(v, b)


def _pad_rank(v, rank):
    """v (batch first) with size-1 dims inserted after the batch dim up to ``rank`` logical dims."""
    s = _shape(v)
    if len(s) - 1 >= rank:
        return v
    return reshape(v, (s[0],) + (1,) * (rank - len(s) + 1) + s[1:])


# -- elementwise ------------------------------------------------------------------------------
def elementwise(info, vals, bdims):
    rank = 0
    for v, b in zip(vals, bdims):
        if isinstance(v, Tensor):
            nd = v._data.ndim
        elif isinstance(v, np.ndarray):
            nd = v.ndim
        else:
            continue
        if b is not None:
            nd -= 1
        if nd > rank:
            rank = nd
    args = list(vals)
    for i, b in enumerate(bdims):
        if b is not None:
            v = front(vals[i], b) if b else vals[i]
            args[i] = v if _nd(v) - 1 >= rank else _pad_rank(v, rank)
    return info.cls.apply(*args), 0


def unary(info, vals, bdims):
    if all(b is None for b in bdims[1:]):
        return info.cls.apply(*vals), bdims[0]
    return elementwise(info, vals, bdims)


# -- reductions -------------------------------------------------------------------------------
def _axes(axis, nd):
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(a % max(nd, 1) + 1 for a in axis)
    return axis % max(nd, 1) + 1


def reduction(info, vals, bdims):
    x, axis, *rest = vals
    nd = _nd(x) - 1
    return info.cls.apply(front(x, bdims[0]), _axes(axis, nd), *rest), 0


def along_dim(info, vals, bdims):
    x, dim = vals
    return info.cls.apply(front(x, bdims[0]), dim % max(_nd(x) - 1, 1) + 1), 0


# -- shape ------------------------------------------------------------------------------------
def reshape_rule(info, vals, bdims):
    x, shape = vals
    return P.Reshape.apply(front(x, bdims[0]), (info.size,) + tuple(shape)), 0


def permute_rule(info, vals, bdims):
    x, dims = vals
    nd = _nd(x) - 1
    return P.Permute.apply(front(x, bdims[0]), (0,) + tuple(d % nd + 1 for d in dims)), 0


def expand_rule(info, vals, bdims):
    x, shape = vals
    x = _pad_rank(front(x, bdims[0]), len(shape))
    return P.Expand.apply(x, (info.size,) + tuple(shape)), 0


def flip_rule(info, vals, bdims):
    x, dims = vals
    nd = _nd(x) - 1
    return P.Flip.apply(front(x, bdims[0]), tuple(d % nd + 1 for d in dims)), 0


def cat_rule(info, vals, bdims):
    dim, *xs = vals
    parts = [batch_first(x, b, info.size) for x, b in zip(xs, bdims[1:])]
    nd = _nd(parts[0]) - 1
    return P.Cat.apply(dim % nd + 1, *parts), 0


def pad_rule(info, vals, bdims):
    x, pads, value = vals
    return P.Pad.apply(front(x, bdims[0]), ((0, 0),) + tuple(pads), value), 0


# -- indexing ---------------------------------------------------------------------------------
def _is_adv(i):
    return isinstance(i, np.ndarray) or isinstance(i, list)


def _expand_ellipsis(idx, nd):
    """idx with Ellipsis replaced by full slices (so a prefix can be added safely)."""
    if not any(i is Ellipsis for i in idx):
        return idx
    used = sum(1 for i in idx if i is not None and i is not Ellipsis and not (
        isinstance(i, np.ndarray) and i.dtype == bool)) + sum(
        i.ndim for i in idx if isinstance(i, np.ndarray) and i.dtype == bool)
    k = idx.index(Ellipsis)
    return idx[:k] + (slice(None),) * (nd - used) + tuple(i for i in idx[k + 1:])


def _adv_layout(idx):
    """(the advanced indices are one adjacent block, the ndim of their broadcast result)."""
    pos = [k for k, i in enumerate(idx) if _is_adv(i)]
    if not pos:
        return True, 0
    shapes = []
    for k in pos:
        a = np.asarray(idx[k])
        shapes.append((int(a.sum()),) if a.dtype == bool else a.shape)
    return pos == list(range(pos[0], pos[-1] + 1)), len(np.broadcast_shapes(*shapes))


def _getitem_bdim(idx):
    """Where the batch dim lands for x[(slice(None),) + idx] (x batch first)."""
    adjacent, adv_nd = _adv_layout(idx)
    return 0 if adjacent else adv_nd


def getitem_rule(info, vals, bdims):
    x, idx = vals
    xb, ib = bdims
    if not isinstance(idx, tuple):
        idx, ib = (idx,), (ib,)
    if ib is not None and any(b is not None for b in ib):
        return _getitem_batched_index(info, x, xb, idx, ib)
    idx = _expand_ellipsis(idx, _nd(x) - 1)
    return P.Getitem.apply(front(x, xb), (slice(None),) + idx), _getitem_bdim(idx)


def _getitem_batched_index(info, x, xb, idx, ib):
    """x[idx] where some index arrays are batched: the batch becomes one more advanced
    index (an arange) in front, when the advanced indices lead the index."""
    pos = [k for k, i in enumerate(idx) if _is_adv(i) or ib[k] is not None]
    if pos != list(range(len(pos))) or any(
            isinstance(i, np.ndarray) and i.dtype == bool for i in idx):
        return loop(info, [x, idx], [xb, ib], "Getitem with a batched index")
    x = batch_first(x, xb, info.size)
    arrays = [front(i, b) if b is not None else np.asarray(i) for i, b in zip(idx, ib)][: len(pos)]
    rank = max(a.ndim - (b is not None) for a, b in zip(arrays, ib[: len(pos)]))
    new = [np.arange(info.size).reshape((info.size,) + (1,) * rank)]
    for a, b in zip(arrays, ib[: len(pos)]):
        new.append(_pad_rank(a, rank) if b is not None else a)
    return P.Getitem.apply(x, tuple(new) + tuple(idx[len(pos):])), 0


def index_add_rule(info, vals, bdims):
    src, shape, idx = vals
    if bdims[2] is not None and any(b is not None for b in bdims[2]):
        return loop(info, vals, bdims, "IndexAdd with a batched index")
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = _expand_ellipsis(idx, len(shape))
    b = _getitem_bdim(idx)
    src = batch_first(src, bdims[0], info.size)
    if b:
        src = P.Permute.apply(src, tuple(range(1, b + 1)) + (0,) + tuple(
            range(b + 1, src._data.ndim)))
    return P.IndexAdd.apply(src, (info.size,) + tuple(shape), (slice(None),) + idx), 0


def index_put_rule(info, vals, bdims):
    x, v, idx = vals
    if bdims[2] is not None and any(b is not None for b in bdims[2]):
        return loop(info, vals, bdims, "IndexPut with a batched index")
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = _expand_ellipsis(idx, _nd(x) - (bdims[0] is not None))
    x = batch_first(x, bdims[0], info.size)
    if bdims[1] is not None:
        b = _getitem_bdim(idx)
        v = front(v, bdims[1])
        if b:
            v = P.Permute.apply(v, tuple(range(1, b + 1)) + (0,) + tuple(
                range(b + 1, v._data.ndim)))
    return P.IndexPut.apply(x, v, (slice(None),) + idx), 0


def gather_rule(info, vals, bdims):
    x, dim, index = vals
    x = batch_first(x, bdims[0], info.size)
    index = batch_first(index, bdims[2], info.size)
    return P.Gather.apply(x, dim % (x._data.ndim - 1) + 1, index), 0


def scatter_add_rule(info, vals, bdims):
    x, dim, index, src = vals
    x = batch_first(x, bdims[0], info.size)
    index = np.ascontiguousarray(batch_first(index, bdims[2], info.size))
    src = batch_first(src, bdims[3], info.size)
    return P.ScatterAdd.apply(x, dim % (x._data.ndim - 1) + 1, index, src), 0


# -- products ---------------------------------------------------------------------------------
def matmul_rule(info, vals, bdims):
    x, y, tx, ty = (list(vals) + [False, False])[:4]
    xb, yb = bdims[0], bdims[1]
    if yb is None and not tx and _nd(y) == 2:
        # (B, ..., n, k) @ (k, m): one GEMM over all rows
        x = front(x, xb)
        s = x._data.shape
        out = P.MatMul.apply(P.Reshape.apply(x, (-1, s[-1])), y, False, ty)
        return P.Reshape.apply(out, s[:-1] + (out._data.shape[-1],)), 0
    rank = max(_nd(x) - (xb is not None), _nd(y) - (yb is not None))
    x = x if xb is None else _pad_rank(front(x, xb), rank)
    y = y if yb is None else _pad_rank(front(y, yb), rank)
    return P.MatMul.apply(x, y, tx, ty), 0


def linear_rule(info, vals, bdims):
    x, w, b = vals
    if bdims[1] is None and bdims[2] is None:
        return P.Linear.apply(front(x, bdims[0]), w, b), 0
    # batched weights (model ensembles): x @ w^T + b with the batch as a matmul batch dim
    from ._batched import wrap

    lv = info.level
    xl, wl = wrap(x, bdims[0], lv), wrap(w, bdims[1], lv)
    out = P.MatMul.apply(xl if xl._data.ndim > 1 else xl.reshape((1, -1)), wl, False, True)
    if xl._data.ndim == 1:
        out = out.reshape((-1,))
    if b is not None:
        out = P.Add.apply(out, wrap(b, bdims[2], lv))
    from ._batched import unwrap_at

    return unwrap_at(out, lv)


_ELEMENTWISE = ("Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Where", "TanhGrad",
                "SigmoidGrad", "ReluGrad")
_UNARY = ("Neg", "Exp", "Expm1", "Log", "Log1p", "Sqrt", "Sin", "Cos", "Tan", "Tanh",
          "Sigmoid", "Relu", "Abs", "Clamp", "Cast", "ZeroGrad")

RULES = {getattr(P, n): elementwise for n in _ELEMENTWISE}
RULES[LSTMCellAct] = RULES[GRUCellAct] = elementwise  # gates, state: leading dims broadcast
RULES.update({getattr(P, n): unary for n in _UNARY})
RULES.update({
    P.Sum: reduction, P.Mean: reduction, P.Amax: reduction, P.Amin: reduction, P.Prod: reduction,
    P.LogSumExp: reduction, P.Cumsum: along_dim, P.Softmax: along_dim,
    P.LogSoftmax: along_dim,
    P.Reshape: reshape_rule, P.Permute: permute_rule, P.Expand: expand_rule,
    P.Flip: flip_rule, P.Cat: cat_rule,
    P.Getitem: getitem_rule, P.IndexAdd: index_add_rule, P.IndexPut: index_put_rule,
    P.Gather: gather_rule, P.ScatterAdd: scatter_add_rule,
    P.MatMul: matmul_rule, P.Linear: linear_rule,
})


def rule_for(cls):
    """The batching rule of a primitive or user Function (None: use the loop fallback)."""
    rule = RULES.get(cls)
    if rule is not None:
        return rule
    if not cls._arrays:
        from ._custom import custom_rule

        return custom_rule(cls)
    return None


def register(cls, rule):
    """Add (or replace) the batching rule of a primitive class."""
    RULES[cls] = rule


def _install():
    from . import _dispatch

    _dispatch._RULE_FOR[:] = [rule_for]


_install()
