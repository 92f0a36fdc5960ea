"""More indexing writes: scatter_reduce, index_reduce, index_put, masked_scatter,
select_scatter, slice_scatter, diagonal_scatter, and the out-of-place form of
fill_diagonal_. All are composed from the ``IndexPut``, ``ScatterAdd``, ``Getitem`` and
reduction primitives, so they are differentiable (with PyTorch's gradients) and batch
under vmap; the in-place forms are bound in ``_methods_extra``.

scatter_reduce's rules (PyTorch's): "sum" and "mean" add the sources (mean divides by the
number of values, self counted when ``include_self``); "amax"/"amin" share the gradient
evenly among the values equal to the result; "prod" gives each value the product of the
others (exact with zeros: the values of each target are laid out in a padded table and
reduced with the ``Prod`` primitive).
"""

from __future__ import annotations

import numpy as np

from . import ops as P
from .functions import shape as FS
from .functions import shape_index as FI
from .functions import elementwise as FE
from ._inplace_ops import _index_tuple
from .ops.shape import _scatter_index
from .tensor import Tensor, _norm_dim

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _plain(arr):
    return Tensor._make(np.asanyarray(arr), False, None, 0)


def _targets(self, d, idx):
    """Flat target position (into self) of each source element addressed by idx."""
    return np.ravel_multi_index(_scatter_index(self._data.shape, d, idx), self._data.shape)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """input with the values of ``src`` reduced into the positions ``index`` gives along
    ``dim`` (reduce: "sum", "prod", "mean", "amax", "amin"); positions no index names keep
    input's value."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d = _norm_dim(dim, input._data.ndim, "scatter_reduce")
    idx = FI._check_index("scatter_reduce", input, index, d)
    if src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    src = FI.getitem(src, tuple(slice(0, n) for n in idx.shape))
    target = _targets(input, d, idx).reshape(-1)
    counts = np.bincount(target, minlength=input._data.size).reshape(input._data.shape)
    touched = _plain(counts > 0)
    flat_src = FS.reshape(src, (-1,))
    if reduce in ("sum", "mean"):
        base = input if include_self else FE.where(touched, 0, input)
        out = P.ScatterAdd.apply(base, d, idx, src)
        if reduce == "mean":
            n = counts + (1 if include_self else 0)
            den = _plain(np.maximum(n, 1).astype(input._data.dtype))
            out = FE.where(touched, out / den, input) if input._data.dtype.kind == "f" else \
                FE.where(touched, FE.div(out, den, rounding_mode="floor"), input)
        return out
    # prod / amax / amin: a (positions, k) table of the values reaching each position
    k = int(counts.max()) if counts.size else 0
    order = np.argsort(target, kind="stable")
    rank = np.empty_like(order)
    starts = np.concatenate([[0], np.cumsum(np.bincount(target, minlength=input._data.size))])
    rank[order] = np.arange(order.size) - starts[target[order]]
    fill = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
    if input._data.dtype.kind != "f" and reduce != "prod":
        info = np.iinfo(input._data.dtype) if input._data.dtype.kind in "iu" else None
        fill = (info.min if reduce == "amax" else info.max) if info else fill
    pad = _plain(np.full((input._data.size, k + 1), fill, input._data.dtype))
    table = P.IndexPut.apply(pad, flat_src, (target, rank + 1))
    if include_self:
        table = P.IndexPut.apply(table, FS.reshape(input, (-1,)), (slice(None), 0))
    if reduce == "prod":
        red = P.Prod.apply(table, (1,), False) if input._data.dtype.kind == "f" else _plain(
            np.prod(table._data, axis=1))
    else:
        red = (P.Amax if reduce == "amax" else P.Amin).apply(table, (1,), False)
    return FE.where(touched, FS.reshape(red, input._data.shape), input)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):  # noqa: A002
    """input with the slices of ``source`` reduced into the slices ``index`` names along
    ``dim`` (reduce: "prod", "mean", "amax", "amin")."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d, idx = _index_tuple(input, dim, index, "index_reduce")
    i = idx[-1]
    shape = [1] * max(input._data.ndim, 1)
    shape[d] = i.shape[0]
    full = np.broadcast_to(i.reshape(shape), tuple(source.shape))
    return scatter_reduce(input, d, _plain(np.ascontiguousarray(full)), source, reduce,
                          include_self=include_self)


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """input with ``input[indices] = values`` (``+=`` when ``accumulate``, repeated indices
    adding up), out of place; ``indices`` is a tuple of index tensors."""
    np_idx = FI._index(tuple(indices))
    if not isinstance(values, Tensor):
        values = _plain(np.asarray(values, input._data.dtype))
    elif values._data.dtype != input._data.dtype:
        values = values.to(input.dtype)
    if not accumulate:
        return P.IndexPut.apply(input, values, np_idx)
    target = input._data[np_idx].shape
    return input + P.IndexAdd.apply(FS.expand(values, target), input._data.shape, np_idx)


def masked_scatter(input, mask, source):  # noqa: A002
    """input with the positions where ``mask`` (broadcast to input) is True filled, in
    row-major order, with the first elements of ``source``."""
    m = np.broadcast_to(mask._data if isinstance(mask, Tensor) else np.asarray(mask),
                        input._data.shape)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {m.dtype}")
    k = int(m.sum())
    if source._data.size < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements "
                           f"(the number of True values in mask), got {source._data.size}")
    vals = FS.narrow(FS.reshape(source, (-1,)), 0, 0, k)
    if vals._data.dtype != input._data.dtype:
        vals = vals.to(input.dtype)
    return P.IndexPut.apply(input, vals, np.nonzero(m))


def select_scatter(input, src, dim, index):  # noqa: A002
    """input with ``input.select(dim, index)`` replaced by src."""
    d = _norm_dim(dim, input._data.ndim, "select_scatter")
    return P.IndexPut.apply(input, src.to(input.dtype), (slice(None),) * d + (int(index),))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):  # noqa: A002
    """input with ``input[..., start:end:step, ...]`` (along dim) replaced by src."""
    d = _norm_dim(dim, input._data.ndim, "slice_scatter")
    return P.IndexPut.apply(input, src.to(input.dtype),
                            (slice(None),) * d + (slice(start, end, step),))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):  # noqa: A002
    """input with its ``offset`` diagonal over (dim1, dim2) replaced by src (whose last dim
    runs along the diagonal, as ``diagonal`` returns it)."""
    from .linalg_ops import _diag_index

    nd = input._data.ndim
    d1, d2 = _norm_dim(dim1, nd, "diagonal_scatter"), _norm_dim(dim2, nd, "diagonal_scatter")
    rows, cols = _diag_index(input._data.shape[d1], input._data.shape[d2], offset)
    x = FS.movedim(input, (d1, d2), (-2, -1))
    out = P.IndexPut.apply(x, src.to(input.dtype), (Ellipsis, rows, cols))
    return FS.movedim(out, (-2, -1), (d1, d2))


def fill_diagonal(input, fill_value, wrap=False):  # noqa: A002
    """input with its main diagonal set to ``fill_value`` (NumPy's fill_diagonal rules: all
    dims equal for more than 2 dims; ``wrap`` restarts the diagonal below a tall matrix)."""
    a = input._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(a.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return FE.where(_plain(mask), np.asarray(fill_value, a.dtype).item(), input)


__all__ = ["diagonal_scatter", "index_put", "index_reduce", "masked_scatter",
           "scatter_reduce", "select_scatter", "slice_scatter"]
