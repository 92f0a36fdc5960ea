"""Special functions the distributions need, as chainrule primitives: ``lgamma``,
``digamma``, ``polygamma``, ``erfinv`` (and ``xlogy``, composed).

NumPy has none of them and SciPy is not a runtime dependency, so the kernels are written
here in float64 (float32 inputs are computed in float64 and rounded):

* ``lgamma``: the recurrence log G(x) = log G(x + m) - log(x (x+1) ... (x+m-1)) moves x to
  x + m >= 12, where Stirling's series with 7 Bernoulli terms is exact to rounding;
  x <= 0 uses the reflection log G(x) = log(pi / |sin(pi x)|) - log G(1 - x).
* ``polygamma(n, x)`` (n = 0 is the digamma psi): the recurrence
  psi^(n)(x) = psi^(n)(x + m) + (-1)^(n+1) n! sum_{k<m} (x + k)^-(n+1) and the asymptotic
  series in 1/z with Bernoulli numbers at z >= 12 (digamma, trigamma: reflection below 0).
* ``erfinv``: a closed-form first guess (relative error < 2e-3) refined by three Newton
  steps on erf(y) - x with chainrule's float64 erf.

Absolute error is ~1e-15 (relative ~1e-15 away from the roots of lgamma and digamma).
The other helpers' ``chainrule.special`` can replace these once merged.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..ops.nn_ops import erf_array
from .utils import _wrap
from ..tensor import Tensor

_LOG_2PI_HALF = 0.5 * math.log(2 * math.pi)
# B_2k for k = 1..9 (the Bernoulli numbers of the asymptotic series)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
        43867 / 798)
_SHIFT = 12.0


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _shift_up(x, power):
    """Move x (> 0) to z = x + m >= 12; return z and sum_{k<m} (x + k)^-power
    (power 0: the log of the product x (x+1) ... (x+m-1) instead)."""
    z = x.copy()
    acc = np.zeros_like(z) if power else np.ones_like(z)
    for _ in range(int(_SHIFT)):
        m = z < _SHIFT
        if not m.any():
            break
        if power:
            acc[m] += z[m] ** -power
        else:
            acc[m] *= z[m]
        z[m] += 1.0
    return z, (acc if power else np.log(acc))


def _lgamma_pos(x):
    z, log_prod = _shift_up(x, 0)
    inv = 1.0 / z
    inv2 = inv * inv
    series = np.zeros_like(z)
    for k in range(7, 0, -1):  # sum_k B_2k / (2k (2k-1) z^(2k-1)), Horner in 1/z^2
        series = series * inv2 + _B2K[k - 1] / (2 * k * (2 * k - 1))
    series *= inv
    return (z - 0.5) * np.log(z) - z + _LOG_2PI_HALF + series - log_prod


@np.errstate(invalid="ignore", divide="ignore", over="ignore")
def lgamma_array(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)| elementwise (inf at 0 and the negative integers)."""
    x64 = _f64(x)
    out = np.empty_like(x64)
    pos = x64 > 0
    out[pos] = _lgamma_pos(x64[pos])
    neg = ~pos & ~np.isnan(x64)
    if neg.any():
        xn = x64[neg]
        s = np.abs(np.sin(math.pi * (xn - np.round(xn))))
        with np.errstate(divide="ignore"):
            r = np.log(math.pi / s) - _lgamma_pos(1.0 - xn)
        r[xn == np.round(xn)] = np.inf
        out[neg] = r
    out[np.isnan(x64) | np.isinf(x64)] = np.abs(x64[np.isnan(x64) | np.isinf(x64)])
    return out


def _polygamma_pos(n, x):
    """psi^(n)(x) for x > 0."""
    z, acc = _shift_up(x, n + 1)
    inv = 1.0 / z
    inv2 = inv * inv
    if n == 0:
        series = np.zeros_like(z)
        for k in range(8, 0, -1):  # sum_k B_2k / (2k z^2k)
            series = series * inv2 + _B2K[k - 1] / (2 * k)
        return np.log(z) - 0.5 * inv - series * inv2 - acc
    fact = math.factorial
    series = np.zeros_like(z)
    for k in range(8, 0, -1):  # sum_k B_2k (2k+n-1)! / ((2k)! z^(2k+n))
        series = series * inv2 + _B2K[k - 1] * fact(2 * k + n - 1) / fact(2 * k)
    head = fact(n - 1) * inv ** n + 0.5 * fact(n) * inv ** (n + 1)
    sign = 1.0 if n % 2 else -1.0
    return sign * (head + series * inv ** n * inv2 + fact(n) * acc)


