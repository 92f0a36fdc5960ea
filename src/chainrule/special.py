"""``chainrule.special``: PyTorch's ``torch.special``.

The gamma, error-function and Bessel families are primitives (``chainrule.ops.special``,
float64-accurate NumPy implementations, derivatives of any order); the rest is composed.
Integer inputs are computed in the default float dtype, as PyTorch does. Functions PyTorch
does not differentiate (the Bessel functions J, Y, K, the orthogonal polynomials) return
tensors that do not require grad, as there.

    >>> import chainrule as cr
    >>> cr.special.gammaln(cr.tensor([0.5, 1.0, 10.0]))
    tensor([ 0.5724,  0.0000, 12.8018])
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype
from . import ops as P
from .functions import _common as FC
from .functions import elementwise as FE
from .functions import reduction as FR
from .functions import unary as FU
from .nn._functional_act import erf  # noqa: F401  (torch.special.erf)
from .ops import elementwise_extra as EX
from .ops import special as SP
from .tensor import Tensor

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc",
    "gammaincc", "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1",
    "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr",
    "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma",
    "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc", "softmax",
    "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]


def _tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.number, np.ndarray, list, tuple)):
        from .creation import tensor

        return tensor(x)
    raise TypeError(f"special.{name}: expected a Tensor, got {type(x).__name__}")


def _floating(x, name):
    """x as a tensor of a floating dtype (integers and bools: the default float dtype)."""
    x = _tensor(x, name)
    if x._data.dtype.kind != "f":
        x = x.to(_dtype.get_default_dtype())
    return x


def _unary(prim, name, doc):
    def fn(input, *, out=None):  # noqa: A002
        return _out(prim.apply(_floating(input, name)), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _out(result, out):
    """PyTorch's ``out=``: the result copied into ``out`` (resized like PyTorch's when empty)."""
    if out is None:
        return result
    if out.shape != result.shape and out.numel() == 0:
        out._data = np.empty(result._data.shape, out._data.dtype)
    out.copy_(result)
    return out


def _pair(a, b, name):
    """Two operands (tensors or Python numbers) promoted to a common floating dtype."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"special.{name}: at least one argument must be a Tensor")
    a, b = FC._promote(a, b) if isinstance(a, Tensor) else FC._promote(b, a)[::-1]
    like = a if isinstance(a, Tensor) else b
    if like._data.dtype.kind != "f":
        like = like.to(_dtype.get_default_dtype())
    dt = like._data.dtype
    a = a.to(_dtype.from_np(dt)) if isinstance(a, Tensor) else Tensor._make(
        np.asarray(a, dt), False, None, 0)
    b = b.to(_dtype.from_np(dt)) if isinstance(b, Tensor) else Tensor._make(
        np.asarray(b, dt), False, None, 0)
    return a, b


gammaln = _unary(SP.Lgamma, "gammaln", "log|Gamma(x)| (see ops.special_np.lgamma for accuracy).")
digamma = _unary(SP.Digamma, "digamma", "psi(x) = d/dx lgamma(x); -inf at +0, nan at negative "
                                        "integers.")
psi = digamma
erfc = _unary(SP.Erfc, "erfc", "1 - erf(x), accurate for large x.")
erfcx = _unary(SP.Erfcx, "erfcx", "exp(x^2) erfc(x), finite for large x.")
erfinv = _unary(SP.Erfinv, "erfinv", "The inverse of erf on (-1, 1); +-inf at +-1.")
ndtr = _unary(SP.Ndtr, "ndtr", "Phi(x), the standard normal cumulative distribution function.")
ndtri = _unary(SP.Ndtri, "ndtri", "Phi^-1(p), the standard normal quantile function.")
log_ndtr = _unary(SP.LogNdtr, "log_ndtr", "log Phi(x), finite far into the left tail.")
entr = _unary(SP.Entr, "entr", "-x log x elementwise (0 at 0, -inf for x < 0).")
i0 = _unary(SP.I0, "i0", "The modified Bessel function of the first kind, order 0.")
i0e = _unary(SP.I0e, "i0e", "exp(-|x|) I0(x).")
i1 = _unary(SP.I1, "i1", "The modified Bessel function of the first kind, order 1.")
i1e = _unary(SP.I1e, "i1e", "exp(-|x|) I1(x).")
exp2 = _unary(EX.Exp2, "exp2", "2^x.")


def expit(input, *, out=None):  # noqa: A002
    """1 / (1 + exp(-x)) (the logistic sigmoid)."""
    return _out(FU.sigmoid(_floating(input, "expit")), out)


def expm1(input, *, out=None):  # noqa: A002
    return _out(FU.expm1(_floating(input, "expm1")), out)


