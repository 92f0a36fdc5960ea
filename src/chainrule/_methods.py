"""Bind the functions of ``tensor_ops`` and ``shape_ops`` as Tensor methods and operators."""

from __future__ import annotations

import numpy as np

from . import _dtype
from . import ops as P
from . import shape_ops as S
from . import tensor_ops as M
from ._device import check_cpu, device
from .tensor import Tensor


def _rev(fn):
    def r(self, other):
        return fn(other, self)

    return r


def _to(self, *args, dtype=None, **kwargs):
    """``to(dtype)``, ``to(other_tensor)``, ``to("cpu")`` / ``to(device, dtype)``."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (_dtype.dtype, type, np.dtype)):
            dtype = a
        elif isinstance(a, (str, device)):
            check_cpu(a, "to")
    if "device" in kwargs and kwargs["device"] is not None:
        check_cpu(kwargs["device"], "to")
    if dtype is None:
        return self
    np_dt = _dtype.to_dtype(dtype).np
    if np_dt == self._data.dtype:
        return self
    if self.requires_grad and np_dt.kind != "f":
        return Tensor._make(self._data.astype(np_dt), False, None, 0)
    return P.Cast.apply(self, np_dt)


def _clone(self, *, memory_format=None):
    return P.Cast.apply(self, self._data.dtype)


def _contiguous(self, memory_format=None):
    return self if self._data.flags.c_contiguous else P.Cast.apply(self, self._data.dtype)


def _new(fill):
    def fn(self, *size, dtype=None, requires_grad=False):
        shape = S._size_arg(size)
        dt = self._data.dtype if dtype is None else _dtype.to_dtype(dtype).np
        t = Tensor._make(np.full(shape, fill, dt), False, None, 0)
        return t.requires_grad_(True) if requires_grad else t

    return fn


def _new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
    return _new(fill_value)(self, tuple(size), dtype=dtype, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, requires_grad=False):
    from .creation import tensor

    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _type_as(self, other):
    return _to(self, other.dtype)


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _type(self, dtype=None, non_blocking=False):
    """``t.type()`` names the tensor type ('chainrule.FloatTensor'); ``t.type(dtype)`` converts."""
    if dtype is None:
        return "chainrule." + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        lookup = {v: k for k, v in _TYPE_NAMES.items()}
        if name not in lookup:
            raise ValueError(f"type: unknown tensor type {dtype!r}")
        dtype = getattr(_dtype, lookup[name] if lookup[name] != "bool" else "bool_")
    return _to(self, dtype)


def _cuda(self, *args, **kwargs):
    raise RuntimeError("cuda: chainrule runs on the CPU only (chainrule.cuda.is_available() "
                       "is False); keep tensors on the CPU")


_METHODS = {
    # arithmetic
    "add": M.add, "sub": M.sub, "subtract": M.sub, "mul": M.mul, "multiply": M.mul,
    "div": M.div, "divide": M.div, "true_divide": M.div, "floor_divide": M.floor_divide,
    "remainder": M.remainder, "fmod": M.fmod, "pow": M.pow, "neg": M.neg, "negative": M.neg,
    "exp": M.exp, "expm1": M.expm1, "log": M.log, "log1p": M.log1p, "log2": M.log2,
    "log10": M.log10, "sqrt": M.sqrt, "rsqrt": M.rsqrt, "abs": M.abs, "absolute": M.abs,
    "sign": M.sign, "sgn": M.sign, "sin": M.sin, "cos": M.cos, "tan": M.tan, "tanh": M.tanh,
    "sigmoid": M.sigmoid, "relu": M.relu, "clamp": M.clamp, "clip": M.clamp,
    "maximum": M.maximum, "minimum": M.minimum, "floor": M.floor, "ceil": M.ceil,
    "round": M.round, "trunc": M.trunc, "frac": M.frac, "reciprocal": M.reciprocal,
    "square": M.square, "lerp": M.lerp,
    "where": lambda self, condition, other: M.where(condition, self, other),
    # comparisons
    "eq": M.eq, "ne": M.ne, "lt": M.lt, "le": M.le, "gt": M.gt, "ge": M.ge,
    "logical_and": M.logical_and, "logical_or": M.logical_or, "logical_xor": M.logical_xor,
    "logical_not": M.logical_not, "isnan": M.isnan, "isinf": M.isinf, "isfinite": M.isfinite,
    "allclose": M.allclose, "isclose": M.isclose, "equal": M.equal,
    # reductions
    "sum": M.sum, "mean": M.mean, "prod": M.prod, "max": M.max, "min": M.min,
    "amax": M.amax, "amin": M.amin, "argmax": M.argmax, "argmin": M.argmin, "var": M.var,
    "std": M.std, "logsumexp": M.logsumexp, "norm": M.norm, "all": M.all, "any": M.any,
    "count_nonzero": M.count_nonzero, "cumsum": M.cumsum, "softmax": M.softmax,
    "log_softmax": M.log_softmax,
    # shape
    "reshape": S.reshape, "view": S.view, "view_as": S.view_as, "reshape_as": S.reshape_as,
    "flatten": S.flatten, "unflatten": S.unflatten, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "permute": S.permute, "transpose": S.transpose,
    "swapaxes": S.transpose, "swapdims": S.transpose, "t": S.t, "movedim": S.movedim,
    "expand": S.expand, "expand_as": S.expand_as, "broadcast_to": S.broadcast_to,
    "split": S.split, "chunk": S.chunk, "tensor_split": S.tensor_split, "unbind": S.unbind,
    "select": S.select, "flip": S.flip, "roll": S.roll, "repeat": S.repeat, "tile": S.tile,
    "repeat_interleave": S.repeat_interleave, "narrow": S.narrow,
    # indexing
    "gather": S.gather, "scatter_add": S.scatter_add, "scatter": S.scatter,
    "index_select": S.index_select, "masked_fill": S.masked_fill,
    "masked_select": S.masked_select, "take_along_dim": S.take_along_dim,
    "nonzero": S.nonzero, "sort": S.sort, "argsort": S.argsort, "topk": S.topk,
    # products
    "matmul": S.matmul, "mm": S.mm, "bmm": S.bmm, "mv": S.mv, "dot": S.dot, "inner": S.dot,
    "outer": S.outer, "ger": S.outer,
    # conversion
    "to": _to, "type_as": _type_as, "type": _type, "cpu": lambda self, *a, **k: self,
    "cuda": _cuda, "clone": _clone, "contiguous": _contiguous,
    "float": lambda self: _to(self, _dtype.float32),
    "double": lambda self: _to(self, _dtype.float64),
    "half": lambda self: _to(self, _dtype.float16),
    "long": lambda self: _to(self, _dtype.int64),
    "int": lambda self: _to(self, _dtype.int32),
    "bool": lambda self: _to(self, _dtype.bool_),
    "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0), "new_full": _new_full,
    "new_tensor": _new_tensor,
    # operators
    "__add__": M.add, "__radd__": _rev(M.add), "__sub__": M.sub, "__rsub__": _rev(M.sub),
    "__mul__": M.mul, "__rmul__": _rev(M.mul), "__truediv__": M.div,
    "__rtruediv__": _rev(M.div), "__floordiv__": M.floor_divide,
    "__rfloordiv__": _rev(M.floor_divide), "__mod__": M.remainder,
    "__rmod__": _rev(M.remainder), "__pow__": M.pow, "__rpow__": _rev(M.pow),
    "__matmul__": S.matmul, "__rmatmul__": _rev(S.matmul), "__neg__": M.neg,
    "__pos__": lambda self: self, "__abs__": M.abs,
    "__eq__": M.eq, "__ne__": M.ne, "__lt__": M.lt, "__le__": M.le, "__gt__": M.gt,
    "__ge__": M.ge, "__and__": M.bitwise_and, "__or__": M.bitwise_or,
    "__xor__": M.bitwise_xor, "__invert__": M.bitwise_not,
    "__getitem__": S.getitem,
    # in-place operations, __setitem__ and augmented assignment: chainrule._inplace
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.__hash__ = object.__hash__
Tensor.T = property(lambda self: S.permute(self, tuple(range(self._data.ndim))[::-1]))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.mH = Tensor.mT
Tensor.H = Tensor.T

from . import _inplace_ops  # noqa: E402,F401  (binds the in-place methods)
