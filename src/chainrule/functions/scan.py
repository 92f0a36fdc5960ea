"""The public functions of the scan primitives (``ops/scan.py``): cumprod and logcumsumexp,
and the running extrema cummax/cummin (indices found with NumPy, values taken with
``gather``; ties at the latest position of the running extremum, as PyTorch on the CPU)."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..ops.scan import Cumprod, LogCumSumExp
from ..tensor import Tensor, _norm_dim
from ._common import _Values
from .shape_index import gather


def _plain(arr):
    return Tensor._make(np.asanyarray(arr), False, None, 0)


def cumprod(input, dim, *, dtype=None):  # noqa: A002
    """out_j = prod_{i <= j} x_i along ``dim`` (integers: an int64 result, no gradient)."""
    if dtype is not None:
        input = input.to(dtype)
    d = _norm_dim(dim, input._data.ndim, "cumprod")
    if input._data.dtype.kind != "f":
        a = input._data.astype(np.int64) if input._data.dtype != np.int64 else input._data
        return _plain(np.cumprod(a, axis=d) if a.ndim else a.copy())
    if input._data.ndim == 0:
        return input.clone()
    return Cumprod.apply(input, d)


def logcumsumexp(input, dim):  # noqa: A002
    """out_j = log sum_{i <= j} exp(x_i) along ``dim``, stable."""
    x = input if input._data.dtype.kind == "f" else input.to(_dtype.get_default_dtype())
    if x._data.ndim == 0:
        return x.clone()
    return LogCumSumExp.apply(x, _norm_dim(dim, x._data.ndim, "logcumsumexp"))


def _cum_extreme(input, dim, is_max):  # noqa: A002
    name = "cummax" if is_max else "cummin"
    a = input._data
    if a.ndim == 0:
        return _Values[name](input.clone(), _plain(np.zeros((), np.int64)))
    d = _norm_dim(dim, a.ndim, name)
    x = np.moveaxis(a, d, -1)
    n = x.shape[-1]
    if n == 0:
        return _Values[name](input.clone(), _plain(np.zeros(a.shape, np.int64)))
    acc = (np.maximum if is_max else np.minimum).accumulate(x, axis=-1)
    prev = np.concatenate([x[..., :1], acc[..., :-1]], axis=-1)
    better = (x >= prev) if is_max else (x <= prev)
    if x.dtype.kind == "f":
        better = better | (np.isnan(x) & ~np.isnan(prev))
    pos = np.where(better, np.arange(n), 0)  # position 0 is 0 either way
    idx = np.moveaxis(np.maximum.accumulate(pos, axis=-1), -1, d).astype(np.int64)
    return _Values[name](gather(input, d, _plain(idx)), _plain(idx))


def cummax(input, dim):  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and where it was reached."""
    return _cum_extreme(input, dim, True)


def cummin(input, dim):  # noqa: A002
    return _cum_extreme(input, dim, False)


__all__ = ["cummax", "cummin", "cumprod", "logcumsumexp"]
