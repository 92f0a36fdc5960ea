"""Reparameterised Gamma samples: ``StandardGamma`` draws x ~ Gamma(alpha, 1) and its
gradient is the implicit one (Figurnov et al. 2018, as PyTorch's ``_standard_gamma``):

    dx/dalpha = -(dF(x; alpha)/dalpha) / p(x; alpha)

where F is the regularised lower incomplete gamma function P(alpha, x) (the CDF) and p the
density. Holding the CDF level u = F(x; alpha) fixed while alpha moves is exactly the
pathwise derivative of x = F^-1(u; alpha).

dF/dalpha has no closed form; it is computed to ~1e-13 by differentiating, term by term,
the series (x < alpha + 1) or the continued fraction (x >= alpha + 1) that evaluate P, in
float64 (chainrule code, no SciPy). With the density divided out in closed form:

    series:  dx/dalpha = -(x/alpha) [S (log x - psi(alpha+1)) + sum_n t_n D_n]
             t_n = prod_{k<=n} x/(alpha+k),  S = sum_n t_n,  D_n = -sum_{k<=n} 1/(alpha+k)
    fraction: dx/dalpha = x [C (log x - psi(alpha)) + dC/dalpha],  C the continued
             fraction of Q = 1 - P (modified Lentz, carrying d/dalpha alongside).

For alpha > 1e4 both need many terms; there the Wilson-Hilferty transform
x = alpha (1 - 1/(9 alpha) + z / (3 sqrt(alpha)))^3 (z held fixed) is used, whose
derivative is accurate to ~1e-6 relative at such alpha.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..random import default_generator
from .utils import _wrap
from ..tensor import Tensor
from ._special import lgamma_array, polygamma_array

_MAX_TERMS = 4000
_LARGE = 1e4
_CHECK_EVERY = 8


def _iterate(state, step, converged, n_out):
    """Run ``step(n, state)`` on the live elements until ``converged(state)``; state arrays
    are kept compact (finished elements removed), results written back by position."""
    idx = np.arange(n_out)
    results = [np.full(n_out, np.nan) for _ in state]
    for n in range(1, _MAX_TERMS + 1):
        state = step(n, state)
        if n % _CHECK_EVERY and n != _MAX_TERMS:
            continue
        done = converged(state) if n != _MAX_TERMS else np.ones(idx.size, bool)
        if done.any():
            for r, v in zip(results, state):
                r[idx[done]] = v[done]
            keep = ~done
            idx = idx[keep]
            state = tuple(v[keep] for v in state)
            if idx.size == 0:
                break
    return results


def _series_terms(a, x):
    """S = sum_n t_n and SD = sum_n t_n D_n (P = x^a e^-x / Gamma(a+1) * S)."""
    def step(n, st):
        a, x, t, s, d, sd = st
        an = a + n
        t = t * (x / an)
        d = d - 1.0 / an
        return a, x, t, s + t, d, sd + t * d

    def converged(st):
        a, x, t, s, d, sd = st
        return (t <= 1e-17 * s) & (np.abs(t * d) <= 1e-17 * np.abs(sd))

    one, zero = np.ones_like(a), np.zeros_like(a)
    res = _iterate((a, x, one, one.copy(), zero, zero.copy()), step, converged, a.size)
    return res[3], res[5]


def _fraction_terms(a, x):
    """C and dC/da, the continued fraction of Q = x^a e^-x / Gamma(a) * C (modified Lentz,
    with the derivative of every quantity carried alongside)."""
    tiny = 1e-300

    def step(i, st):
        a, b, db, c, dc, d, dd, h, dh = st
        b = b + 2.0
        an = -i * (i - a)
        dan = float(i)
        dv = an * d + b
        ddv = dan * d + an * dd + db
        cv = b + an / c
        dcv = db + dan / c - (an * dc / c) / c
        dv = np.where(np.abs(dv) < tiny, tiny, dv)
        cv = np.where(np.abs(cv) < tiny, tiny, cv)
        d = 1.0 / dv
        dd = -ddv * d * d
        delta = d * cv
        ddelta = dd * cv + d * dcv
        dh = dh * delta + h * ddelta
        h = h * delta
        return a, b, db, cv, dcv, d, dd, h, dh, delta, ddelta

    def step9(i, st):
        return step(i, st[:9])

    def converged(st):
        delta, ddelta, dh = st[9], st[10], st[8]
        return (np.abs(delta - 1.0) <= 1e-16) & (np.abs(ddelta) <= 1e-16 * np.abs(dh))

    b = x + 1.0 - a
    db = -np.ones_like(a)
    d = 1.0 / b
    dd = -db * d * d
    start = (a, b, db, np.full_like(a, 1.0 / tiny), np.zeros_like(a), d, dd, d.copy(),
             dd.copy(), np.zeros_like(a), np.zeros_like(a))
    res = _iterate(start, step9, converged, a.size)
    return res[7], res[8]


def _wilson_hilferty(a, x):
    """dx/da holding z fixed in x = a (1 - 1/(9a) + z / (3 sqrt a))^3."""
    w = np.cbrt(x / a)
    z = (w - 1.0 + 1.0 / (9.0 * a)) * 3.0 * np.sqrt(a)
    dw = 1.0 / (9.0 * a * a) - z / (6.0 * a * np.sqrt(a))
    return w ** 3 + 3.0 * a * w * w * dw


def _flat_pair(alpha, x):
    a, xs = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    return a.ravel().copy(), xs.ravel().copy(), a.shape


def standard_gamma_grad_array(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dalpha of x ~ Gamma(alpha, 1) at fixed CDF level (float64)."""
    a, xs, shape = _flat_pair(alpha, x)
    out = np.empty_like(a)
    large = a > _LARGE
    low = ~large & (xs < a + 1.0)
    high = ~large & ~low
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if low.any():
            al, xl = a[low], xs[low]
            s, sd = _series_terms(al, xl)
            out[low] = -(xl / al) * (s * (np.log(xl) - polygamma_array(0, al + 1.0)) + sd)
        if high.any():
            ah, xh = a[high], xs[high]
            c, dc = _fraction_terms(ah, xh)
            out[high] = xh * (c * (np.log(xh) - polygamma_array(0, ah)) + dc)
        if large.any():
            out[large] = _wilson_hilferty(a[large], xs[large])
    return out.reshape(shape)


