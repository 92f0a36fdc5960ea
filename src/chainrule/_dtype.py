"""dtypes: thin named wrappers over NumPy dtypes, compared and printed like PyTorch's."""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801 - mirrors torch.dtype
    """A tensor element type (``chainrule.float32`` ...), wrapping a NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating (torch's promotion categories)

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        raise TypeError("chainrule dtypes are not picklable")

    def __copy__(self):
        return self  # dtypes are singletons (copy.deepcopy of a module keeps them)

    def __deepcopy__(self, memo):
        return self


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
int16 = dtype("int16", np.int16, 1)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)

float = float32  # noqa: A001 - torch.float
double = float64
half = float16
long = int64
int = int32  # noqa: A001 - torch.int

_BY_NP = {d.np: d for d in (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)}

_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def from_np(np_dtype) -> dtype:
    """The chainrule dtype for a NumPy dtype."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"unsupported dtype {np_dtype!r}: chainrule supports "
                        + ", ".join(sorted(d.name for d in _BY_NP.values()))) from None


def to_dtype(d) -> dtype:
    """Accept a chainrule dtype, a NumPy dtype/type or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    return from_np(np.dtype(d))
