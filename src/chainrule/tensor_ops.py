"""Elementwise math, comparisons and reductions: the ``chainrule.*`` functions and the
matching Tensor methods, composed from the primitives in ``chainrule.ops``.

Type promotion follows PyTorch: Python scalars never widen a tensor's dtype (float32 * 0.5
stays float32), an integer tensor meeting a float becomes the default float dtype, and a
0-dim tensor only decides the result when its category (bool < int < float) is higher.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from . import _dtype
from . import ops as P
from .tensor import Tensor, _norm_dim

_CAT = {"b": 0, "i": 1, "u": 1, "f": 2}


def _cat(np_dtype):
    return _CAT[np_dtype.kind]


def _result_dtype(a: np.ndarray, b: np.ndarray):
    """PyTorch's result dtype for two arrays (dimensioned beats 0-dim within a category)."""
    da, db = a.dtype, b.dtype
    ca, cb = _cat(da), _cat(db)
    za, zb = a.ndim == 0, b.ndim == 0
    if za == zb:
        if ca == cb:
            return np.promote_types(da, db)
        return da if ca > cb else db
    if zb:
        return db if cb > ca else da
    return da if ca > cb else db


def _scalar_cat(v):
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    return 2


def _wrap_scalar_like(v, t):
    return Tensor._make(np.asarray(v, dtype=t._data.dtype), False, None, 0)


def _promote(a, b):
    """Bring two operands (tensors or Python/NumPy scalars) to PyTorch's common dtype."""
    if b.__class__ is float and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return a, b  # the most common mixed case: a float tensor and a Python float
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        r = _result_dtype(a._data, b._data)
        if (da.kind == "b" and db == r) or (db.kind == "b" and da == r):
            return a, b  # NumPy already computes number-with-bool in the number's dtype
        return (a if da == r else P.Cast.apply(a, r)), (b if db == r else P.Cast.apply(b, r))
    if isinstance(b, Tensor):
        b2, a2 = _promote(b, a)
        return a2, b2
    # a is a Tensor, b is something else
    if isinstance(b, np.ndarray):
        return _promote(a, Tensor._make(b, False, None, 0))
    if isinstance(b, np.generic):
        b = b.item()
    if not isinstance(b, (int, float, bool)):
        raise TypeError(f"unsupported operand type {type(b).__name__} for a tensor operation")
    ca, cb = _cat(a._data.dtype), _scalar_cat(b)
    if cb > ca:
        target = _dtype.get_default_dtype().np if cb == 2 else np.dtype(np.int64)
        a = P.Cast.apply(a, target)
    return a, b


