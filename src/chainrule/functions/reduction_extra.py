"""More reductions (composed; the scans are in ``scan.py``): median/nanmedian, mode,
kthvalue, quantile/nanquantile, nansum/nanmean, aminmax, dist, renorm, msort.

Selections (median, mode, kthvalue, quantile) find their indices with NumPy (a
stable sort, NaN last) and take the values with ``gather``, so the gradient goes to the
selected elements, as in PyTorch. Ties follow what PyTorch 2.13 does on the CPU: median the lower middle
element of a stable sort, mode the smallest of the most frequent values at its last
position, kthvalue the k-th element of a stable sort.
"""

from __future__ import annotations


import numpy as np

from . import elementwise as FE
from . import reduction as FR
from . import unary as FU
from ._common import _AMinMax, _Values
from .shape import movedim
from .shape_index import gather
from ..tensor import Tensor, _norm_dim


def _plain(arr):
    return Tensor._make(np.asanyarray(arr), False, None, 0)


def _sorted_rows(a, d):
    """The stable argsort of a along d (NaN last), with d moved to the end."""
    x = np.moveaxis(a, d, -1)
    return x, np.argsort(x, axis=-1, kind="stable")


def _select(input, d, pos_fn, keepdim, name, nan_rule):
    """values/indices of the element at sorted position ``pos_fn(x, order)`` per line."""
    a = input._data
    if a.ndim == 0:
        return _Values[name](input.clone(), _plain(np.zeros((), np.int64)))
    x, order = _sorted_rows(a, d)
    if x.shape[-1] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    pos = pos_fn(x, order)
    idx = np.take_along_axis(order, pos[..., None], axis=-1)
    if nan_rule == "propagate" and x.dtype.kind == "f":
        has_nan = np.isnan(x).any(axis=-1, keepdims=True)
        first_nan = np.argmax(np.isnan(x), axis=-1)[..., None]
        idx = np.where(has_nan, first_nan, idx)
    idx = np.moveaxis(idx, -1, d).astype(np.int64)
    values = gather(input, d, _plain(idx))
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, d)
    return _Values[name](values, _plain(idx))


def _median(input, dim, keepdim, ignore_nan):  # noqa: A002
    name = "nanmedian" if ignore_nan else "median"

    def pos(x, order):
        n = (~np.isnan(x)).sum(-1) if (ignore_nan and x.dtype.kind == "f") else np.full(
            x.shape[:-1], x.shape[-1])
        return np.maximum(n - 1, 0) // 2

    if dim is None:
        flat = input.reshape(-1)
        if flat._data.size == 0:
            return FR.mean(flat) if flat._data.dtype.kind == "f" else flat.sum()
        return _select(flat, 0, pos, False, name, None if ignore_nan else "propagate").values
    d = _norm_dim(dim, input._data.ndim, name)
    return _select(input, d, pos, keepdim, name, None if ignore_nan else "propagate")


def median(input, dim=None, keepdim=False):  # noqa: A002
    """The lower median (of two middle values, the smaller); NaN if the line has a NaN.
    Without ``dim``: the value; with ``dim``: (values, indices)."""
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    """median ignoring NaN (NaN only for an all-NaN line)."""
    return _median(input, dim, keepdim, True)


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices) of the k-th smallest element (k from 1) along ``dim``."""
    d = _norm_dim(dim, input._data.ndim, "kthvalue")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {d} "
                         f"(k = {k}, size {n})")
    return _select(input, d, lambda x, o: np.full(x.shape[:-1], k - 1), keepdim, "kthvalue",
                   None)


def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices): the most frequent value along ``dim`` (the smallest on ties) and
    its last position."""
    d = _norm_dim(dim, input._data.ndim, "mode")

    def pos(x, order):
        s = np.take_along_axis(x, order, axis=-1)
        n = s.shape[-1]
        ar = np.arange(n)
        start = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]],
                               axis=-1)
        first = np.maximum.accumulate(np.where(start, ar, 0), axis=-1)
        end = np.concatenate([start[..., 1:], np.ones(s.shape[:-1] + (1,), bool)], axis=-1)
        last = n - 1 - np.maximum.accumulate(np.where(end, n - 1 - ar, 0)[..., ::-1],
                                              axis=-1)[..., ::-1]
        best = np.argmax(last - first, axis=-1)
        return np.take_along_axis(last, best[..., None], axis=-1)[..., 0]

    return _select(input, d, pos, keepdim, "mode", None)


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """(min, max) over all elements or ``dim``."""
    if input._data.size == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    return _AMinMax(FR.amin(input, () if dim is None else dim, keepdim),
                    FR.amax(input, () if dim is None else dim, keepdim))


