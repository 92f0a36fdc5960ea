"""The public functions of the extra elementwise primitives (``ops/elementwise_extra.py``:
``chainrule.asin``, ``atan2``, ``hypot``, ``logaddexp`` ...) and more elementwise math composed
from public functions (``nan_to_num``, ``copysign``, ``gcd`` ...); their Tensor methods and
in-place forms are bound in ``_methods_extra.py``.

Differentiable functions call primitives (``ops.elementwise_extra``) or compose public
functions (the special functions, lgamma, digamma, erfinv ..., are in ``special.py``);
integer inputs of floating functions are computed in the default float dtype (as PyTorch). Functions PyTorch does not differentiate (signbit, heaviside, frexp, gcd,
shifts, nextafter) return tensors that do not require grad.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from . import _common as FC
from . import elementwise as FE
from . import unary as FU
from ..ops import elementwise_extra as EX
from ..special import _floating, _pair, polygamma, xlogy
from ..tensor import Tensor


def _plain(arr):
    return Tensor._make(np.asanyarray(arr), False, None, 0)


def _float_fn(prim, name):
    def fn(input):  # noqa: A002
        return prim.apply(_floating(input, name))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name}(x) elementwise ({prim.__doc__.split('.')[0]})."
    return fn


asin = arcsin = _float_fn(EX.Asin, "asin")
acos = arccos = _float_fn(EX.Acos, "acos")
atan = arctan = _float_fn(EX.Atan, "atan")
sinh = _float_fn(EX.Sinh, "sinh")
cosh = _float_fn(EX.Cosh, "cosh")
asinh = arcsinh = _float_fn(EX.Asinh, "asinh")
acosh = arccosh = _float_fn(EX.Acosh, "acosh")
atanh = arctanh = _float_fn(EX.Atanh, "atanh")
exp2 = _float_fn(EX.Exp2, "exp2")


def _binary_float(prim, name):
    def fn(input, other):  # noqa: A002
        x, y = _pair(input, other, name)
        return prim.apply(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = prim.__doc__.split("\n")[0]
    return fn


atan2 = arctan2 = _binary_float(EX.Atan2, "atan2")
hypot = _binary_float(EX.Hypot, "hypot")
logaddexp = _binary_float(EX.LogAddExp, "logaddexp")


def logaddexp2(input, other):  # noqa: A002
    """log2(2^x + 2^y), stable."""
    x, y = _pair(input, other, "logaddexp2")
    ln2 = math.log(2.0)
    return EX.LogAddExp.apply(x * ln2, y * ln2) * (1 / ln2)


def logit(input, eps=None):  # noqa: A002
    from ..special import logit as f

    return f(input, eps)


def sinc(input):  # noqa: A002
    from ..special import sinc as f

    return f(input)


def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in float64 (PyTorch's float_power)."""
    x = input.to(_dtype.float64) if isinstance(input, Tensor) else float(input)
    e = exponent.to(_dtype.float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x), False, None, 0)
    return FE.pow(x, e)


def _nan_pair(input, other, name):
    if isinstance(other, Tensor) or isinstance(input, Tensor):
        a, b = FC._promote(input, other) if isinstance(input, Tensor) else \
            FC._promote(other, input)[::-1]
        if not isinstance(b, Tensor):
            b = FC._wrap_scalar_like(b, a)
        return a, b
    raise TypeError(f"{name}: expected tensors")


def fmax(input, other):  # noqa: A002
    """Elementwise maximum ignoring nan (nan only where both are nan). The gradient goes
    to input where input >= other or other is nan, else to other (PyTorch's rule)."""
    x, y = _nan_pair(input, other, "fmax")
    if x._data.dtype.kind != "f":
        return _plain(np.fmax(x._data, y._data))
    return FE.where((x >= y) | FE.isnan(y), x, y)


def fmin(input, other):  # noqa: A002
    """Elementwise minimum ignoring nan."""
    x, y = _nan_pair(input, other, "fmin")
    if x._data.dtype.kind != "f":
        return _plain(np.fmin(x._data, y._data))
    return FE.where((x <= y) | FE.isnan(y), x, y)


def copysign(input, other):  # noqa: A002
    """|input| with the sign of other (a float result). Gradient: sign(input) times the new
    sign (0 at input = 0, as PyTorch); none to other."""
    x = _floating(input, "copysign")
    s = np.signbit(other._data if isinstance(other, Tensor) else np.asarray(other))
    sign = _plain(np.where(s, -1.0, 1.0).astype(x._data.dtype))
    return FU.abs(x) * sign


def signbit(input):  # noqa: A002
    return _plain(np.signbit(input._data))


