"""``torch.signal.windows``: the window functions of signal processing, with PyTorch's
formulas, defaults and checks.

Each takes the length ``M`` and keyword-only ``sym`` (True: symmetric, for filter design;
False: periodic, for spectral analysis: the symmetric window of length M + 1 without its
last point), ``dtype`` (a floating dtype; default: the default dtype), ``layout``,
``device`` and ``requires_grad``. ``M == 0`` gives an empty tensor, ``M == 1`` a one.
With N = M - 1 (symmetric) or M (periodic), for n = 0 .. M - 1:

    bartlett         1 - |2n / N - 1|
    cosine           sin(pi (n + 1/2) / (N + 1))
    exponential      exp(-|n - center| / tau), center = N / 2 by default (symmetric only)
    gaussian         exp(-(n - N / 2)^2 / (2 std^2))
    general_cosine   sum_i (-1)^i a_i cos(2 pi i n / N)
    general_hamming  general_cosine with a = [alpha, 1 - alpha]
    hann, hamming    general_hamming with alpha 0.5, 0.54
    blackman         general_cosine with a = [0.42, 0.5, 0.08]
    nuttall          general_cosine with a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]
    kaiser           I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta)

Example::

    >>> chainrule.signal.windows.hann(4, sym=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._device import check_cpu
from ..creation_extra import _cos_sum, _kaiser, _triangle
from ..tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _window(name, M, dtype, layout, device, requires_grad, values):
    """Check the arguments as PyTorch does and build the tensor from ``values(n, N)``."""
    if layout is not None and getattr(layout, "name", str(layout)).rsplit(".", 1)[-1] \
            != "strided":
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not d.is_floating_point:
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {d}")
    if device is not None:
        check_cpu(device, f"signal.windows.{name}")
    if M == 0:
        arr = np.zeros(0, d.np)
    elif M == 1:
        arr = np.ones(1, d.np)
    else:
        arr = values(np.arange(M, dtype=np.float64)).astype(d.np)
    return Tensor._make(arr, bool(requires_grad), None, 0)


def _n(M, sym):
    """N, the formulas' denominator: M - 1 (symmetric) or M (periodic)."""
    return M - 1 if sym else M


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """1 - |2n / N - 1|."""
    return _window("bartlett", M, dtype, layout, device, requires_grad,
                   lambda n: _triangle(n, _n(M, sym) + 1))


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / (N + 1)) (a half period of a sine)."""
    return _window("cosine", M, dtype, layout, device, requires_grad,
                   lambda n: np.sin(np.pi * (n + 0.5) / (_n(M, sym) + 1)))


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau); ``center`` defaults to the middle (N / 2) and may only be
    given for a periodic window."""
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    c = _n(M, sym) / 2 if center is None else center
    return _window("exponential", M, dtype, layout, device, requires_grad,
                   lambda n: np.exp(-np.abs(n - c) / tau))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False):
    """exp(-(n - N / 2)^2 / (2 std^2))."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _window("gaussian", M, dtype, layout, device, requires_grad,
                   lambda n: np.exp(-((n - _n(M, sym) / 2) / std) ** 2 / 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False):
    """I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta) (I0: the modified Bessel function)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _window("kaiser", M, dtype, layout, device, requires_grad,
                   lambda n: _kaiser(n, _n(M, sym) + 1, beta))


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / N) for the coefficients ``a``."""
    if not hasattr(a, "__iter__"):
        raise TypeError("Coefficients must be a list/tuple")
    coeffs = [float(c) for c in (a.tolist() if isinstance(a, Tensor) else a)]
    if not coeffs:
        raise ValueError("Coefficients cannot be empty")

    return _window("general_cosine", M, dtype, layout, device, requires_grad,
                   lambda n: _cos_sum(n, _n(M, sym) + 1, *coeffs))


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """general_cosine with a = [alpha, 1 - alpha]."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """general_hamming with alpha = 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """general_hamming with alpha = 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """general_cosine with a = [0.42, 0.5, 0.08]."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """general_cosine with Nuttall's four coefficients."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
