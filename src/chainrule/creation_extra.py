"""More creation functions: asarray, frombuffer, empty_strided, empty_permuted, range, the
signal windows (hann, hamming, blackman, bartlett, kaiser), poisson and binomial sampling,
and clear refusals for the complex constructors (chainrule has no complex dtypes).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _dtype
from .ops import bessel_np as B
from .random import _gen
from .tensor import Tensor, _to_array


def _finish(arr, requires_grad=False):
    t = Tensor._make(arr, False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def _float(dtype):
    return (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).np


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """A tensor from ``obj`` sharing its memory when possible (a tensor, a NumPy array or a
    buffer of the requested dtype); ``copy=True`` always copies, ``copy=False`` raises when a
    copy would be needed."""
    if isinstance(obj, Tensor):
        arr = obj._data
    elif isinstance(obj, np.ndarray):
        arr = obj
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        arr = np.frombuffer(obj, dtype=_float(dtype))
    else:
        arr = _to_array(obj)
    want = arr.dtype if dtype is None else _dtype.to_dtype(dtype).np
    if want != arr.dtype:
        if copy is False:
            raise ValueError(f"can't alias tensor with dtype '{_dtype.from_np(arr.dtype).name}' "
                             f"into dtype '{_dtype.from_np(want).name}'.")
        arr = arr.astype(want)
    elif copy:
        arr = arr.copy()
    if isinstance(obj, Tensor) and arr is obj._data and not requires_grad:
        return obj
    return _finish(arr, requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D tensor over the bytes of a Python buffer (shared, no copy)."""
    arr = np.frombuffer(buffer, dtype=_dtype.to_dtype(dtype).np, count=count, offset=offset)
    return _finish(arr, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised tensor of ``size`` (chainrule's tensors are row-major NumPy arrays:
    the strides are accepted, not honoured)."""
    if len(tuple(size)) != len(tuple(stride)):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(tuple(size))} vs "
                           f"{len(tuple(stride))})")
    return _finish(np.empty(tuple(size), _float(dtype)), requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, device=None,
                   requires_grad=False) -> Tensor:
    """An uninitialised tensor of ``size`` (the physical layout is not honoured)."""
    return _finish(np.empty(tuple(size), _float(dtype)), requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """Deprecated PyTorch ``range``: [start, end] inclusive, a float tensor by default."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    return _finish((start + np.arange(max(n, 0)) * step).astype(_float(dtype)), requires_grad)


def _window(name, fn):
    def window(window_length, periodic=True, *args, dtype=None, device=None,
               requires_grad=False, **kwargs):
        if window_length < 0:
            raise RuntimeError(f"{name} requires non-negative window length, got "
                               f"window_length={window_length}")
        dt = _float(dtype)
        if window_length <= 1:
            return _finish(np.ones(window_length, dt), requires_grad)
        n = window_length + 1 if periodic else window_length
        vals = fn(np.arange(n, dtype=np.float64), n, *args, **kwargs)[:window_length]
        return _finish(vals.astype(dt), requires_grad)

    window.__name__ = window.__qualname__ = name
    return window


# the window formulas at points k of a symmetric window of n points (also signal.windows)
def _cos_sum(k, n, *coeffs):
    x = 2 * math.pi * k / (n - 1)
    return sum(c * np.cos(j * x) * (-1) ** j for j, c in enumerate(coeffs))


def _triangle(k, n):
    return 1 - np.abs(2 * k / (n - 1) - 1)


def _kaiser(k, n, beta=12.0):
    return (B.i0(beta * np.sqrt(np.maximum(0.0, 1 - (2 * k / (n - 1) - 1) ** 2)))
            / B.i0(np.asarray(beta, np.float64)))


hann_window = _window("hann_window", lambda k, n: _cos_sum(k, n, 0.5, 0.5))
hann_window.__doc__ = "0.5 - 0.5 cos(2 pi k / (N - 1)) (periodic: N = length + 1, last dropped)."
hamming_window = _window("hamming_window",
                         lambda k, n, alpha=0.54, beta=0.46: _cos_sum(k, n, alpha, beta))
hamming_window.__doc__ = "alpha - beta cos(2 pi k / (N - 1)) (alpha 0.54, beta 0.46)."
blackman_window = _window("blackman_window", lambda k, n: _cos_sum(k, n, 0.42, 0.5, 0.08))
blackman_window.__doc__ = "0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1))."
bartlett_window = _window("bartlett_window", _triangle)
bartlett_window.__doc__ = "1 - |2k / (N - 1) - 1| (triangular)."
kaiser_window = _window("kaiser_window", _kaiser)
kaiser_window.__doc__ = "I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta) (beta 12)."


def poisson(input, generator=None) -> Tensor:  # noqa: A002
    """Samples of Poisson distributions with the rates in ``input`` (input's dtype)."""
    rates = input._data
    if rates.size and rates.min() < 0:
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return _finish(_gen(generator)._rng.poisson(rates).astype(rates.dtype))


def binomial(count, prob, generator=None) -> Tensor:
    """Samples of Binomial(count, prob) elementwise (prob's dtype)."""
    n = count._data if isinstance(count, Tensor) else np.asarray(count)
    p = prob._data if isinstance(prob, Tensor) else np.asarray(prob)
    return _finish(_gen(generator)._rng.binomial(n.astype(np.int64), p).astype(p.dtype))


def _no_complex(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(
            f"{name}: chainrule has no complex dtypes; keep the real and imaginary parts as "
            "two real tensors (e.g. re = abs * cos(angle), im = abs * sin(angle) for polar)")

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "Refused: chainrule has no complex dtypes."
    return fn


polar = _no_complex("polar")
complex = _no_complex("complex")  # noqa: A001
view_as_complex = _no_complex("view_as_complex")
view_as_real = _no_complex("view_as_real")
view_as_complex_copy = _no_complex("view_as_complex_copy")
view_as_real_copy = _no_complex("view_as_real_copy")

__all__ = [
    "asarray", "bartlett_window", "binomial", "blackman_window", "complex", "empty_permuted",
    "empty_strided", "frombuffer", "hamming_window", "hann_window", "kaiser_window", "poisson",
    "polar", "range", "view_as_complex", "view_as_complex_copy", "view_as_real",
    "view_as_real_copy",
]
