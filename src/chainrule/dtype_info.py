"""dtype utilities: ``finfo``, ``iinfo``, ``promote_types``, ``result_type``, ``can_cast``,
plus small predicates and helpers of the top level (``broadcast_shapes``, ``is_nonzero``,
``is_same_size``, ``is_signed``, ``typename``, ...), with PyTorch's rules.

PyTorch's promotion works by category (bool < integer < floating): a higher category wins
whatever the sizes (float16 with int64 gives float16); within a category the wider type
wins (int8 with uint8 gives int16, as NumPy).
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from .tensor import Size, Tensor


class finfo:  # noqa: N801 - mirrors torch.finfo
    """Machine limits of a floating dtype (``finfo()``: the default dtype).

    Attributes: bits, eps (smallest e with 1 + e != 1), max, min, tiny (= smallest_normal),
    smallest_normal, resolution (10^-precision), dtype (the name, e.g. "float32").
    """

    def __init__(self, type=None):  # noqa: A002
        d = type if type.__class__ is _dtype._Absent else (
            _dtype.get_default_dtype() if type is None else _dtype.to_dtype(type))
        if d is _dtype.bfloat16:  # 8 exponent bits as float32, 7 fraction bits
            self.bits, self.eps, self.resolution, self.dtype = 16, 2.0 ** -7, 0.01, d.name
            self.max = float((2 - 2.0 ** -7) * 2.0 ** 127)
            self.min, self.tiny = -self.max, 2.0 ** -126
            self.smallest_normal = self.tiny
            return
        if d._category == 3:  # complex: the limits of its real part, as PyTorch
            d = {4: _dtype.float16, 8: _dtype.float32, 16: _dtype.float64}[d.itemsize]
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - mirrors torch.iinfo
    """Machine limits of an integer dtype: bits, max, min, dtype (the name)."""

    def __init__(self, type):  # noqa: A002
        if type in (_dtype.uint16, _dtype.uint32, _dtype.uint64):
            info = np.iinfo(f"u{type.itemsize}")
            self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), 0, \
                type.name
            return
        d = type if type.__class__ is _dtype._Absent else _dtype.to_dtype(type)
        if d is _dtype.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), \
            int(info.min), d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1, type2):
    """The smallest dtype both promote to (PyTorch's categories; see the module)."""
    a, b = _dtype.to_dtype(type1), _dtype.to_dtype(type2)
    if a._category != b._category:
        return a if a._category > b._category else b
    return _dtype.from_np(np.promote_types(a.np, b.np))


def _as_array(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, int):
        return np.asarray(x, np.int64)
    if isinstance(x, float):
        return np.asarray(x, _dtype.get_default_dtype().np)
    raise TypeError(f"result_type: expected a Tensor or a Python number, got "
                    f"{type(x).__name__}")


def result_type(tensor1, tensor2):
    """The dtype an arithmetic operation of the two would return (Python numbers count as
    0-dim operands of the lowest dtype of their category)."""
    from .functions._common import _result_dtype

    if not isinstance(tensor1, Tensor) and not isinstance(tensor2, Tensor):
        return promote_types(_dtype.from_np(_as_array(tensor1).dtype),
                             _dtype.from_np(_as_array(tensor2).dtype))
    if not isinstance(tensor1, Tensor):
        tensor1, tensor2 = tensor2, tensor1
    if isinstance(tensor2, Tensor):
        return _dtype.from_np(_result_dtype(tensor1._data, tensor2._data))
    a = tensor1._data.dtype
    cat_b = 0 if isinstance(tensor2, bool) else 1 if isinstance(tensor2, int) else 2
    cat_a = _dtype.from_np(a)._category
    if cat_b > cat_a:
        return _dtype.get_default_dtype() if cat_b == 2 else _dtype.int64
    return _dtype.from_np(a)


def can_cast(from_, to) -> bool:
    """Whether PyTorch's type promotion allows the cast: not floating to integral, and not
    non-bool to bool."""
    a, b = _dtype.to_dtype(from_), _dtype.to_dtype(to)
    return a._category <= b._category


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of these shapes broadcast to."""
    norm = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{norm}") from None


def is_nonzero(input) -> bool:  # noqa: A002
    """Whether a one-element tensor is nonzero (errors for other sizes, as PyTorch)."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()) != 0)


def is_same_size(input, other) -> bool:  # noqa: A002
    return input._data.shape == other._data.shape


def is_signed(input) -> bool:  # noqa: A002
    return input._data.dtype.kind in "if"


def is_storage(obj) -> bool:
    return False


def is_inference(input) -> bool:  # noqa: A002
    """False: chainrule does not mark tensors made under inference_mode."""
    return False


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def typename(obj) -> str:
    """'chainrule.FloatTensor'-style names for tensors (as ``t.type()``), else the object's
    qualified type name."""
    if isinstance(obj, Tensor):
        return _dtype.DISPLAY[0] + "." + _TYPE_NAMES[obj.dtype.name]
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-dim tensor holding s (the default float dtype unless ``dtype``)."""
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    t = Tensor._make(np.asarray(s, d.np), False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


__all__ = [
    "broadcast_shapes", "can_cast", "finfo", "iinfo", "is_inference", "is_nonzero",
    "is_same_size", "is_signed", "is_storage", "promote_types", "result_type",
    "scalar_tensor", "typename",
]
