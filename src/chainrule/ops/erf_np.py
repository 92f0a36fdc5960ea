"""NumPy implementations of the error-function family beyond ``erf``: erfc, erfcx, erfinv,
ndtr, ndtri, log_ndtr (float64 on whole arrays; the caller casts back).

The core is erfcx(x) = exp(x^2) erfc(x) for x >= 0.75 by the even contraction of Laplace's
continued fraction, erfcx(x) = 2x / sqrt(pi) / (2x^2 + 1 - 1*2 / (2x^2 + 5 - 3*4 / (2x^2 + 9
- ...))), evaluated bottom-up with a depth chosen per range of x (200 terms at 0.75, 12
beyond 5) so every element converges to rounding error; below 0.75 erfc = 1 - erf (erfc >
0.28 there, so no cancellation). exp(-x^2) is formed from a split x = xh + xl (xh with 12
fraction bits, so xh^2 is exact) to keep its relative error at rounding level even where
x^2 is large. The inverses are Newton iterations on these from Winitzki's closed-form
approximation (relative error ~2e-3), the tails solved in log space (log erfc(x) =
log erfcx(x) - x^2), so ndtri reaches p = 1e-300.

Measured against mpmath (60 digits, 4000 random points each): max relative error erfc
5.7e-16 (x in [-6, 27]), erfcx 6.6e-16 ([-6, 1e10]), erfinv 7.4e-16 (|y| up to
1 - 1e-15), ndtr 1.4e-15 ([-38, 38]), log_ndtr 7.8e-16 ([-1e3, 38]), ndtri 6.7e-16
(p in [1e-300, 1)).
"""

from __future__ import annotations

import math

import numpy as np

from .nn_ops import erf_array

_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
# (lower bound of x, continued-fraction depth) for erfcx, x >= 0.75
_DEPTHS = ((0.75, 200), (1.0, 110), (1.5, 45), (2.5, 25), (5.0, 12))


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _cf_erfcx(x, depth):
    """erfcx(x) for x >= 0.75 by the contracted continued fraction of ``depth`` levels."""
    t = 2.0 * x * x
    f = t + (4 * depth + 1)
    for k in range(depth, 0, -1):
        f = t + (4 * k - 3) - ((2 * k - 1) * 2 * k) / f
    return 2.0 * x / (_SQRT_PI * f)


def _erfcx_big(x):
    """erfcx(x) for x >= 0.75 (any shape), choosing the depth per range."""
    out = np.empty(x.shape)
    bounds = [b for b, _ in _DEPTHS] + [np.inf]
    for (lo, depth), hi in zip(_DEPTHS, bounds[1:]):
        m = (x >= lo) & (x < hi)
        if m.any():
            out[m] = _cf_erfcx(x[m], depth)
    huge = x >= 1e8  # 2x^2 would overflow: the first terms of the asymptotic series
    out[huge] = 1.0 / (_SQRT_PI * x[huge]) * (1.0 - 0.5 / (x[huge] * x[huge]))
    return out


def _exp_sq(x, sign):
    """exp(sign * x^2) with x^2 split so its rounding does not show in the result."""
    xh = np.round(x * 4096.0) / 4096.0
    xl = x - xh
    return np.exp(sign * xh * xh) * np.exp(sign * xl * (x + xh))


def erfc(x):
    """erfc(x) = 1 - erf(x), accurate in relative terms for large x (see the module)."""
    x = _f64(x)
    a = np.abs(x)
    with np.errstate(all="ignore"):
        out = 1.0 - erf_array(np.where(a < 0.75, x, 0.0))
        big = (a >= 0.75) & ~np.isnan(x)
        if big.any():
            ab = np.where(np.isinf(a[big]), 1e300, a[big])
            tail = _exp_sq(ab, -1.0) * _erfcx_big(ab)
            out[big] = np.where(x[big] > 0, tail, 2.0 - tail)
    return np.where(np.isnan(x), np.nan, out)


def erfcx(x):
    """erfcx(x) = exp(x^2) erfc(x) (finite for large x: ~ 1 / (x sqrt(pi)))."""
    x = _f64(x)
    a = np.abs(x)
    with np.errstate(all="ignore"):
        small = a < 0.75
        out = _exp_sq(np.where(small, x, 0.0), 1.0) * (1.0 - erf_array(np.where(small, x, 0.0)))
        big = ~small & ~np.isnan(x)
        if big.any():
            ab = np.where(np.isinf(a[big]), 1e300, a[big])
            tail = _erfcx_big(ab)
            neg = x[big] < 0
            out[big] = np.where(neg, 2.0 * _exp_sq(np.where(neg, ab, 0.0), 1.0) - tail, tail)
        out = np.where(np.isposinf(x), 0.0, out)
    return np.where(np.isnan(x), np.nan, out)