def _polygamma_neg(n, x):
    """psi^(n)(x) for -200 < x <= 0 by the recurrence (nan further out)."""
    x = np.where(x > -200, x, np.nan)
    m = np.nan_to_num(np.ceil(1.0 - x))  # x + m in (0, 1]
    z = x + m
    acc = np.zeros_like(x)
    for k in range(int(m.max()) if m.size else 0):
        live = k < m
        acc[live] += (x[live] + k) ** -(n + 1)
    sign = 1.0 if n % 2 else -1.0
    return _polygamma_pos(n, z) + sign * math.factorial(n) * acc


@np.errstate(invalid="ignore", divide="ignore", over="ignore")
def polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """The n-th derivative of the digamma function, elementwise (n = 0: digamma)."""
    x64 = _f64(x)
    out = np.full_like(x64, np.nan)
    pos = x64 > 0
    out[pos] = _polygamma_pos(n, x64[pos])
    nonpos = x64 <= 0
    if nonpos.any():
        xn = x64[nonpos]
        integer = xn == np.round(xn)
        frac = math.pi * (xn - np.round(xn))
        with np.errstate(divide="ignore", invalid="ignore"):
            if n == 0:  # psi(x) = psi(1 - x) - pi / tan(pi x); psi(0) = -inf as PyTorch
                r = _polygamma_pos(0, 1.0 - xn) - math.pi / np.tan(frac)
                r[integer] = np.nan
                r[xn == 0] = -np.inf
                r[np.isinf(xn)] = np.nan
            elif n == 1:  # psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
                r = math.pi ** 2 / np.sin(frac) ** 2 - _polygamma_pos(1, 1.0 - xn)
                r[integer] = np.inf
                r[np.isinf(xn)] = np.nan
            else:  # the recurrence, for the few callers of psi^(n>1) below 0
                r = _polygamma_neg(n, xn)
                r[integer] = np.inf if n % 2 else -np.inf
        out[nonpos] = r
    return out


def _erfc_pos(y):
    """erfc(y) for y >= 0 with a small relative error (also deep in the tail)."""
    out = np.empty_like(y)
    small = y < 2.5
    out[small] = 1.0 - erf_array(y[small])
    yb = np.minimum(y[~small], 27.0)
    f = yb.copy()
    for k in range(60, 0, -1):  # erfc(y) = e^-y^2 / sqrt(pi) / (y + (1/2)/(y + 1/(y + ...)))
        f = yb + (k / 2) / f
    out[~small] = np.exp(-yb * yb) / (math.sqrt(math.pi) * f)
    return out


