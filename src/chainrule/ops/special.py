"""Special-function primitives (``torch.special`` and the gamma/erf/Bessel functions of the
top level). See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot).

Their forwards are the NumPy implementations of ``special_np``, ``erf_np`` and ``bessel_np``
(float64 inside, the result cast back to the input's dtype); every derivative is written with
tensor operations on these same primitives, so derivatives of any order exist:
lgamma' = digamma, digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1),
erfinv' = sqrt(pi)/2 exp(erfinv^2), I0' = I1, and so on (each class states its rule).
Unary ones are built by ``unary._unary``: VJP and JVP are the same local derivative.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from . import bessel_np as B
from . import erf_np as E
from . import special_np as S
from .unary import _unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _cast(fn):
    """fn computed in float64, returned in the input's dtype (overflow to inf silently)."""

    def f(x):
        r = np.asarray(fn(x))
        with np.errstate(over="ignore"):
            return r.astype(x.dtype, copy=False)

    return f


Lgamma = _unary("Lgamma", _cast(S.lgamma), "out = log|Gamma(x)|.   VJP: grad * digamma(x).",
                lambda x, out, g: g * Digamma.apply(x))
Digamma = _unary("Digamma", _cast(S.digamma),
                 "out = psi(x) = lgamma'(x).   VJP: grad * polygamma(1, x).",
                 lambda x, out, g: g * Polygamma.apply(x, 1))


class Polygamma(Function):
    """out = psi^(n)(x), the n-th derivative of digamma (n >= 0 an int).
    VJP: grad * polygamma(n + 1, x).   JVP: x_dot * polygamma(n + 1, x)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return S.polygamma(n, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, ctx.n + 1), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        (x,) = ctx.saved_tensors
        return x_dot * Polygamma.apply(x, ctx.n + 1)


Erfc = _unary("Erfc", _cast(E.erfc), "out = 1 - erf(x).   VJP: -grad * 2/sqrt(pi) exp(-x^2).",
              lambda x, out, g: g * ((-(x * x)).exp() * -_TWO_OVER_SQRT_PI))
Erfcx = _unary("Erfcx", _cast(E.erfcx),
               "out = exp(x^2) erfc(x).   VJP: grad * (2 x out - 2/sqrt(pi)).",
               lambda x, out, g: g * (x * out * 2 - _TWO_OVER_SQRT_PI), save="both")
Erfinv = _unary("Erfinv", _cast(E.erfinv),
                "out = erf^-1(x).   VJP: grad * sqrt(pi)/2 exp(out^2).",
                lambda x, out, g: g * ((out * out).exp() * (math.sqrt(math.pi) / 2)),
                save="out")
Ndtr = _unary("Ndtr", _cast(E.ndtr),
              "out = Phi(x), the standard normal CDF.   VJP: grad * exp(-x^2/2) / sqrt(2 pi).",
              lambda x, out, g: g * ((x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))))
Ndtri = _unary("Ndtri", _cast(E.ndtri),
               "out = Phi^-1(x).   VJP: grad * sqrt(2 pi) exp(out^2 / 2).",
               lambda x, out, g: g * ((out * out * 0.5).exp() * math.sqrt(2 * math.pi)),
               save="out")
LogNdtr = _unary("LogNdtr", _cast(E.log_ndtr),
                 "out = log Phi(x).   VJP: grad * phi(x) / Phi(x) = grad * sqrt(2/pi) / "
                 "erfcx(-x / sqrt 2) (finite for any x).",
                 lambda x, out, g: g * (math.sqrt(2 / math.pi) / Erfcx.apply(x * -math.sqrt(0.5))))


def _entr(x):
    with np.errstate(all="ignore"):
        out = np.where(x > 0, -x * np.log(x), np.where(x == 0, 0.0, -np.inf))
        return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)


def _entr_vjp(x, out, g):
    with np.errstate(all="ignore"):  # inf at 0 and nan below, as PyTorch, without warnings
        return g * -(x.log() + 1)


Entr = _unary("Entr", _entr, "out = -x log x (0 at 0, -inf for x < 0).   VJP: -grad (1 + log x).",
              _entr_vjp)


def _i1_over_x(x, i1):
    """I1(x) / x with its limit 1/2 at x = 0."""
    zero = x == 0
    return (i1 / x.masked_fill(zero, 1.0)).masked_fill(zero, 0.5)


I0 = _unary("I0", _cast(B.i0), "out = I0(x).   VJP: grad * I1(x).",
            lambda x, out, g: g * I1.apply(x))
I1 = _unary("I1", _cast(B.i1), "out = I1(x).   VJP: grad * (I0(x) - I1(x)/x) (1/2 at x = 0).",
            lambda x, out, g: g * (I0.apply(x) - _i1_over_x(x, out)), save="both")
I0e = _unary("I0e", _cast(B.i0e), "out = exp(-|x|) I0(x).   VJP: grad * (I1e(x) - sign(x) out).",
             lambda x, out, g: g * (I1e.apply(x) - x.sign() * out), save="both")
I1e = _unary("I1e", _cast(B.i1e),
             "out = exp(-|x|) I1(x).   VJP: grad * (I0e(x) - sign(x) out - out/x) (1/2 at 0).",
             lambda x, out, g: g * (I0e.apply(x) - x.sign() * out - _i1_over_x(x, out)),
             save="both")


class Zeta(Function):
    """out = zeta(x, q) = sum_k (q + k)^-x (Hurwitz).   VJP for q: -grad * x * zeta(x + 1, q);
    for x: not implemented (as PyTorch: no closed form)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        return S.hurwitz_zeta(x, q).astype(np.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' with respect to its first "
                                      "argument (x) is not implemented (as in PyTorch)")
        return None, grad * -x * Zeta.apply(x + 1, q)

    @staticmethod
    def jvp(ctx, x_dot, q_dot):
        x, q = ctx.saved_tensors
        if x_dot is not None and bool((x_dot != 0).any()):
            raise NotImplementedError("the forward derivative for 'zeta' with respect to its "
                                      "first argument (x) is not implemented")
        return q_dot * -x * Zeta.apply(x + 1, q)


class Gammainc(Function):
    """out = P(a, x) (``upper=False``) or Q(a, x) = 1 - P, the regularized incomplete gamma
    functions.   VJP for x: +-grad * exp(-x) x^(a-1) / Gamma(a); for a: not implemented
    (as PyTorch)."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        p, q = S.gammainc(a, x)
        return (q if upper else p).astype(np.result_type(a, x), copy=False)

    @staticmethod
    def _dx(ctx):
        a, x = ctx.saved_tensors
        d = ((a - 1) * x.log() - x - Lgamma.apply(a)).exp()
        return -d if ctx.upper else d

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' (the shape "
                                      "parameter a) is not implemented (as in PyTorch)")
        return None, grad * Gammainc._dx(ctx), None

    @staticmethod
    def jvp(ctx, a_dot, x_dot, _):
        if a_dot is not None and bool((a_dot != 0).any()):
            raise NotImplementedError("the forward derivative of gammainc with respect to "
                                      "a is not implemented")
        return x_dot * Gammainc._dx(ctx)


UNARY = (Lgamma, Digamma, Polygamma, Erfc, Erfcx, Erfinv, Ndtr, Ndtri, LogNdtr, Entr, I0, I1,
         I0e, I1e)
BINARY = (Zeta, Gammainc)