def log1p(input, *, out=None):  # noqa: A002
    return _out(FU.log1p(_floating(input, "log1p")), out)


def round(input, *, decimals=0, out=None):  # noqa: A001, A002
    return _out(FE.round(input, decimals=decimals), out)


def logsumexp(input, dim, keepdim=False, *, out=None):  # noqa: A002
    return _out(FR.logsumexp(input, dim, keepdim), out)


def softmax(input, dim, *, dtype=None):  # noqa: A002
    return FR.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):  # noqa: A002
    return FR.log_softmax(input, dim, dtype)


def polygamma(n, input, *, out=None):  # noqa: A002
    """psi^(n)(x), the n-th derivative of the digamma function (n >= 0)."""
    if isinstance(n, Tensor):
        n = n.item()
    if int(n) != n or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n = {n}")
    return _out(SP.Polygamma.apply(_floating(input, "polygamma"), int(n)), out)


def multigammaln(input, p, *, out=None):  # noqa: A002
    """log Gamma_p(a) = p(p-1)/4 log(pi) + sum_{j<p} lgamma(a - j/2); every a must exceed
    (p - 1)/2."""
    x = _floating(input, "multigammaln")
    if p < 1:
        raise RuntimeError(f"multigammaln: p has to be greater than or equal to 1, got {p}")
    if x._data.size and not bool(np.all(x._data > (p - 1) / 2)):
        raise RuntimeError(f"multigammaln: All elements must be greater than (p-1)/2 = "
                           f"{(p - 1) / 2}")
    total = SP.Lgamma.apply(x)
    for j in range(1, p):
        total = total + SP.Lgamma.apply(x - j / 2)
    return _out(total + p * (p - 1) / 4 * math.log(math.pi), out)


def logit(input, eps=None, *, out=None):  # noqa: A002
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps] (zero gradient
    outside)."""
    x = _floating(input, "logit")
    if eps is not None:
        x = FE.clamp(x, eps, 1 - eps)
    with np.errstate(all="ignore"):
        return _out(FU.log(x / (1 - x)), out)


def sinc(input, *, out=None):  # noqa: A002
    """sin(pi x) / (pi x), 1 at 0 (gradient 0 there)."""
    x = _floating(input, "sinc")
    zero = x == 0
    safe = FE.where(zero, 1.0, x) * math.pi
    with np.errstate(invalid="ignore"):  # sin(inf) is nan, as PyTorch, without a warning
        return _out(FE.where(zero, 1.0, FU.sin(safe) / safe), out)


def _xlog(x, y, log, edge):
    """x * log(y) with PyTorch's conventions: 0 where x == 0 (nan if y is nan); the
    gradient for x is log(y), set to 0 where x == 0 and y is outside log's domain
    (y <= edge), where log(y) is -inf or nan."""
    with np.errstate(all="ignore"):
        off = (x == 0) & (y <= edge)
        logs = FE.where(off, 0.0, log(FE.where(off, edge + 1.0, y)))
        return FE.where((x == 0) & FE.isinf(y), 0.0, x * logs)  # 0 * inf


def xlogy(input, other, *, out=None):  # noqa: A002
    """x * log(y), 0 where x == 0 (unless y is nan)."""
    x, y = _pair(input, other, "xlogy")
    return _out(_xlog(x, y, FU.log, 0.0), out)


def xlog1py(input, other, *, out=None):  # noqa: A002
    """x * log1p(y), 0 where x == 0 (unless y is nan)."""
    x, y = _pair(input, other, "xlog1py")
    return _out(_xlog(x, y, FU.log1p, -1.0), out)


def zeta(input, other, *, out=None):  # noqa: A002
    """The Hurwitz zeta function sum_k (q + k)^-x (x = input, q = other)."""
    x, q = _pair(input, other, "zeta")
    return _out(SP.Zeta.apply(x, q), out)


def gammainc(input, other, *, out=None):  # noqa: A002
    """P(a, x) = gamma(a, x) / Gamma(a), the regularized lower incomplete gamma function
    (a = input, x = other); differentiable in x only, as PyTorch."""
    a, x = _pair(input, other, "gammainc")
    return _out(SP.Gammainc.apply(a, x, False), out)


def gammaincc(input, other, *, out=None):  # noqa: A002
    """Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma function."""
    a, x = _pair(input, other, "gammaincc")
    return _out(SP.Gammainc.apply(a, x, True), out)


from ._special_nograd import (  # noqa: E402,F401  (no-gradient functions, as in PyTorch)
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t,
    chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
    hermite_polynomial_h, hermite_polynomial_he, laguerre_polynomial_l,
    legendre_polynomial_p, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
    modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w, spherical_bessel_j0,
)

_ = P
