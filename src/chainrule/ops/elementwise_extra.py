"""More elementwise primitives: inverse and hyperbolic trigonometry, exp2, and the binary
atan2, hypot and logaddexp (NumPy forwards, derivatives in tensor operations). See
``chainrule.ops`` for the vocabulary (x, out, grad, x_dot).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from .elementwise import _plus
from .unary import _unary


def _quiet(fn):
    """NumPy's function without its floating-point warnings (PyTorch returns nan/inf
    silently, e.g. asin(2))."""

    def f(*args):
        with np.errstate(all="ignore"):
            return fn(*args)

    return f


Asin = _unary("Asin", _quiet(np.arcsin), "out = asin(x).   VJP: grad / sqrt(1 - x^2).",
              lambda x, out, g: g / (1 - x * x).sqrt())
Acos = _unary("Acos", _quiet(np.arccos), "out = acos(x).   VJP: -grad / sqrt(1 - x^2).",
              lambda x, out, g: -(g / (1 - x * x).sqrt()))
Atan = _unary("Atan", _quiet(np.arctan), "out = atan(x).   VJP: grad / (1 + x^2).",
              lambda x, out, g: g / (x * x + 1))
Sinh = _unary("Sinh", _quiet(np.sinh), "out = sinh(x).   VJP: grad * cosh(x).",
              lambda x, out, g: g * Cosh.apply(x))
Cosh = _unary("Cosh", _quiet(np.cosh), "out = cosh(x).   VJP: grad * sinh(x).",
              lambda x, out, g: g * Sinh.apply(x))
Asinh = _unary("Asinh", _quiet(np.arcsinh), "out = asinh(x).   VJP: grad / sqrt(x^2 + 1).",
               lambda x, out, g: g / (x * x + 1).sqrt())
Acosh = _unary("Acosh", _quiet(np.arccosh), "out = acosh(x).   VJP: grad / sqrt((x - 1)(x + 1)).",
               lambda x, out, g: g / ((x - 1) * (x + 1)).sqrt())
Atanh = _unary("Atanh", _quiet(np.arctanh), "out = atanh(x).   VJP: grad / (1 - x^2).",
               lambda x, out, g: g / (1 - x * x))
Exp2 = _unary("Exp2", _quiet(np.exp2), "out = 2^x.   VJP: grad * out * log(2).",
              lambda x, out, g: g * out * math.log(2.0), save="out")


class _Binary(Function):
    """Shared apply logic: ``_partials(x, y, out)`` gives (d out/dx, d out/dy) as tensors."""

    _arrays = True
    _np = None

    @classmethod
    def forward(cls, ctx, x, y):
        out = cls._np(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, y, out = ctx.saved_tensors
        dx, dy = cls._partials(x, y, out)
        need = ctx.needs_input_grad
        return (grad * dx if need[0] else None), (grad * dy if need[1] else None)

    @classmethod
    def jvp(cls, ctx, x_dot, y_dot):
        x, y, out = ctx.saved_tensors
        dx, dy = cls._partials(x, y, out)
        return _plus(None if x_dot is None else x_dot * dx, None if y_dot is None else y_dot * dy)


class Atan2(_Binary):
    """out = atan2(y, x) (here ``x`` is the first argument: y in PyTorch's naming
    ``atan2(input, other)``).   VJP: (grad * o / (i^2 + o^2), -grad * i / (i^2 + o^2)) for
    input i and other o."""

    _np = staticmethod(_quiet(np.arctan2))

    @staticmethod
    def _partials(x, y, out):
        r = 1 / (x * x + y * y)
        return y * r, -x * r


class Hypot(_Binary):
    """out = sqrt(x^2 + y^2) without overflow.   VJP: (grad * x / out, grad * y / out)."""

    _np = staticmethod(_quiet(np.hypot))

    @staticmethod
    def _partials(x, y, out):
        return x / out, y / out


class LogAddExp(_Binary):
    """out = log(exp(x) + exp(y)), stable.   VJP: (grad * sigmoid(x - y), grad * sigmoid(y - x))."""

    _np = staticmethod(_quiet(np.logaddexp))

    @staticmethod
    def _partials(x, y, out):
        return (x - out).exp(), (y - out).exp()


UNARY = (Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Exp2)
BINARY = (Atan2, Hypot, LogAddExp)
