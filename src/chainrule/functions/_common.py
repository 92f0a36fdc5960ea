"""What every kind of public function shares: PyTorch's dtype promotion for two operands
(Python scalars never widen a tensor's dtype, float32 * 0.5 stays float32; an integer tensor
meeting a float becomes the default float dtype; a 0-dim tensor only decides the result when
its category bool < int < float is higher), the errors of operands that do not broadcast,
and the (values, indices) result of max/min/sort/topk."""

from __future__ import annotations

import builtins

import numpy as np

from ..return_types import make as make_rt
from .. import _dtype
from ..ops.elementwise import Cast
from ..tensor import Tensor


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
    if (b.__class__ is float or b.__class__ is int) and isinstance(a, Tensor) and \
            a._data.dtype.kind == "f":
        return a, b  # the most common mixed case: a float tensor and a Python float or int
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        r = _result_dtype(a._data, b._data)
        if (da.kind == "b" and db == r) or (db.kind == "b" and da == r):
            return a, b  # NumPy already computes number-with-bool in the number's dtype
        return (a if da == r else Cast.apply(a, r)), (b if db == r else Cast.apply(b, r))
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
        a = Cast.apply(a, target)
    return a, b


def _tensors(seq, op):
    """The tensors of ``seq`` (a non-empty sequence), promoted to their common dtype."""
    out = list(seq)
    if not out:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    dt = None
    mixed = False
    for x in out:
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(x).__name__}")
        if dt is None:
            dt = x._data.dtype
        elif x._data.dtype != dt:
            mixed = True
    if mixed:
        r = out[0]._data
        for x in out[1:]:
            r = np.empty((1,), _result_dtype(r, x._data))
        out = [x if x._data.dtype == r.dtype else Cast.apply(x, r.dtype) for x in out]
    return out


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


def _is_int(x):
    if isinstance(x, Tensor):
        return x._data.dtype.kind in "biu"
    return isinstance(x, (int, np.integer))


def as_float(x):
    if isinstance(x, Tensor):
        return x.to(_dtype.get_default_dtype())
    return float(x)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _scalar_np(v):
    return np.bool_ if isinstance(v, bool) else np.int64 if isinstance(v, int) else (
        _dtype.get_default_dtype().np)


MinMax = {n: make_rt(n, ["values", "indices"]) for n in ("max", "min", "sort", "topk")}


# the named results of the reductions and scans (reduction_extra.py, scan.py, frexp)
def _rt(name, fields):
    return make_rt(name, fields)


_Values = {n: _rt(n, ["values", "indices"]) for n in (
    "cummax", "cummin", "median", "nanmedian", "mode", "kthvalue")}
_AMinMax = _rt("aminmax", ["min", "max"])
_Frexp = _rt("frexp", ["mantissa", "exponent"])