def _bcast_error(op, a, b):
    sa = tuple(np.shape(a._data if isinstance(a, Tensor) else a))
    sb = tuple(np.shape(b._data if isinstance(b, Tensor) else b))
    for i in range(1, builtins.max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            return RuntimeError(
                f"{op}: shapes {sa} and {sb} don't broadcast: at dimension -{i} the sizes "
                f"are {x} and {y} (they must be equal, or one of them 1)"
            )
    return RuntimeError(f"{op}: shapes {sa} and {sb} don't broadcast")


def _binary(prim, op):
    def fn(input, other):  # noqa: A002
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


def _is_int(x):
    if isinstance(x, Tensor):
        return x._data.dtype.kind in "biu"
    return isinstance(x, (int, np.integer))


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


def as_float(x):
    if isinstance(x, Tensor):
        return x.to(_dtype.get_default_dtype())
    return float(x)


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


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def pow(input, exponent):  # noqa: A001, A002
    if not isinstance(input, Tensor):
        input = Tensor._make(np.asarray(input, dtype=_scalar_np(input)), False, None, 0)
    if _is_int(input) and isinstance(exponent, (int, np.integer)) and exponent < 0:
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return _pow(input, exponent)


def _scalar_np(v):
    return np.bool_ if isinstance(v, bool) else np.int64 if isinstance(v, int) else (
        _dtype.get_default_dtype().np)


def neg(input):  # noqa: A002
    return P.Neg.apply(input)


negative = neg


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


# -- reductions ---------------------------------------------------------------------------
def _axes(dim, ndim, op):
    """Normalize ``dim`` (None, int, or sequence) to None or a sorted tuple of axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_norm_dim(int(dim), ndim, op),)
    axes = tuple(sorted({_norm_dim(int(d), ndim, op) for d in dim}))
    return axes if axes or ndim == 0 else None


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001, A002
    """Sum of all elements, or over ``dim`` (int or tuple). Integer and bool sums are int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != np.int64:
        input = input.to(_dtype.int64)
    return P.Sum.apply(input, _axes(dim, input._data.ndim, "sum"), keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Arithmetic mean over all elements or ``dim`` (floating tensors only, as PyTorch)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean: could not infer output dtype; input dtype must be floating point, got "
            f"{input.dtype} (use .float() first)"
        )
    axes = _axes(dim, input._data.ndim, "mean")
    n = _count(input._data.shape, axes)
    return P.Sum.apply(input, axes, keepdim) / (n if n else float("nan"))


def _count(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        return Tensor._make(np.asanyarray(np.prod(input._data, axis=dim, keepdims=keepdim)).astype(
            np.int64), False, None, 0)
    axes = None if dim is None else (_norm_dim(dim, input._data.ndim, "prod"),)
    return P.Prod.apply(input, axes, keepdim)


MinMax = namedtuple("MinMax", ["values", "indices"])


def _minmax(input, dim, keepdim, other, is_max):  # noqa: A002
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):  # max(a, b)
        other = dim
    if other is not None:
        return maximum(input, other) if is_max else minimum(input, other)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): expected a non-empty tensor (use amax/amin with dim)")
        return (P.Amax if is_max else P.Amin).apply(input, None, False)
    d = _norm_dim(dim, input._data.ndim, name)
    idx = (np.argmax if is_max else np.argmin)(input._data, axis=d, keepdims=True)
    values = gather(input, d, Tensor._make(idx, False, None, 0))
    if not keepdim:
        values = values.squeeze(d)
        idx = np.squeeze(idx, d)
    return MinMax(values, Tensor._make(idx.astype(np.int64), False, None, 0))


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    """max of all elements; with ``dim``, (values, indices); with a tensor, ``maximum``."""
    return _minmax(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    return _minmax(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim=False):  # noqa: A002
    """Max over ``dim`` (all dims if empty); ties share the gradient evenly."""
    axes = None if dim == () or dim is None else _axes(dim, input._data.ndim, "amax")
    return P.Amax.apply(input, axes, keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    axes = None if dim == () or dim is None else _axes(dim, input._data.ndim, "amin")
    return P.Amin.apply(input, axes, keepdim)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    if dim is None:
        arr = np.asanyarray(np.argmax(input._data))
        return Tensor._make(arr.reshape((1,) * input._data.ndim if keepdim else ()).astype(
            np.int64), False, None, 0)
    d = _norm_dim(dim, input._data.ndim, "argmax")
    return Tensor._make(np.argmax(input._data, axis=d, keepdims=keepdim).astype(np.int64),
                        False, None, 0)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    if dim is None:
        arr = np.asanyarray(np.argmin(input._data))
        return Tensor._make(arr.reshape((1,) * input._data.ndim if keepdim else ()).astype(
            np.int64), False, None, 0)
    d = _norm_dim(dim, input._data.ndim, "argmin")
    return Tensor._make(np.argmin(input._data, axis=d, keepdims=keepdim).astype(np.int64),
                        False, None, 0)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """sum((x - mean)^2) / (N - correction); correction=1 (unbiased) by default."""
    if isinstance(dim, bool):  # var(x, False): the legacy "unbiased" positional
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _axes(dim, input._data.ndim, "var")
    n = _count(input._data.shape, axes)
    centered = input - mean(input, axes, keepdim=True)
    ss = (centered * centered).sum(axes, keepdim=keepdim)
    # N - correction <= 0 gives inf (or nan for 0/0), as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return ss / builtins.max(n - correction, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """sqrt(var); its gradient where the variance is 0 (constant input) is 0, as PyTorch."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    zero = v == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log(sum(exp(x))) over ``dim``, computed stably (shifted by the max)."""
    if input._data.dtype.kind != "f":
        input = as_float(input)
    return P.LogSumExp.apply(input, _axes(dim, input._data.ndim, "logsumexp"), keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements by default); "fro" means p = 2.

    The 2-norm's gradient at the zero vector is taken as 0 (a subgradient), as PyTorch.
    """
    if dtype is not None:
        input = input.to(dtype)
    axes = _axes(dim, input._data.ndim, "norm")
    if p in ("fro", 2, 2.0):
        ss = (input * input).sum(axes, keepdim=keepdim)
        zero = ss == 0
        return where(zero, 0.0, sqrt(where(zero, 1.0, ss)))
    if p in (1, 1.0):
        return input.abs().sum(axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(input.abs(), axes, keepdim)
    if p == -float("inf"):
        return amin(input.abs(), axes, keepdim)
    if p == 0:
        return (input != 0).to(input.dtype).sum(axes, keepdim=keepdim)
    total = (input.abs() ** p).sum(axes, keepdim=keepdim)
    if p < 0:
        return total ** (1.0 / p)
    zero = total == 0  # as the 2-norm: gradient 0 at the zero vector, not 0 * inf
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / p))


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    return Tensor._make(np.asanyarray(np.all(input._data, axis=dim, keepdims=keepdim)), False, None, 0)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    return Tensor._make(np.asanyarray(np.any(input._data, axis=dim, keepdims=keepdim)), False, None, 0)


def count_nonzero(input, dim=None):  # noqa: A002
    return Tensor._make(np.asanyarray(np.count_nonzero(input._data, axis=dim)).astype(np.int64), False, None, 0)


def cumsum(input, dim, *, dtype=None):  # noqa: A002
    if dtype is not None:
        input = input.to(dtype)
    return P.Cumsum.apply(input, _norm_dim(dim, input._data.ndim, "cumsum"))


def softmax(input, dim, dtype=None):  # noqa: A002
    """exp(x_i) / sum_j exp(x_j) along ``dim``, stable (shifted by the max)."""
    if dtype is not None:
        input = input.to(dtype)
    return P.Softmax.apply(input, _norm_dim(dim, input._data.ndim, "softmax"))


def log_softmax(input, dim, dtype=None):  # noqa: A002
    """x_i - logsumexp(x) along ``dim``, stable."""
    if dtype is not None:
        input = input.to(dtype)
    return P.LogSoftmax.apply(input, _norm_dim(dim, input._data.ndim, "log_softmax"))


from .shape_ops import gather  # noqa: E402

__all__ = [
    "abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin",
    "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "clamp", "clip", "cos",
    "count_nonzero", "cumsum", "div", "divide", "eq", "equal", "exp", "expm1", "floor",
    "floor_divide", "fmod", "frac", "ge", "greater", "greater_equal", "gt", "isclose",
    "isfinite", "isinf", "isnan", "le", "lerp", "less", "less_equal", "log", "log10", "log1p",
    "log2", "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor",
    "logsumexp", "lt", "max", "maximum", "mean", "min", "minimum", "mul", "multiply", "ne",
    "neg", "negative", "norm", "not_equal", "pow", "prod", "reciprocal", "relu", "remainder",
    "round", "rsqrt", "sgn", "sigmoid", "sign", "sin", "softmax", "sqrt", "square", "std",
    "std_mean", "sub", "subtract", "sum", "tan", "tanh", "true_divide", "trunc", "var",
    "var_mean", "where",
]