def erfinv_array(x: np.ndarray) -> np.ndarray:
    """The inverse error function on [-1, 1] (+-inf at +-1, nan outside).

    Halley's method from Winitzki's closed form: on erf(y) = x for |x| <= 1/2, on
    erfc(y) = 1 - |x| above (1 - |x| is exact there, and erfc keeps the tail's digits).
    """
    x64 = _f64(x)
    a = np.abs(x64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.log1p(-a * a)
        t = 2.0 / (math.pi * 0.147) + 0.5 * ln
        y = np.sqrt(np.sqrt(t * t - ln / 0.147) - t)
    inner = a < 1
    low = a <= 0.5
    for _ in range(3):
        yl, yh = y[low], y[inner & ~low]
        d_low = np.exp(-yl * yl) * (2 / math.sqrt(math.pi))
        d_high = np.exp(-yh * yh) * (2 / math.sqrt(math.pi))
        s_low = (erf_array(yl) - a[low]) / d_low  # Newton step on erf(y) - x ...
        s_high = -(_erfc_pos(yh) - (1.0 - a[inner & ~low])) / d_high  # ... on erfc
        y[low] = yl - s_low / (1.0 + yl * s_low)  # Halley: f''/f' = -2y for both
        y[inner & ~low] = yh - s_high / (1.0 + yh * s_high)
    y[a == 1] = np.inf
    y[a > 1] = np.nan
    return np.copysign(y, x64)


def _like(arr, x):
    return arr.astype(x.dtype, copy=False) if x.dtype.kind == "f" else arr


class Lgamma(Function):
    """out = log |Gamma(x)|.   VJP: grad * digamma(x).   JVP: x_dot * digamma(x)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _like(lgamma_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, 0)

    @staticmethod
    def jvp(ctx, x_dot):
        (x,) = ctx.saved_tensors
        return x_dot * Polygamma.apply(x, 0)


class Polygamma(Function):
    """out = psi^(n)(x), the n-th derivative of digamma psi = (log Gamma)'.

    VJP: grad * psi^(n+1)(x).   JVP: x_dot * psi^(n+1)(x).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _like(polygamma_array(n, x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, ctx.n + 1), None

    @staticmethod
    def jvp(ctx, x_dot, n_dot):
        (x,) = ctx.saved_tensors
        return x_dot * Polygamma.apply(x, ctx.n + 1)


class Erfinv(Function):
    """out = erfinv(x) (erf(out) = x).   VJP: grad * sqrt(pi)/2 * exp(out^2).   JVP: alike."""

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        out = _like(erfinv_array(x), x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def _d(out):
        return (out * out).exp() * (0.5 * math.sqrt(math.pi))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * Erfinv._d(out)

    @staticmethod
    def jvp(ctx, x_dot):
        (out,) = ctx.saved_tensors
        return x_dot * Erfinv._d(out)


def _float(x):
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    return x if x.is_floating_point() else x.float()


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)| (``torch.lgamma``)."""
    return Lgamma.apply(_float(x))


def digamma(x: Tensor) -> Tensor:
    """psi(x) = d/dx log Gamma(x) (``torch.digamma``)."""
    return Polygamma.apply(_float(x), 0)


def polygamma(n: int, x: Tensor) -> Tensor:
    """psi^(n)(x) (``torch.polygamma``)."""
    if int(n) != n or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    return Polygamma.apply(_float(x), int(n))


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function (``torch.erfinv``)."""
    return Erfinv.apply(_float(x))


def xlogy(x, y):
    """x * log(y), 0 where x == 0 (``torch.xlogy``); the gradient w.r.t. x is 0 there too.
    Branch-free (no data-dependent ``if``), so it works inside ``vmap``."""
    if not isinstance(x, Tensor):
        return y * 0.0 if x == 0 else y.log() * x
    zero = x == 0
    if not isinstance(y, Tensor):
        return (x * math.log(y) if y > 0 else x * -math.inf).masked_fill(zero, 0.0)
    return (x * y.masked_fill(zero, 1.0).log()).masked_fill(zero, 0.0)


def mvlgamma(x: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma: p(p-1)/4 log(pi) + sum_{j<p} log Gamma(x - j/2)."""
    offsets = _wrap(np.arange(p, dtype=x._data.dtype) * -0.5)
    return lgamma(x.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


class Atan(Function):
    """out = arctan(x).   VJP: grad / (1 + x^2).   JVP: x_dot / (1 + x^2)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1.0)

    @staticmethod
    def jvp(ctx, x_dot):
        (x,) = ctx.saved_tensors
        return x_dot / (x * x + 1.0)


def atan(x: Tensor) -> Tensor:
    """arctan(x) (``torch.atan``)."""
    return Atan.apply(_float(x))


def atanh(x: Tensor) -> Tensor:
    """artanh(x) = (log1p(x) - log1p(-x)) / 2 (``torch.atanh``)."""
    return (x.log1p() - (-x).log1p()) * 0.5


def _register_vmap_rules():
    """Elementwise primitives: ``vmap`` runs them once on the whole batch."""
    from ..func._batching import register, unary

    for cls in (Lgamma, Polygamma, Erfinv, Atan):
        register(cls, unary)


_register_vmap_rules()
