"""The ``torch.special`` functions PyTorch does not differentiate: the classical orthogonal
polynomials, the spherical Bessel function j0, I0/I1 under their ``modified_bessel`` names,
and refusals for the Bessel functions J, Y, K and Airy's Ai, which chainrule does not
implement. Results never require grad (as in PyTorch).

Polynomials take ``n`` as an int or a tensor (broadcast against x; truncated to an integer;
negative degrees give 0) and are evaluated by their three-term recurrences; Chebyshev
polynomials with |x| < 1 and n > 6 use the trigonometric forms (T_n = cos(n t),
U_n = sin((n+1) t) / sin t, V_n = cos((n+1/2) t) / cos(t/2), W_n = sin((n+1/2) t) / sin(t/2),
x = cos t), as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from .ops import bessel_np as B
from .tensor import Tensor


def _float_array(x, name):
    if isinstance(x, Tensor):
        a = x._data
    elif isinstance(x, (int, float)):
        a = np.asarray(x, _dtype.get_default_dtype().np)
    else:
        raise TypeError(f"special.{name}: expected a Tensor, got {type(x).__name__}")
    if a.dtype.kind != "f":
        a = a.astype(_dtype.get_default_dtype().np)
    return a


def _result(arr, like):
    return Tensor._make(np.asanyarray(arr).astype(like.dtype, copy=False), False, None, 0)


def _degrees(n):
    a = n._data if isinstance(n, Tensor) else np.asarray(n)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(a), 0, a).astype(np.int64) if a.dtype.kind == "f" else (
            a.astype(np.int64))


def _recurrence(x, n, p1, step):
    """p_n(x) from p_0 = 1, p_1 = p1(x) and p_{k+1} = step(k, x, p_k, p_{k-1})."""
    x, n = np.broadcast_arrays(x.astype(np.float64), n)
    out = np.where(n == 0, 1.0, 0.0)
    top = int(n.max()) if n.size else 0
    if top >= 1:
        prev, cur = np.ones(x.shape), p1(x)
        out = np.where(n == 1, cur, out)
        with np.errstate(all="ignore"):
            for k in range(1, top):
                prev, cur = cur, step(k, x, cur, prev)
                out = np.where(n == k + 1, cur, out)
                if not np.isfinite(cur[n > k + 1]).any():
                    out = np.where(n > k + 1, cur, out)  # overflowed for good
                    break
    return np.where(n < 0, 0.0, out)


def _cheb_step(k, x, cur, prev):
    return 2 * x * cur - prev


_CHEB = {  # kind: (p1, trigonometric form in t and n)
    "t": (lambda x: x, lambda t, n: np.cos(n * t)),
    "u": (lambda x: 2 * x, lambda t, n: np.sin((n + 1) * t) / np.sin(t)),
    "v": (lambda x: 2 * x - 1, lambda t, n: np.cos((n + 0.5) * t) / np.cos(t / 2)),
    "w": (lambda x: 2 * x + 1, lambda t, n: np.sin((n + 0.5) * t) / np.sin(t / 2)),
}


def _chebyshev(kind, shifted):
    p1, trig = _CHEB[kind]
    name = ("shifted_" if shifted else "") + "chebyshev_polynomial_" + kind

    def fn(input, n, *, out=None):  # noqa: A002
        a = _float_array(input, name)
        x = a.astype(np.float64)
        if shifted:
            x = 2 * x - 1
        deg = _degrees(n)
        x, deg = np.broadcast_arrays(x, deg)
        inside = (np.abs(x) < 1) & (deg > 6)
        rec_n = np.where(inside, 0, deg)
        vals = _recurrence(x, rec_n, p1, _cheb_step)
        with np.errstate(all="ignore"):
            vals = np.where(inside, trig(np.arccos(np.clip(x, -1, 1)), deg), vals)
        return _finish(vals, a, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The {'shifted ' if shifted else ''}Chebyshev polynomial of the "
                  f"{'first second third fourth'.split()['tuvw'.index(kind)]} kind "
                  f"{kind.upper()}_n({'2x - 1' if shifted else 'x'}); no gradient.")
    return fn


def _finish(vals, a, out):
    res = _result(vals, a)
    if out is not None:
        out.copy_(res)
        return out
    return res


def _poly(name, p1, step, doc):
    def fn(input, n, *, out=None):  # noqa: A002
        a = _float_array(input, name)
        return _finish(_recurrence(a, _degrees(n), p1, step), a, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


chebyshev_polynomial_t = _chebyshev("t", False)
chebyshev_polynomial_u = _chebyshev("u", False)
chebyshev_polynomial_v = _chebyshev("v", False)
chebyshev_polynomial_w = _chebyshev("w", False)
shifted_chebyshev_polynomial_t = _chebyshev("t", True)
shifted_chebyshev_polynomial_u = _chebyshev("u", True)
shifted_chebyshev_polynomial_v = _chebyshev("v", True)
shifted_chebyshev_polynomial_w = _chebyshev("w", True)
hermite_polynomial_h = _poly(
    "hermite_polynomial_h", lambda x: 2 * x, lambda k, x, c, p: 2 * x * c - 2 * k * p,
    "The physicists' Hermite polynomial H_n(x): H_{k+1} = 2x H_k - 2k H_{k-1}; no gradient.")
hermite_polynomial_he = _poly(
    "hermite_polynomial_he", lambda x: x, lambda k, x, c, p: x * c - k * p,
    "The probabilists' Hermite polynomial He_n(x): He_{k+1} = x He_k - k He_{k-1}.")
laguerre_polynomial_l = _poly(
    "laguerre_polynomial_l", lambda x: 1 - x,
    lambda k, x, c, p: ((2 * k + 1 - x) * c - k * p) / (k + 1),
    "The Laguerre polynomial L_n(x): (k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}.")
legendre_polynomial_p = _poly(
    "legendre_polynomial_p", lambda x: x,
    lambda k, x, c, p: ((2 * k + 1) * x * c - k * p) / (k + 1),
    "The Legendre polynomial P_n(x): (k+1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}.")


def spherical_bessel_j0(input, *, out=None):  # noqa: A002
    """j0(x) = sin(x) / x (1 at 0); no gradient."""
    a = _float_array(input, "spherical_bessel_j0")
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        vals = np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x))
    vals = np.where(np.isinf(x), 0.0, vals)
    return _finish(vals, a, out)


def modified_bessel_i0(input, *, out=None):  # noqa: A002
    """I0(x) (as ``special.i0``, without gradient, as PyTorch)."""
    a = _float_array(input, "modified_bessel_i0")
    return _finish(B.i0(a), a, out)


def modified_bessel_i1(input, *, out=None):  # noqa: A002
    """I1(x) (as ``special.i1``, without gradient, as PyTorch)."""
    a = _float_array(input, "modified_bessel_i1")
    return _finish(B.i1(a), a, out)


def _refused(name, what):
    def fn(*args, **kwargs):
        raise NotImplementedError(
            f"special.{name}: {what} is not implemented in chainrule (no NumPy routine; "
            "scipy.special has it: scipy.special."
            f"{_SCIPY.get(name, name)}(t.numpy()) and wrap the result with chainrule.tensor)")

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Not implemented: {what}. Raises NotImplementedError naming an alternative."
    return fn


_SCIPY = {"bessel_j0": "j0", "bessel_j1": "j1", "bessel_y0": "y0", "bessel_y1": "y1",
          "modified_bessel_k0": "k0", "modified_bessel_k1": "k1",
          "scaled_modified_bessel_k0": "k0e", "scaled_modified_bessel_k1": "k1e",
          "airy_ai": "airy"}

airy_ai = _refused("airy_ai", "the Airy function Ai")
bessel_j0 = _refused("bessel_j0", "the Bessel function of the first kind J0")
bessel_j1 = _refused("bessel_j1", "the Bessel function of the first kind J1")
bessel_y0 = _refused("bessel_y0", "the Bessel function of the second kind Y0")
bessel_y1 = _refused("bessel_y1", "the Bessel function of the second kind Y1")
modified_bessel_k0 = _refused("modified_bessel_k0", "the modified Bessel function K0")
modified_bessel_k1 = _refused("modified_bessel_k1", "the modified Bessel function K1")
scaled_modified_bessel_k0 = _refused("scaled_modified_bessel_k0", "exp(x) K0(x)")
scaled_modified_bessel_k1 = _refused("scaled_modified_bessel_k1", "exp(x) K1(x)")