def gammainc_arrays(alpha, x, upper=False):
    """(P or Q, d/dalpha of it, d/dx of it) of the regularised incomplete gamma functions
    P(a, x) (lower) and Q = 1 - P (upper), float64."""
    a, xs, shape = _flat_pair(alpha, x)
    val, da = np.full_like(a, np.nan), np.full_like(a, np.nan)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        log_x = np.log(xs)
        dens = np.exp((a - 1.0) * log_x - xs - lgamma_array(a))
        ok = (a > 0) & (xs > 0) & np.isfinite(xs)
        low = ok & (xs < a + 1.0)
        high = ok & ~low
        if low.any():
            al, xl = a[low], xs[low]
            s, sd = _series_terms(al, xl)
            pref = np.exp(al * log_x[low] - xl - lgamma_array(al + 1.0))
            p = pref * s
            dp = p * (log_x[low] - polygamma_array(0, al + 1.0)) + pref * sd
            val[low], da[low] = (1.0 - p, -dp) if upper else (p, dp)
        if high.any():
            ah, xh = a[high], xs[high]
            c, dc = _fraction_terms(ah, xh)
            pref = np.exp(ah * log_x[high] - xh - lgamma_array(ah))
            q = pref * c
            dq = q * (log_x[high] - polygamma_array(0, ah)) + pref * dc
            val[high], da[high] = (q, dq) if upper else (1.0 - q, -dq)
        edge_zero = (a > 0) & (xs == 0)
        edge_inf = (a > 0) & np.isposinf(xs)
        val[edge_zero] = 1.0 if upper else 0.0
        val[edge_inf] = 0.0 if upper else 1.0
        da[edge_zero | edge_inf] = 0.0
        dens = np.where(ok, dens, 0.0)
    dx = -dens if upper else dens
    return val.reshape(shape), da.reshape(shape), dx.reshape(shape)


class Gammainc(Function):
    """out = P(a, x) = gamma(a, x) / Gamma(a) (``upper``: Q = 1 - P), the regularised
    incomplete gamma function.

    VJP: a: grad * dP/da (series / continued fraction differentiated term by term);
    x: grad * x^(a-1) e^-x / Gamma(a) (negated for Q). The partials are constants of the
    graph (no second derivative).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, a, x, upper):
        val, da, dx = gammainc_arrays(a, x, upper)
        dt = np.result_type(a, x)
        ctx.da, ctx.dx = da.astype(dt), dx.astype(dt)
        return val.astype(dt)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        ga = grad * _wrap(ctx.da) if need[0] else None
        gx = grad * _wrap(ctx.dx) if need[1] else None
        return ga, gx, None

    @staticmethod
    def jvp(ctx, a_dot, x_dot, upper_dot):
        out = None
        if a_dot is not None:
            out = a_dot * _wrap(ctx.da)
        if x_dot is not None:
            t = x_dot * _wrap(ctx.dx)
            out = t if out is None else out + t
        return out


def gammainc(a: Tensor, x: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function (``torch.special.gammainc``)."""
    return Gammainc.apply(a, x, False)


def gammaincc(a: Tensor, x: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function (``torch.special.gammaincc``)."""
    return Gammainc.apply(a, x, True)


def tiny(dtype) -> float:
    return float(np.finfo(dtype).tiny)


class StandardGamma(Function):
    """out ~ Gamma(alpha, 1), drawn from chainrule's default generator (clamped below at
    the dtype's smallest normal number, as PyTorch).

    VJP: grad * dout/dalpha (the implicit derivative above).   JVP: alpha_dot * dout/dalpha.
    The derivative is a constant of the graph (no second derivative, as PyTorch).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, alpha):
        draw = default_generator._rng.standard_gamma(np.asarray(alpha, np.float64))
        out = np.maximum(draw, tiny(alpha.dtype)).astype(alpha.dtype)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def _d(ctx):
        alpha, out = ctx.saved_tensors
        d = standard_gamma_grad_array(alpha._data, out._data)
        return _wrap(d.astype(alpha._data.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad * StandardGamma._d(ctx)

    @staticmethod
    def jvp(ctx, alpha_dot):
        return alpha_dot * StandardGamma._d(ctx)


def standard_gamma(alpha: Tensor) -> Tensor:
    """A reparameterised Gamma(alpha, 1) sample of alpha's shape (``torch._standard_gamma``)."""
    return StandardGamma.apply(alpha)


def dirichlet_sample(concentration: Tensor) -> Tensor:
    """A reparameterised Dirichlet sample: independent Gamma(alpha_i, 1) draws normalised
    over the last dim; gradients flow through each draw's implicit derivative."""
    g = standard_gamma(concentration)
    x = g / g.sum(-1, keepdim=True)
    eps = tiny(concentration._data.dtype)
    return x.clamp(min=eps, max=1.0 - float(np.finfo(concentration._data.dtype).eps))


def _register_vmap_rule():
    from ..func._batching import elementwise, register

    register(Gammainc, elementwise)


_register_vmap_rule()
