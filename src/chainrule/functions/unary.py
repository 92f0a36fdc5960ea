"""The public functions of the unary primitives (``ops/unary.py``): exp, log, sqrt, the
trigonometric and hyperbolic functions, sigmoid, relu, abs; integer inputs become the default
float dtype."""

from __future__ import annotations

import math

from .. import _dtype
from ..ops import unary as P
from ._common import _is_int, as_float


def _float_unary(prim, name):
    def fn(input):  # noqa: A002
        if input._data.dtype.kind != "f":
            input = input.to(_dtype.get_default_dtype())
        return prim.apply(input)

    fn.__name__ = name
    return fn


exp = _float_unary(P.Exp, "exp")


expm1 = _float_unary(P.Expm1, "expm1")


log = _float_unary(P.Log, "log")


log1p = _float_unary(P.Log1p, "log1p")


sqrt = _float_unary(P.Sqrt, "sqrt")


sin = _float_unary(P.Sin, "sin")


cos = _float_unary(P.Cos, "cos")


tan = _float_unary(P.Tan, "tan")


tanh = _float_unary(P.Tanh, "tanh")


sigmoid = _float_unary(P.Sigmoid, "sigmoid")


def log2(input):  # noqa: A002
    return log(input) * (1 / math.log(2))


def log10(input):  # noqa: A002
    return log(input) * (1 / math.log(10))


def rsqrt(input):  # noqa: A002
    return 1 / sqrt(input)


def reciprocal(input):  # noqa: A002
    return 1 / as_float(input) if _is_int(input) else 1 / input


def square(input):  # noqa: A002
    return input * input


def relu(input):  # noqa: A002
    return P.Relu.apply(input)


def abs(input):  # noqa: A001, A002
    return P.Abs.apply(input)


absolute = abs


__all__ = [
    "abs", "absolute", "cos", "exp", "expm1", "log", "log10", "log1p", "log2", "reciprocal",
    "relu", "rsqrt", "sigmoid", "sin", "sqrt", "square", "tan", "tanh"
]
