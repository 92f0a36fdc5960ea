"""Sets, counting and search: unique, unique_consecutive, bincount, histc, histogram,
histogramdd, searchsorted, bucketize, isin, argwhere, unravel_index, and the differentiable
take / put (gather and scatter on the flattened tensor).

Only ``take`` and ``put`` are differentiable (as in PyTorch); every other result is a plain
tensor that does not require grad (float-weighted ``bincount`` and histograms included).
"""

from __future__ import annotations


import numpy as np

from ..return_types import make as make_rt
from .. import _dtype
from ..ops import shape as P
from ..tensor import Tensor, _norm_dim

_Histogram = make_rt("histogram", ["hist", "bin_edges"])
_Histogramdd = make_rt("histogramdd", ["hist", "bin_edges"])


def _plain(arr):
    return Tensor._make(np.asanyarray(arr), False, None, 0)


def _arr(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted; PyTorch sorts on the CPU even with sorted=False), or
    the distinct slices along ``dim``; optionally the inverse indices (input's shape, or
    the size of ``dim``) and the counts. NaNs are all distinct, as in PyTorch."""
    a = input._data
    if dim is not None:
        d = _norm_dim(dim, a.ndim, "unique")
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    else:
        vals, inv, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                      equal_nan=False)
        inv = inv.reshape(a.shape)
    out = [_plain(vals.astype(a.dtype, copy=False))]
    if return_inverse:
        out.append(_plain(inv.astype(np.int64)))
    if return_counts:
        out.append(_plain(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    a = input._data
    if dim is None:
        x = a.reshape(-1)
        change = x[1:] != x[:-1]
        shape = a.shape
    else:
        d = _norm_dim(dim, a.ndim, "unique_consecutive")
        x = np.moveaxis(a, d, 0)
        flat = x.reshape(x.shape[0], -1)
        change = (flat[1:] != flat[:-1]).any(axis=1)
        shape = (x.shape[0],)
    n = x.shape[0]
    start = np.concatenate([[True], change]) if n else np.zeros(0, bool)
    first = np.flatnonzero(start)
    vals = x[first]
    if dim is not None:
        vals = np.moveaxis(vals, 0, d)
    out = [_plain(np.ascontiguousarray(vals))]
    if return_inverse:
        out.append(_plain((np.cumsum(start) - 1).reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(_plain(np.diff(np.append(first, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """counts[i] = number of occurrences of i in the 1-D non-negative integer ``input``
    (or the sum of ``weights`` there: float64 for integer weights, the weights' dtype for
    float ones); at least ``minlength`` bins."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _plain(np.bincount(a, minlength=minlength).astype(np.int64))
    w = _arr(weights)
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out = np.bincount(a, weights=w, minlength=minlength)
    return _plain(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def histc(input, bins=100, min=0, max=0):  # noqa: A001, A002
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0;
    widened by 1 on each side when that range is a point); values outside are ignored."""
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(f'"histogram_cpu" not implemented for {input.dtype} (histc needs '
                           "a floating tensor)")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={min}, max={max}")
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=bins, range=(lo, hi))
    return _plain(counts.astype(a.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False):  # noqa: A001, A002
    """(hist, bin_edges) as ``numpy.histogram``: ``bins`` an int (equal bins over ``range``
    or the data's range) or a tensor of increasing edges."""
    a = input._data
    b = _arr(bins) if isinstance(bins, Tensor) else bins
    hist, edges = np.histogram(a, bins=b, range=range,
                               weights=None if weight is None else _arr(weight), density=density)
    return _Histogram(_plain(hist.astype(a.dtype)), _plain(edges.astype(a.dtype)))


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A001, A002
    """(hist, bin_edges) of the points in the rows of an (N, D) ``input``."""
    a = input._data
    b = [_arr(x) for x in bins] if isinstance(bins, (list, tuple)) and bins and isinstance(
        bins[0], Tensor) else bins
    rng = None if range is None else list(zip(range[::2], range[1::2]))
    hist, edges = np.histogramdd(a, bins=b, range=rng, density=density,
                                 weights=None if weight is None else _arr(weight))
    return _Histogramdd(_plain(hist.astype(a.dtype)),
                        tuple(_plain(e.astype(a.dtype)) for e in edges))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa: A002
                 sorter=None):
    """Indices where ``input`` would be inserted into the innermost dim of
    ``sorted_sequence`` (1-D, or with leading dims matching ``input``'s) to keep it sorted;
    ``right``/``side="right"`` puts equal values after the existing ones."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites, got "
                               "side of left while right was True")
        right = side == "right"
    seq = _arr(sorted_sequence)
    vals = _arr(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _arr(sorter).astype(np.int64), axis=-1)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=how)
    else:
        if vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                "searchsorted: boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we "
                f"got boundaries tensor {list(seq.shape)} and input value tensor "
                f"{list(vals.shape)}")
        rows = seq.reshape(-1, seq.shape[-1])
        v = vals.reshape(rows.shape[0], -1)
        out = np.stack([np.searchsorted(r, x, side=how) for r, x in zip(rows, v)]) if \
            rows.shape[0] else np.zeros(v.shape, np.int64)
        out = out.reshape(vals.shape)
    return _plain(np.asanyarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each value among the 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (``right``: boundaries[i-1] <= x < boundaries[i])."""
    if _arr(boundaries).ndim != 1:
        raise RuntimeError("bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{_arr(boundaries).ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a
    scalar)."""
    out = np.isin(_arr(elements), _arr(test_elements), assume_unique=assume_unique,
                  invert=invert)
    return _plain(out)


def argwhere(input):  # noqa: A002
    """The indices of the nonzero elements, one row per element (``nonzero()``)."""
    return _plain(np.argwhere(input._data).astype(np.int64))


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in an array of ``shape`` (a tuple of tensors)."""
    idx = _arr(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError("unravel_index: expected 'indices' to be an integer tensor")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = int(np.prod(shape))
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise RuntimeError("unravel_index: index out of bounds for the given shape")
    return tuple(_plain(c.astype(np.int64)) for c in np.unravel_index(idx % max(n, 1), shape))


def _flat_index(input, index, op):  # noqa: A002
    idx = _arr(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected a long tensor for index, got {idx.dtype}")
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError(f"{op}: out of range: tried to access index {bad} on a tensor of "
                         f"{n} elements.")
    return np.where(idx < 0, idx + n, idx).astype(np.int64)


def take(input, index):  # noqa: A002
    """input.flatten()[index], with index's shape (differentiable in input)."""
    idx = _flat_index(input, index, "take")
    return P.Getitem.apply(input.reshape(-1), idx)


def put(input, index, source, accumulate=False):  # noqa: A002
    """A copy of input with ``source`` written at the flat positions ``index`` (added when
    ``accumulate``); differentiable in input and source."""
    idx = _flat_index(input, index, "put").reshape(-1)
    src = source.reshape(-1)
    if src._data.size != idx.size:
        raise RuntimeError(f"put: expected source and index to have the same number of "
                           f"elements, but got {src._data.size} and {idx.size}")
    if src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    flat = input.reshape(-1)
    if accumulate:
        out = P.ScatterAdd.apply(flat, 0, idx, src)
    else:
        out = P.IndexPut.apply(flat, src, (idx,))
    return out.reshape(input._data.shape)


__all__ = [
    "argwhere", "bincount", "bucketize", "histc", "histogram", "histogramdd", "isin", "put",
    "searchsorted", "take", "unique", "unique_consecutive", "unravel_index",
]

_ = _dtype
