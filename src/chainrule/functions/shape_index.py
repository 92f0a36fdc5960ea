"""The public functions of the shape primitives (``ops/shape.py``) that index: ``x[idx]``,
index_select, gather/scatter, masked_select, take_along_dim, sort/topk, nonzero."""

from __future__ import annotations

import numpy as np

from ..ops import shape as P
from ..ops.shape import _scatter_index
from ..tensor import Tensor, _norm_dim
from ._common import MinMax, _raw
from .elementwise import masked_fill
from .shape import expand, narrow


def repeat_interleave(input, repeats, dim=None):  # noqa: A002
    if dim is None:
        input, dim = input.flatten(), 0
    d = _norm_dim(dim, input._data.ndim, "repeat_interleave")
    n = input._data.shape[d]
    idx = np.repeat(np.arange(n), repeats if isinstance(repeats, int) else _raw(repeats))
    return index_select(input, d, Tensor._make(idx, False, None, 0))


def _index(idx):
    """Turn a PyTorch index (with tensors and lists) into a NumPy one."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int or bool tensors")
            out.append(int(a) if a.ndim == 0 and a.dtype.kind in "iu" else a)
        elif isinstance(i, list):
            a = np.asarray(i)
            if a.dtype.kind not in "iub":
                raise IndexError(f"index lists must hold integers or booleans, got {i!r}")
            out.append(a)
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            out.append(int(i))
        else:
            out.append(i)
    return tuple(out)


def getitem(input, idx):  # noqa: A002
    """``x[idx]``: ints, slices, None, Ellipsis, integer and boolean arrays (as NumPy)."""
    c = idx.__class__
    if c is int or c is slice:  # the common forms (ints, slices, None, ...) need no conversion
        np_idx = (idx,)
    elif c is tuple:
        for i in idx:
            c = i.__class__
            if c is not int and c is not slice and i is not None and i is not Ellipsis:
                np_idx = _index(idx)
                break
        else:
            np_idx = idx
    else:
        np_idx = _index(idx)
    try:
        return P.Getitem.apply(input, np_idx)
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor shape {tuple(input._data.shape)})") from None


def index_select(input, dim, index):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "index_select")
    idx = _raw(index)
    if idx.ndim > 1:
        raise IndexError("index_select: index must be 1-D")
    return P.Getitem.apply(input, (slice(None),) * d + (idx.astype(np.int64, copy=False),))


def masked_select(input, mask):  # noqa: A002
    m = np.broadcast_to(_raw(mask), np.broadcast_shapes(_raw(mask).shape, input._data.shape))
    return getitem(expand(input, m.shape), m)


def _check_index(op, input, index, dim):
    idx = _raw(index)
    if not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an int64 index tensor")
    if idx.ndim != input._data.ndim:
        raise RuntimeError(
            f"{op}: index tensor must have the same number of dimensions as the input "
            f"({idx.ndim} vs {input._data.ndim})"
        )
    n = input._data.shape[dim]
    vals = idx
    if idx.__class__ is not np.ndarray or idx.base is not None:  # under vmap: every element
        from ..func._batched import physical

        vals = physical(idx)
    if vals.size and (vals.min() < -n or vals.max() >= n):
        raise IndexError(
            f"{op}: index {int(vals.max() if vals.max() >= n else vals.min())} is out of "
            f"bounds for dimension {dim} with size {n}"
        )
    return idx


def gather(input, dim, index):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] for dim = 0 (and so on for other dims)."""
    d = _norm_dim(dim, input._data.ndim, "gather")
    return P.Gather.apply(input, d, _check_index("gather", input, index, d))


def _gather_in_range(input, dim, index):  # noqa: A002
    """``gather`` of an index array known to be in range (argmax's): without the check."""
    return P.Gather.apply(input, dim, index)


def take_along_dim(input, indices, dim=None):  # noqa: A002
    if dim is None:
        return gather(input.flatten(), 0, Tensor._make(_raw(indices).reshape(-1), False, None, 0))
    d = _norm_dim(dim, input._data.ndim, "take_along_dim")
    idx = _raw(indices)
    shape = list(np.broadcast_shapes(tuple(s for i, s in enumerate(input._data.shape) if i != d),
                                     tuple(s for i, s in enumerate(idx.shape) if i != d)))
    in_shape = shape[:d] + [input._data.shape[d]] + shape[d:]
    idx_shape = shape[:d] + [idx.shape[d]] + shape[d:]
    return gather(expand(input, in_shape), d,
                  Tensor._make(np.broadcast_to(idx, idx_shape), False, None, 0))


def scatter_add(input, dim, index, src):  # noqa: A002
    """out = input with src added at index along dim (repeated indices accumulate)."""
    d = _norm_dim(dim, input._data.ndim, "scatter_add")
    return P.ScatterAdd.apply(input, d, _check_index("scatter_add", input, index, d), src)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):  # noqa: A002
    """out = input with src (or value) written at index along dim. Where an index repeats,
    the last write wins (PyTorch leaves the choice unspecified) and only it gets a gradient."""
    d = _norm_dim(dim, input._data.ndim, "scatter")
    idx = _check_index("scatter", input, index, d)
    src = value if src is None else src
    if not isinstance(src, Tensor):
        src = Tensor._make(np.full(idx.shape, src, input._data.dtype), False, None, 0)
    target = _scatter_index(input._data.shape, d, idx)
    writer = np.full(input._data.shape, -1)
    ids = np.arange(idx.size).reshape(idx.shape)
    writer[target] = ids  # with repeated targets, the last assignment stays
    cleared = masked_fill(input, Tensor._make(writer >= 0, False, None, 0), 0.0)
    src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    losers = writer[target] != ids
    if losers.any():
        src = masked_fill(src, Tensor._make(losers, False, None, 0), 0.0)
    return P.ScatterAdd.apply(cleared, d, idx, src)


def nonzero(input, *, as_tuple=False):  # noqa: A002
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), False, None, 0) for i in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64), False, None, 0)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "sort")
    a = input._data
    idx = np.argsort(-a if descending else a, axis=d, kind="stable")
    return MinMax["sort"](gather(input, d, Tensor._make(idx, False, None, 0)),
                  Tensor._make(idx.astype(np.int64), False, None, 0))


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    return sort(input, dim, descending, stable)[1]


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    values, indices = sort(input, dim, descending=largest)
    d = _norm_dim(dim, input._data.ndim, "topk")
    return MinMax["topk"](narrow(values, d, 0, k), narrow(indices, d, 0, k))


__all__ = [
    "argsort", "gather", "index_select", "masked_select", "nonzero",
    "repeat_interleave", "scatter", "scatter_add", "sort", "take_along_dim", "topk"
]