def heaviside(input, values):  # noqa: A002
    """0 where input < 0, values where input == 0, 1 where input > 0 (no gradient)."""
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    if isinstance(values, Tensor) and v.dtype != input._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           f"dtypes ({input.dtype} and {values.dtype})")
    x = input._data
    out = np.where(x == 0, v, (x > 0).astype(x.dtype))
    return _plain(out.astype(x.dtype, copy=False))


def ldexp(input, other):  # noqa: A002
    """input * 2^other (a float result)."""
    x = _floating(input, "ldexp")
    e = other if isinstance(other, Tensor) else Tensor._make(np.asarray(other), False, None, 0)
    return x * exp2(e.to(x.dtype))


def frexp(input):  # noqa: A002
    """(mantissa, exponent) with input = mantissa * 2^exponent, |mantissa| in [0.5, 1)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = np.frexp(input._data)
    from ._common import _Frexp

    return _Frexp(_plain(m), _plain(e.astype(np.int32)))


def nextafter(input, other):  # noqa: A002
    return _plain(np.nextafter(input._data, other._data if isinstance(other, Tensor) else other))


def isneginf(input):  # noqa: A002
    return _plain(np.isneginf(input._data))


def isposinf(input):  # noqa: A002
    return _plain(np.isposinf(input._data))


def isreal(input):  # noqa: A002
    """True everywhere: chainrule has no complex dtypes."""
    return _plain(np.ones(input._data.shape, bool))


def deg2rad(input):  # noqa: A002
    return _floating(input, "deg2rad") * (math.pi / 180.0)


def rad2deg(input):  # noqa: A002
    return _floating(input, "rad2deg") * (180.0 / math.pi)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """nan, +inf, -inf replaced by ``nan``, ``posinf`` (default: the dtype's largest value)
    and ``neginf`` (its lowest); the gradient passes only where input is finite."""
    a = input._data
    if a.dtype.kind != "f":
        return input.clone()
    info = np.finfo(a.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    out = FE.where(FE.isnan(input), nan, input)
    out = FE.where(_plain(np.isposinf(a)), hi, out)
    return FE.where(_plain(np.isneginf(a)), lo, out)


def clamp_min(input, min):  # noqa: A002
    return FE.clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return FE.clamp(input, max=max)


def fix(input):  # noqa: A002
    return FE.trunc(input)


def positive(input):  # noqa: A002
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def conj(input):  # noqa: A002
    """The input itself: chainrule has no complex dtypes (conj of a real tensor)."""
    return input


conj_physical = resolve_conj = resolve_neg = real = conj


def is_conj(input) -> bool:  # noqa: A002
    return False


def is_neg(input) -> bool:  # noqa: A002
    return False


def is_complex(input) -> bool:  # noqa: A002
    return False


def imag(input):  # noqa: A002
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes "
                       "(chainrule has no complex dtypes).")


def angle(input):  # noqa: A002
    """The argument of a real number: pi where input < 0, else 0 (nan stays nan); zero
    gradient."""
    x = _floating(input, "angle")
    return FE.where(x < 0, math.pi, FE.where(FE.isnan(x), x, 0.0))


def _int_only(np_fn, name):
    def fn(input, other):  # noqa: A002
        a = input._data
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        if a.dtype.kind not in "iub" or b.dtype.kind not in "iub":
            raise RuntimeError(f'"{name}_cpu" not implemented for floating-point tensors; '
                               "use integer tensors")
        out = np_fn(a, b)
        return _plain(out.astype(np.result_type(a, b) if isinstance(other, Tensor) else a.dtype,
                                 copy=False))

    fn.__name__ = fn.__qualname__ = name
    return fn


gcd = _int_only(np.gcd, "gcd")
lcm = _int_only(np.lcm, "lcm")
bitwise_left_shift = _int_only(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _int_only(np.right_shift, "bitwise_right_shift")


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 * tensor2."""
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 / tensor2."""
    return input + value * tensor1 / tensor2


def rsub(input, other, *, alpha=1):  # noqa: A002
    """other - alpha * input."""
    return FE.sub(other, input * alpha if alpha != 1 else input) if isinstance(other, Tensor) \
        else -(input * alpha if alpha != 1 else input) + other


__all__ = [
    "acos", "acosh", "addcdiv", "addcmul", "angle", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh",
    "bitwise_left_shift", "bitwise_right_shift", "clamp_max", "clamp_min", "conj",
    "conj_physical", "copysign", "cosh", "deg2rad", "exp2", "fix", "float_power", "fmax",
    "fmin", "frexp", "gcd", "heaviside", "hypot", "imag", "is_complex", "is_conj", "is_neg",
    "isneginf", "isposinf", "isreal", "lcm", "ldexp", "logaddexp", "logaddexp2", "logit",
    "nan_to_num", "nextafter", "polygamma", "positive", "rad2deg", "real", "resolve_conj",
    "resolve_neg", "rsub", "signbit", "sinc", "sinh", "xlogy"
]
