"""dtypes: thin named wrappers over NumPy dtypes, compared and printed like PyTorch's."""

from __future__ import annotations

import builtins

import numpy as np


#: the package name reprs show: "torch" while a program runs through chainrule.torch_compat
DISPLAY = ["chainrule"]


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
        return f"{DISPLAY[0]}.{self.name}"

    @property
    def is_complex(self) -> bool:
        return self._category == 3

    @property
    def is_signed(self) -> bool:
        return self._category >= 2 or (self._category == 1 and self.name[0] != "u")

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


class _Absent(dtype):
    """A PyTorch dtype chainrule has no tensors of (NumPy has no bfloat16 or complex32
    arithmetic; complex and wide unsigned tensors are not implemented). The name exists, so
    that code naming it (``autocast(dtype=torch.bfloat16)``, ``x.dtype == torch.cfloat``,
    ``torch.finfo(torch.bfloat16)``) runs; making a tensor of it raises ``TypeError``."""

    __slots__ = ("why",)

    def __init__(self, name, itemsize, category, why):
        self.name, self.np, self.itemsize = name, None, itemsize
        self.is_floating_point = category == 2
        self._category = category
        self.why = why


_NO_MATH = "NumPy has no {} arithmetic"
bfloat16 = _Absent("bfloat16", 2, 2, _NO_MATH.format("bfloat16"))
complex32 = _Absent("complex32", 4, 3, _NO_MATH.format("complex32"))
complex64 = _Absent("complex64", 8, 3, "complex tensors are not implemented")
complex128 = _Absent("complex128", 16, 3, "complex tensors are not implemented")
uint16 = _Absent("uint16", 2, 1, "unsigned integers wider than uint8 are not implemented")
uint32 = _Absent("uint32", 4, 1, "unsigned integers wider than uint8 are not implemented")
uint64 = _Absent("uint64", 8, 1, "unsigned integers wider than uint8 are not implemented")
cfloat, cdouble, chalf = complex64, complex128, complex32
ABSENT = (bfloat16, complex32, complex64, complex128, uint16, uint32, uint64)


def _refuse(d: _Absent):
    return TypeError(f"chainrule has no {d.name} tensors ({d.why}); use "
                     + ("float32 (or float16)" if d.is_floating_point else
                        "two float tensors (real and imaginary parts)" if d._category == 3 else
                        "int64 (or uint8)"))

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
        if d.__class__ is _Absent:
            raise _refuse(d)
        return d
    if d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    return from_np(np.dtype(d))
