"""The public functions of the elementwise primitives (``ops/elementwise.py``): arithmetic
with PyTorch's type promotion, clamp/where/masked_fill, rounding (zero gradient), and the
comparisons and logical operations (no gradient)."""

from __future__ import annotations

import builtins

import numpy as np

from .. import _dtype
from ..ops import elementwise as P
from ..tensor import Tensor
from ._common import _bcast_error, _is_int, _promote, _raw, _scalar_np, _wrap_scalar_like, as_float


def _binary(prim, op):
    def fn(input, other):  # noqa: A002
        if other.__class__ is Tensor and input.__class__ is Tensor and (
                input._data.dtype is other._data.dtype):
            a, b = input, other  # the common case: nothing to promote
        else:
            a, b = _promote(input, other)
        try:
            return prim.apply(a, b)
        except ValueError as e:
            if "broadcast" in str(e):
                raise _bcast_error(op, a, b) from None
            raise

    fn.__name__ = op
    return fn


_add = _binary(P.Add, "add")


_sub = _binary(P.Sub, "sub")


mul = multiply = _binary(P.Mul, "mul")


_div = _binary(P.Div, "div")


_pow = _binary(P.Pow, "pow")


_maximum = _binary(P.Maximum, "maximum")


_minimum = _binary(P.Minimum, "minimum")


def add(input, other, *, alpha=1):  # noqa: A002
    return _add(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):  # noqa: A002
    return _sub(input, other if alpha == 1 else other * alpha)


subtract = sub


def div(input, other, *, rounding_mode=None):  # noqa: A002
    """True division (integers become floats), or ``rounding_mode`` "trunc" / "floor"."""
    if rounding_mode is None:
        if _is_int(input) and _is_int(other):
            input = as_float(input)
        return _div(input, other)
    if _is_int(input) and _is_int(other):
        a, b = _promote(input, other) if isinstance(input, Tensor) else _promote(other, input)[::-1]
        fn = np.floor_divide if rounding_mode == "floor" else (lambda x, y: np.trunc(x / y))
        return Tensor._make(np.asanyarray(fn(_raw(a), _raw(b))).astype(_raw(a).dtype if isinstance(
            a, Tensor) else _raw(b).dtype), False, None, 0)
    q = _div(input, other)
    return q.floor() if rounding_mode == "floor" else q.trunc()


divide = true_divide = div


def floor_divide(input, other):  # noqa: A002
    return div(input, other, rounding_mode="floor")


def remainder(input, other):  # noqa: A002
    """x - y * floor(x / y) (the sign of the divisor, like Python's %)."""
    if _is_int(input) and _is_int(other):
        a, b = _raw(input), _raw(other)
        return Tensor._make(np.asanyarray(np.remainder(a, b)), False, None, 0)
    return input - floor_divide(input, other) * other


def fmod(input, other):  # noqa: A002
    return input - div(input, other, rounding_mode="trunc") * other


def pow(input, exponent):  # noqa: A001, A002
    if not isinstance(input, Tensor):
        input = Tensor._make(np.asarray(input, dtype=_scalar_np(input)), False, None, 0)
    if _is_int(input) and isinstance(exponent, (int, np.integer)) and exponent < 0:
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return _pow(input, exponent)


def neg(input):  # noqa: A002
    return P.Neg.apply(input)


negative = neg


def _zero_grad(fn, name):
    def f(input):  # noqa: A002
        if input._data.dtype.kind != "f":
            return Tensor._make(fn(input._data), False, None, 0)
        return P.ZeroGrad.apply(input, fn)

    f.__name__ = name
    return f


floor = _zero_grad(np.floor, "floor")


ceil = _zero_grad(np.ceil, "ceil")


trunc = _zero_grad(np.trunc, "trunc")


sign = _zero_grad(np.sign, "sign")


sgn = sign


def round(input, *, decimals=0):  # noqa: A001, A002
    """Round half to even (like PyTorch); zero gradient."""
    return _zero_grad(lambda a: np.round(a, decimals), "round")(input)


def frac(input):  # noqa: A002
    return input - trunc(input)


def clamp(input, min=None, max=None):  # noqa: A001, A002
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if input._data.dtype.kind != "f" and builtins.any(isinstance(v, float) for v in (min, max)):
        input = input.to(_dtype.get_default_dtype())
    return P.Clamp.apply(input, min, max)


