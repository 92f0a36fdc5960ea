"""Tensor creation functions (``tensor``, ``zeros``, ``randn``, ...), PyTorch's signatures."""

from __future__ import annotations

import numpy as np

from . import _budget, _dtype
from .random import _gen
from .tensor import Tensor, _to_array


def _shape(size):
    if len(size) == 1 and size[0].__class__ is not int and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:  # the common case: a tuple of Python ints, used as it is
        if s.__class__ is not int or s < 0:
            break
    else:
        _budget.charge(size)
        return size
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"invalid size {tuple(size)}: sizes must be non-negative integers")
    shape = tuple(int(s) for s in size)
    _budget.charge(shape)  # a no-op unless chainrule.load is rebuilding a module
    return shape


def _finish(arr, requires_grad):
    t = Tensor._make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype):
    return (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).np


def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor copying ``data`` (float32 for floats, int64 for ints, unless ``dtype``)."""
    if isinstance(data, Tensor):
        data = data._data
    arr = np.array(_to_array(data, dtype), copy=True)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype.to_dtype(dtype)):
        return data
    return Tensor._make(_to_array(data, dtype), False, None, 0)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    _dtype.from_np(array.dtype)
    return Tensor._make(array, False, None, 0)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(_shape(size), _float(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = np.empty(_shape(size), _float(dtype))
    arr.fill(1)  # what np.ones does, without its ~1 us of Python
    return _finish(arr, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.empty(_shape(size), _float(dtype)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _dtype.bool_
        elif isinstance(fill_value, int):
            dtype = _dtype.int64
    shape, dt = _shape((size,)), _float(dtype)
    if dt.kind == "f" and (fill_value.__class__ is float or fill_value.__class__ is int):
        arr = np.empty(shape, dt)  # what np.full does, without its ~1 us of Python
        arr.fill(fill_value)
    else:
        arr = np.full(shape, fill_value, dt)
    return _finish(arr, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 unless an argument is a float."""
    if end is None:
        start, end = 0, start
    vals = [start, end, step]
    if dtype is None:
        is_float = any(isinstance(_item(v), float) for v in vals)
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    vals = [_item(v) for v in vals]
    return _finish(np.arange(*vals, dtype=_dtype.to_dtype(dtype).np), requires_grad)


def _item(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.linspace(_item(start), _item(end), steps, dtype=_float(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False) -> Tensor:
    return _finish(np.logspace(start, end, steps, base=base, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _finish(_gen(generator).random(_shape(size)).astype(_float(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    arr = _gen(generator).standard_normal(_shape(size)).astype(_float(dtype))
    return _finish(arr, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: missing the size argument, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    arr = _gen(generator).integers(low, high, _shape((size,))).astype(dt.np)
    return _finish(arr, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    return Tensor._make(_gen(generator).permutation(n).astype(dt.np), False, None, 0)


def normal(mean, std, size=None, *, generator=None) -> Tensor:
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(s)) if size is None else _shape((size,))
    dt = next((x.dtype for x in (m, s) if isinstance(x, np.ndarray)), _float(None))
    out = Tensor._make((_gen(generator).standard_normal(shape) * s + m).astype(dt), False,
                       None, 0)
    for v in (mean, std):  # PyTorch's result is in the graph, with zero gradients
        if isinstance(v, Tensor) and v.requires_grad:
            out = out + v * 0
    return out


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """1 with probability ``input`` (or the float ``p`` for every element), else 0."""
    prob = input._data if p is None else np.full(input._data.shape, p)
    arr = (_gen(generator).random(prob.shape) < prob).astype(input._data.dtype)
    return Tensor._make(arr, False, None, 0)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:  # noqa: A002
    """Draw ``num_samples`` category indices per row of ``input`` (1-D or 2-D, non-negative
    weights, not necessarily normalised). With replacement: inverse-CDF sampling; without:
    the exponential race (the largest p_i / E_i, E_i ~ Exp(1)), so once the nonzero
    categories are used up, zero-weight ones follow in index order, as PyTorch does."""
    p = np.asarray(input._data, np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not np.all(np.isfinite(p)) or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = p.reshape(-1, p.shape[-1])
    n = rows.shape[1]
    total = rows.sum(1, keepdims=True)
    if (total <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    g = _gen(generator)
    if replacement:
        cdf = np.cumsum(rows / total, axis=1)
        u = g.random((rows.shape[0], num_samples))
        idx = (u[:, :, None] >= cdf[:, None, :]).sum(-1)
        arr = np.minimum(idx, n - 1)
    else:
        keys = rows / g._rng.exponential(1.0, rows.shape)
        arr = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    arr = arr.astype(np.int64).reshape(p.shape[:-1] + (num_samples,))
    return Tensor._make(arr, False, None, 0)


def _like(t, dtype):
    return t._data.dtype if dtype is None else _dtype.to_dtype(dtype).np


def zeros_like(input, *, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _finish(np.empty(input._data.shape, _like(input, dtype)), requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def rand_like(input, *, generator=None, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    arr = _gen(generator).random(input._data.shape).astype(_like(input, dtype))
    return _finish(arr, requires_grad)


def randn_like(input, *, generator=None, dtype=None, requires_grad=False) -> Tensor:  # noqa: A002
    arr = _gen(generator).standard_normal(input._data.shape).astype(_like(input, dtype))
    return _finish(arr, requires_grad)


def randint_like(input, low, high=None, *, generator=None, dtype=None) -> Tensor:  # noqa: A002
    if high is None:
        low, high = 0, low
    arr = _gen(generator).integers(low, high, input._data.shape).astype(_like(input, dtype))
    return Tensor._make(arr, False, None, 0)

__all__ = [
    "arange", "as_tensor", "bernoulli", "empty", "empty_like", "eye", "from_numpy", "full",
    "full_like", "linspace", "logspace", "multinomial", "normal", "ones", "ones_like", "rand",
    "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm", "tensor",
    "zeros", "zeros_like",
]