def _winitzki(log_1my2):
    """Initial guess for erfinv from log(1 - y^2) (Winitzki's approximation, a = 0.147)."""
    a = 0.147
    t = 2.0 / (math.pi * a) + 0.5 * log_1my2
    return np.sqrt(np.maximum(np.sqrt(t * t - log_1my2 / a) - t, 0.0))


def _inv_erf_small(y):
    """x >= 0 with erf(x) = y, for 0 <= y <= 0.5 (Newton on erf, 4 steps)."""
    x = _winitzki(np.log1p(-y * y))
    for _ in range(4):
        x = x - (erf_array(x) - y) * (0.5 * _SQRT_PI) * np.exp(x * x)
    return x


def _inv_erfc_log(log_c, log_2mc):
    """x >= 0 with log erfc(x) = log_c, for erfc(x) <= 1/2 (Newton in log space, 5 steps;
    ``log_2mc`` is log(2 - c), used only by the initial guess)."""
    x = _winitzki(log_c + log_2mc)
    x = np.maximum(x, 0.47)
    for _ in range(5):
        ex = erfcx(x)
        f = np.log(ex) - x * x - log_c
        x = x + f * (0.5 * _SQRT_PI) * ex
    return x


def erfinv(y):
    """x with erf(x) = y for y in [-1, 1] (+-inf at +-1, nan outside)."""
    y = _f64(y)
    a = np.abs(y)
    with np.errstate(all="ignore"):
        out = np.full(y.shape, np.nan)
        small = a <= 0.5
        if small.any():
            out[small] = _inv_erf_small(a[small])
        big = (a > 0.5) & (a < 1)
        if big.any():
            c = 1.0 - a[big]  # exact (Sterbenz)
            out[big] = _inv_erfc_log(np.log(c), np.log1p(a[big]))
        out = np.where(a == 1, np.inf, out)
        return np.copysign(out, y)


def _ndtr_tail(x):
    """Phi(-|x|) for |x| >= 1.5, as exp(-x^2 / 2) erfcx(|x| / sqrt 2) / 2: the exponential
    is formed from x itself, so the rounding of x / sqrt 2 does not grow with x^2."""
    a = np.abs(x)
    with np.errstate(all="ignore"):
        return 0.5 * _exp_sq(np.minimum(a, 1e10), -0.5) * _erfcx_big(a / _SQRT2)


def ndtr(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        out = 0.5 * erfc(-x / _SQRT2)
        tail = (x <= -1.5) & ~np.isinf(x)
        if tail.any():
            out[tail] = _ndtr_tail(x[tail])
    return out


def ndtri(p):
    """x with Phi(x) = p for p in [0, 1] (-inf at 0, +inf at 1, nan outside)."""
    p = _f64(p)
    with np.errstate(all="ignore"):
        out = np.full(p.shape, np.nan)
        mid = (p >= 0.25) & (p <= 0.75)
        if mid.any():
            y = 1.0 - 2.0 * p[mid]  # exact
            out[mid] = -_SQRT2 * np.copysign(_inv_erf_small(np.abs(y)), y)
        lo = (p > 0) & (p < 0.25)
        if lo.any():
            c = 2.0 * p[lo]
            out[lo] = -_SQRT2 * _inv_erfc_log(np.log(c), np.log1p(-p[lo]) + math.log(2.0))
        hi = (p > 0.75) & (p < 1)
        if hi.any():
            q = 1.0 - p[hi]  # exact
            out[hi] = _SQRT2 * _inv_erfc_log(np.log(2.0 * q), np.log1p(-q) + math.log(2.0))
        out = np.where(p == 0, -np.inf, out)
        return np.where(p == 1, np.inf, out)


def log_ndtr(x):
    """log Phi(x): log1p(-Phi(-x)) for x > 0; for x <= 0
    log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 (finite down to x = -1e150)."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        pos = x > 0
        z = np.where(pos, x, -x) / _SQRT2
        right = np.log1p(-ndtr(np.where(pos, -x, 0.0)))
        left = np.log(0.5 * erfcx(np.where(pos, 0.0, z))) - 0.5 * x * x
        out = np.where(pos, right, left)
        return np.where(np.isneginf(x), -np.inf, out)