clip = clamp


def maximum(input, other):  # noqa: A002
    return _maximum(input, other if isinstance(other, Tensor) else _wrap_scalar_like(other, input))


def minimum(input, other):  # noqa: A002
    return _minimum(input, other if isinstance(other, Tensor) else _wrap_scalar_like(other, input))


def where(condition, input=None, other=None):  # noqa: A002
    """``input`` where ``condition`` else ``other``; ``where(cond)`` = ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return tuple(Tensor._make(i, False, None, 0) for i in np.nonzero(_raw(condition)))
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor._make(np.asarray(input, dtype=_scalar_np(input)), False, None, 0)
    x, y = _promote(input, other)
    try:
        return P.Where.apply(Tensor._make(cond, False, None, 0), x, y)
    except ValueError:
        raise _bcast_error("where", x, y) from None


def lerp(input, end, weight):  # noqa: A002
    return input + weight * (end - input)


# -- comparisons and logical operations (no gradient) -------------------------------------
def _compare(np_fn, name):
    def fn(input, other):  # noqa: A002
        a, b = _promote(input, other) if isinstance(input, Tensor) else _promote(other, input)[::-1]
        try:
            return Tensor._make(np.asanyarray(np_fn(_raw(a), _raw(b))), False, None, 0)
        except ValueError:
            raise _bcast_error(name, a, b) from None

    fn.__name__ = name
    return fn


eq = _compare(np.equal, "eq")


ne = not_equal = _compare(np.not_equal, "ne")


lt = less = _compare(np.less, "lt")


le = less_equal = _compare(np.less_equal, "le")


gt = greater = _compare(np.greater, "gt")


ge = greater_equal = _compare(np.greater_equal, "ge")


logical_and = _compare(np.logical_and, "logical_and")


logical_or = _compare(np.logical_or, "logical_or")


logical_xor = _compare(np.logical_xor, "logical_xor")


bitwise_and = _compare(np.bitwise_and, "bitwise_and")


bitwise_or = _compare(np.bitwise_or, "bitwise_or")


bitwise_xor = _compare(np.bitwise_xor, "bitwise_xor")


def logical_not(input):  # noqa: A002
    return Tensor._make(np.logical_not(input._data), False, None, 0)


def bitwise_not(input):  # noqa: A002
    if input._data.dtype.kind == "f":
        raise TypeError("bitwise_not (~): only integer and bool tensors are supported, got "
                        f"{input.dtype}")
    return Tensor._make(np.invert(input._data), False, None, 0)


def isnan(input):  # noqa: A002
    return Tensor._make(np.isnan(input._data), False, None, 0)


def isinf(input):  # noqa: A002
    return Tensor._make(np.isinf(input._data), False, None, 0)


def isfinite(input):  # noqa: A002
    return Tensor._make(np.isfinite(input._data), False, None, 0)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:  # noqa: A002
    return bool(np.allclose(input._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):  # noqa: A002
    return Tensor._make(np.isclose(input._data, _raw(other), rtol, atol, equal_nan), False, None, 0)


def equal(input, other) -> bool:  # noqa: A002
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def masked_fill(input, mask, value):  # noqa: A002
    """Elements of ``input`` where ``mask`` is True replaced by ``value``."""
    m = _raw(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, got {np.dtype(m.dtype)}")
    if isinstance(value, Tensor):
        v = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    else:
        v = np.asarray(value, input._data.dtype)
    return P.Where.apply(Tensor._make(m, False, None, 0), v, input)


__all__ = [
    "add", "allclose", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "ceil",
    "clamp", "clip", "div", "divide", "eq", "equal", "floor", "floor_divide", "fmod", "frac",
    "ge", "greater", "greater_equal", "gt", "isclose", "isfinite", "isinf", "isnan", "le",
    "lerp", "less", "less_equal", "logical_and", "logical_not", "logical_or", "logical_xor",
    "lt", "masked_fill", "maximum", "minimum", "mul", "multiply", "ne", "neg", "negative",
    "not_equal", "pow", "remainder", "round", "sgn", "sign", "sub", "subtract", "true_divide",
    "trunc", "where"
]
