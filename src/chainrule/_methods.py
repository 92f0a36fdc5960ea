"""Bind the functions of ``chainrule/functions/`` as Tensor methods and operators."""

from __future__ import annotations

import numpy as np

from . import _dtype
from . import ops as P
from .functions import elementwise as FE
from .functions import linalg as FL
from .functions import shape as FS
from .functions import shape_index as FI
from .functions import reduction as FR
from .functions import unary as FU
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
        shape = FS._size_arg(size)
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
    """``t.type()`` names the tensor type ('chainrule.FloatTensor'); ``t.type(dtype)`` converts
    (a dtype, a typed constructor such as ``LongTensor``, or its name, 'torch.LongTensor')."""
    if dtype is None:
        return _dtype.DISPLAY[0] + "." + _TYPE_NAMES[self.dtype.name]
    if isinstance(getattr(dtype, "dtype", None), _dtype.dtype) and isinstance(dtype, type):
        dtype = dtype.dtype  # a typed constructor: t.type(torch.LongTensor)
    elif isinstance(dtype, str):
        if ".cuda." in dtype:
            return _cuda(self)
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
    "add": FE.add, "sub": FE.sub, "subtract": FE.sub, "mul": FE.mul, "multiply": FE.mul,
    "div": FE.div, "divide": FE.div, "true_divide": FE.div, "floor_divide": FE.floor_divide,
    "remainder": FE.remainder, "fmod": FE.fmod, "pow": FE.pow, "neg": FE.neg, "negative": FE.neg,
    "exp": FU.exp, "expm1": FU.expm1, "log": FU.log, "log1p": FU.log1p, "log2": FU.log2,
    "log10": FU.log10, "sqrt": FU.sqrt, "rsqrt": FU.rsqrt, "abs": FU.abs, "absolute": FU.abs,
    "sign": FE.sign, "sgn": FE.sign, "sin": FU.sin, "cos": FU.cos, "tan": FU.tan, "tanh": FU.tanh,
    "sigmoid": FU.sigmoid, "relu": FU.relu, "clamp": FE.clamp, "clip": FE.clamp,
    "maximum": FE.maximum, "minimum": FE.minimum, "floor": FE.floor, "ceil": FE.ceil,
    "round": FE.round, "trunc": FE.trunc, "frac": FE.frac, "reciprocal": FU.reciprocal,
    "square": FU.square, "lerp": FE.lerp,
    "where": lambda self, condition, other: FE.where(condition, self, other),
    # comparisons
    "eq": FE.eq, "ne": FE.ne, "lt": FE.lt, "le": FE.le, "gt": FE.gt, "ge": FE.ge,
    "logical_and": FE.logical_and, "logical_or": FE.logical_or, "logical_xor": FE.logical_xor,
    "logical_not": FE.logical_not, "isnan": FE.isnan, "isinf": FE.isinf, "isfinite": FE.isfinite,
    "allclose": FE.allclose, "isclose": FE.isclose, "equal": FE.equal,
    # reductions
    "sum": FR.sum, "mean": FR.mean, "prod": FR.prod, "max": FR.max, "min": FR.min,
    "amax": FR.amax, "amin": FR.amin, "argmax": FR.argmax, "argmin": FR.argmin, "var": FR.var,
    "std": FR.std, "logsumexp": FR.logsumexp, "norm": FR.norm, "all": FR.all, "any": FR.any,
    "count_nonzero": FR.count_nonzero, "cumsum": FR.cumsum, "softmax": FR.softmax,
    "log_softmax": FR.log_softmax,
    # shape
    "reshape": FS.reshape, "view": FS.view, "view_as": FS.view_as, "reshape_as": FS.reshape_as,
    "flatten": FS.flatten, "unflatten": FS.unflatten, "squeeze": FS.squeeze,
    "unsqueeze": FS.unsqueeze, "permute": FS.permute, "transpose": FS.transpose,
    "swapaxes": FS.transpose, "swapdims": FS.transpose, "t": FS.t, "movedim": FS.movedim,
    "expand": FS.expand, "expand_as": FS.expand_as, "broadcast_to": FS.broadcast_to,
    "split": FS.split, "chunk": FS.chunk, "tensor_split": FS.tensor_split, "unbind": FS.unbind,
    "select": FS.select, "flip": FS.flip, "roll": FS.roll, "repeat": FS.repeat, "tile": FS.tile,
    "repeat_interleave": FI.repeat_interleave, "narrow": FS.narrow,
    # indexing
    "gather": FI.gather, "scatter_add": FI.scatter_add, "scatter": FI.scatter,
    "index_select": FI.index_select, "masked_fill": FE.masked_fill,
    "masked_select": FI.masked_select, "take_along_dim": FI.take_along_dim,
    "nonzero": FI.nonzero, "sort": FI.sort, "argsort": FI.argsort, "topk": FI.topk,
    # products
    "matmul": FL.matmul, "mm": FL.mm, "bmm": FL.bmm, "mv": FL.mv, "dot": FL.dot, "inner": FL.dot,
    "outer": FL.outer, "ger": FL.outer,
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
    "__add__": FE._add, "__radd__": _rev(FE._add), "__sub__": FE._sub, "__rsub__": _rev(FE._sub),
    "__mul__": FE.mul, "__rmul__": _rev(FE.mul), "__truediv__": FE.div,
    "__rtruediv__": _rev(FE.div), "__floordiv__": FE.floor_divide,
    "__rfloordiv__": _rev(FE.floor_divide), "__mod__": FE.remainder,
    "__rmod__": _rev(FE.remainder), "__pow__": FE.pow, "__rpow__": _rev(FE.pow),
    "__matmul__": FL.matmul, "__rmatmul__": _rev(FL.matmul), "__neg__": FE.neg,
    "__pos__": lambda self: self, "__abs__": FU.abs,
    "__eq__": FE.eq, "__ne__": FE.ne, "__lt__": FE.lt, "__le__": FE.le, "__gt__": FE.gt,
    "__ge__": FE.ge, "__and__": FE.bitwise_and, "__or__": FE.bitwise_or,
    "__xor__": FE.bitwise_xor, "__invert__": FE.bitwise_not,
    "__getitem__": FI.getitem,
    # in-place operations, __setitem__ and augmented assignment: chainrule._inplace
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.__hash__ = object.__hash__
Tensor.T = property(lambda self: FS.permute(self, tuple(range(self._data.ndim))[::-1]))
Tensor.mT = property(lambda self: FS.transpose(self, -2, -1))
Tensor.mH = Tensor.mT
Tensor.H = Tensor.T

from . import _inplace_ops  # noqa: E402,F401  (binds the in-place methods)