def nansum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Sum treating NaN as zero."""
    if input._data.dtype.kind == "f":
        input = FE.where(FE.isnan(input), 0.0, input)
    return FR.sum(input, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Mean of the non-NaN elements (NaN where there are none)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{input.dtype}")
    keep = ~FE.isnan(input)
    count = FR.sum(keep, dim, keepdim).to(input.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return nansum(input, dim, keepdim) / count


def dist(input, other, p=2):  # noqa: A002
    """The p-norm of input - other."""
    return FR.norm(input - other, p)


def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each sub-tensor along ``dim`` (input.select(dim, i)) whose p-norm exceeds
    ``maxnorm`` is scaled to norm maxnorm (factor maxnorm / (norm + 1e-7), as PyTorch)."""
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive norm not supported, got p = {p}")
    d = _norm_dim(dim, input._data.ndim, "renorm")
    others = tuple(i for i in range(input._data.ndim) if i != d)
    norm = FR.norm(input, p, others, keepdim=True) if others else FU.abs(input)
    factor = FE.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def msort(input):  # noqa: A002
    """Sorted along dim 0 (values only)."""
    return input.sort(0)[0]


_QUANTILE_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):  # noqa: A002
    name = "nanquantile" if ignore_nan else "quantile"
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _QUANTILE_MODES:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    qa = np.asarray(q._data if isinstance(q, Tensor) else q, dtype=input._data.dtype)
    if qa.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if qa.size and (qa.min() < 0 or qa.max() > 1):
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {qa}")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _norm_dim(dim, x._data.ndim, name)
    if x._data.ndim == 0:
        x, d = x.reshape(1), 0
    xs = movedim(x, d, -1)
    vals, order = _sorted_rows(xs._data, -1)
    n = vals.shape[-1]
    if n == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    nan = np.isnan(vals)
    valid = (~nan).sum(-1, keepdims=True) if ignore_nan else np.full(vals.shape[:-1] + (1,), n)
    rank = qa.reshape(-1) * np.maximum(valid - 1, 0)  # (..., nq)
    lo, hi = np.floor(rank), np.ceil(rank)
    w = rank - lo
    if interpolation == "lower":
        hi, w = lo, 0 * w
    elif interpolation == "higher":
        lo, w = hi, 0 * w
    elif interpolation == "nearest":
        lo = hi = np.round(rank)
        w = 0 * w
    elif interpolation == "midpoint":
        w = np.where(hi > lo, 0.5, 0.0).astype(w.dtype)
    take = lambda p: gather(xs, -1, _plain(np.take_along_axis(order, p.astype(np.int64), -1)))  # noqa: E731
    lower, upper = take(lo), take(hi)
    out = lower + _plain(w.astype(vals.dtype)) * (upper - lower)
    bad = (valid == 0) if ignore_nan else nan.any(-1, keepdims=True)
    out = FE.where(_plain(bad), float("nan"), out)
    # out is (..., nq): q's dim goes first, the reduced dim is dropped (or kept as 1)
    if keepdim and dim is not None:
        out = out.unsqueeze(d)
    elif keepdim:
        out = out.reshape((1,) * input._data.ndim + (out.shape[-1],))
    out = movedim(out, -1, 0)
    return out.squeeze(0) if qa.ndim == 0 else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """The q-th quantiles (q a float or 1-D tensor in [0, 1]) over ``dim`` (all elements if
    None); a 1-D q adds a leading dim. Any NaN in a line gives NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """quantile ignoring NaN (NaN for an all-NaN line)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


__all__ = [
    "aminmax", "dist", "kthvalue", "median", "mode", "msort", "nanmean", "nanmedian",
    "nanquantile", "nansum", "quantile", "renorm"
]
