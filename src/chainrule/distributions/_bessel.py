"""log I_0 and log I_1, the logs of the modified Bessel functions of the first kind (for
``VonMises``), as a chainrule primitive.

Kernel (float64, no SciPy): for x < 15 the all-positive series
I_nu(x) = (x/2)^nu sum_k (x^2/4)^k / (k! (k + nu)!); from 15 on the asymptotic expansion
I_nu(x) ~ e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k, a_k = prod_{j<=k} (4nu^2 - (2j-1)^2)
/ (k! 8^k), whose smallest term there is below 1e-13. Relative error ~1e-15 (PyTorch's
polynomial approximations: ~1e-7). The derivatives (I_0' = I_1, I_1' = I_0 - I_1 / x) are
written with the primitive itself, so every order of derivative exists.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

_SWITCH = 15.0


def _series(x, nu):
    q = x * x / 4.0
    term = np.ones_like(x) / math.factorial(nu)
    total = term.copy()
    for k in range(1, 80):
        term = term * q / (k * (k + nu))
        total += term
        if np.all(term <= 1e-17 * total):
            break
    if nu == 0:
        return np.log(total)
    with np.errstate(divide="ignore"):
        return np.log(total) + np.log(x / 2.0)


def _asymptotic(x, nu):
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, 40):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total += term
    return x - 0.5 * np.log(2 * math.pi * x) + np.log(total)


def log_bessel_i_array(nu: int, x: np.ndarray) -> np.ndarray:
    """log I_nu(x) for nu in {0, 1} and x >= 0 (float64)."""
    x64 = np.asarray(x, np.float64)
    out = np.empty_like(x64)
    small = x64 < _SWITCH
    out[small] = _series(x64[small], nu)
    out[~small] = _asymptotic(x64[~small], nu)
    return out


class LogBesselI(Function):
    """out = log I_nu(x), nu in {0, 1}.

    VJP: nu = 0: grad * I_1 / I_0;  nu = 1: grad * (I_0 / I_1 - 1 / x).   JVP: alike.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, nu):
        ctx.nu = nu
        ctx.save_for_backward(x)
        return log_bessel_i_array(nu, x).astype(x.dtype)

    @staticmethod
    def _d(ctx):
        (x,) = ctx.saved_tensors
        ratio = (LogBesselI.apply(x, 1) - LogBesselI.apply(x, 0)).exp()  # I_1 / I_0
        return ratio if ctx.nu == 0 else ratio.reciprocal() - x.reciprocal()

    @staticmethod
    def backward(ctx, grad):
        return grad * LogBesselI._d(ctx), None

    @staticmethod
    def jvp(ctx, x_dot, nu_dot):
        return x_dot * LogBesselI._d(ctx)


def log_bessel_i(x: Tensor, nu: int) -> Tensor:
    """log I_nu(x) (nu = 0 or 1)."""
    if nu not in (0, 1):
        raise ValueError(f"log_bessel_i: order must be 0 or 1, got {nu}")
    return LogBesselI.apply(x, nu)


def _register_vmap_rule():
    from ..func._batching import register, unary

    register(LogBesselI, unary)


_register_vmap_rule()
