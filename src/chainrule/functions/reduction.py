"""The public functions of the reduction primitives (``ops/reduction.py``): sum, mean,
prod, max/min, var/std, logsumexp, norm, cumsum, softmax and log_softmax."""

from __future__ import annotations

import builtins

import numpy as np

from .. import _dtype
from ..ops import reduction as P
from ..tensor import Tensor, _norm_dim
from ._common import MinMax, as_float
from .elementwise import maximum, minimum, where
from .shape_index import _gather_in_range, gather
from .unary import sqrt


# -- reductions ---------------------------------------------------------------------------
def _axes(dim, ndim, op):
    """Normalize ``dim`` (None, int, or sequence) to None or a sorted tuple of axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_norm_dim(int(dim), ndim, op),)
    axes = tuple(sorted({_norm_dim(int(d), ndim, op) for d in dim}))
    return axes if axes or ndim == 0 else None


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001, A002
    """Sum of all elements, or over ``dim`` (int or tuple). Integer and bool sums are int64."""
    if dim is None and dtype is None and input._data.dtype.kind == "f":
        return P.Sum.apply(input, None, keepdim)  # the common case, without normalising
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != np.int64:
        input = input.to(_dtype.int64)
    return P.Sum.apply(input, _axes(dim, input._data.ndim, "sum"), keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Arithmetic mean over all elements or ``dim`` (floating tensors only, as PyTorch)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean: could not infer output dtype; input dtype must be floating point, got "
            f"{input.dtype} (use .float() first)"
        )
    axes = _axes(dim, input._data.ndim, "mean")
    n = _count(input._data.shape, axes)
    return P.Mean.apply(input, axes, keepdim, n if n else float("nan"))


def _count(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        return Tensor._make(np.asanyarray(np.prod(input._data, axis=dim, keepdims=keepdim)).astype(
            np.int64), False, None, 0)
    axes = None if dim is None else (_norm_dim(dim, input._data.ndim, "prod"),)
    return P.Prod.apply(input, axes, keepdim)


def _minmax(input, dim, keepdim, other, is_max):  # noqa: A002
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):  # max(a, b)
        other = dim
    if other is not None:
        return maximum(input, other) if is_max else minimum(input, other)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): expected a non-empty tensor (use amax/amin with dim)")
        return (P.Amax if is_max else P.Amin).apply(input, None, False)
    d = _norm_dim(dim, input._data.ndim, name)
    a = input._data
    if not a.ndim:  # a 0-d tensor: its one element and index 0, as PyTorch
        return _minmax(input.reshape(1), 0, False, None, is_max)
    if a.__class__ is np.ndarray:  # the array's method (np.argmax's wrapper costs ~2 us)
        idx = (a.argmax if is_max else a.argmin)(axis=d, keepdims=True)
        values = _gather_in_range(input, d, idx)
    else:
        idx = (np.argmax if is_max else np.argmin)(a, axis=d, keepdims=True)
        values = gather(input, d, Tensor._make(idx, False, None, 0))
    if not keepdim:
        values = values.squeeze(d)
        idx = idx.squeeze(d) if idx.__class__ is np.ndarray else np.squeeze(idx, d)
    # a copy: the Gather node keeps idx for its backward
    return MinMax[name](values, Tensor._make(idx.astype(np.int64), False, None, 0))


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    """max of all elements; with ``dim``, (values, indices); with a tensor, ``maximum``."""
    return _minmax(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    return _minmax(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim=False):  # noqa: A002
    """Max over ``dim`` (all dims if empty); ties share the gradient evenly."""
    axes = None if dim == () or dim is None else _axes(dim, input._data.ndim, "amax")
    return P.Amax.apply(input, axes, keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    axes = None if dim == () or dim is None else _axes(dim, input._data.ndim, "amin")
    return P.Amin.apply(input, axes, keepdim)


def _arg_extreme(find, name):
    def fn(input, dim=None, keepdim=False):  # noqa: A002
        if dim is None:
            arr = np.asanyarray(find(input._data))
            return Tensor._make(arr.reshape((1,) * input._data.ndim if keepdim else ()).astype(
                np.int64), False, None, 0)
        d = _norm_dim(dim, input._data.ndim, name)
        a = input._data
        # the array's own method: np.argmax's Python wrapper costs ~2 us a call
        idx = (find(a, axis=d, keepdims=keepdim) if a.__class__ is not np.ndarray
               else getattr(a, name)(axis=d, keepdims=keepdim))
        return Tensor._make(idx.astype(np.int64, copy=False), False, None, 0)

    fn.__name__ = fn.__qualname__ = name
    return fn


argmax = _arg_extreme(np.argmax, "argmax")
argmin = _arg_extreme(np.argmin, "argmin")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """sum((x - mean)^2) / (N - correction); correction=1 (unbiased) by default."""
    if isinstance(dim, bool):  # var(x, False): the legacy "unbiased" positional
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _axes(dim, input._data.ndim, "var")
    n = _count(input._data.shape, axes)
    centered = input - mean(input, axes, keepdim=True)
    ss = (centered * centered).sum(axes, keepdim=keepdim)
    # N - correction <= 0 gives inf (or nan for 0/0), as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return ss / builtins.max(n - correction, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """sqrt(var); its gradient where the variance is 0 (constant input) is 0, as PyTorch."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    zero = v == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log(sum(exp(x))) over ``dim``, computed stably (shifted by the max)."""
    if input._data.dtype.kind != "f":
        input = as_float(input)
    return P.LogSumExp.apply(input, _axes(dim, input._data.ndim, "logsumexp"), keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements by default); "fro" means p = 2.

    The 2-norm's gradient at the zero vector is taken as 0 (a subgradient), as PyTorch.
    """
    if dtype is not None:
        input = input.to(dtype)
    axes = _axes(dim, input._data.ndim, "norm")
    if p in ("fro", 2, 2.0):
        ss = (input * input).sum(axes, keepdim=keepdim)
        zero = ss == 0
        return where(zero, 0.0, sqrt(where(zero, 1.0, ss)))
    if p in (1, 1.0):
        return input.abs().sum(axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(input.abs(), axes, keepdim)
    if p == -float("inf"):
        return amin(input.abs(), axes, keepdim)
    if p == 0:
        return (input != 0).to(input.dtype).sum(axes, keepdim=keepdim)
    total = (input.abs() ** p).sum(axes, keepdim=keepdim)
    if p < 0:
        return total ** (1.0 / p)
    zero = total == 0  # as the 2-norm: gradient 0 at the zero vector, not 0 * inf
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / p))


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    return Tensor._make(np.asanyarray(np.all(input._data, axis=dim, keepdims=keepdim)), False, None, 0)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    return Tensor._make(np.asanyarray(np.any(input._data, axis=dim, keepdims=keepdim)), False, None, 0)


def count_nonzero(input, dim=None):  # noqa: A002
    return Tensor._make(np.asanyarray(np.count_nonzero(input._data, axis=dim)).astype(np.int64), False, None, 0)


def cumsum(input, dim, *, dtype=None):  # noqa: A002
    if dtype is not None:
        input = input.to(dtype)
    return P.Cumsum.apply(input, _norm_dim(dim, input._data.ndim, "cumsum"))


def softmax(input, dim, dtype=None):  # noqa: A002
    """exp(x_i) / sum_j exp(x_j) along ``dim``, stable (shifted by the max)."""
    if dtype is not None:
        input = input.to(dtype)
    return P.Softmax.apply(input, _norm_dim(dim, input._data.ndim, "softmax"))


def log_softmax(input, dim, dtype=None):  # noqa: A002
    """x_i - logsumexp(x) along ``dim``, stable."""
    if dtype is not None:
        input = input.to(dtype)
    return P.LogSoftmax.apply(input, _norm_dim(dim, input._data.ndim, "log_softmax"))


__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "count_nonzero", "cumsum", "log_softmax",
    "logsumexp", "max", "mean", "min", "norm", "prod", "softmax", "std", "std_mean", "sum",
    "var", "var_mean"
]
