"""Bind the functions of ``functions/``'s ``elementwise_extra``, ``special``,
``reduction_extra``, ``scan``, ``shape_layout``, ``shape_search`` and ``linalg_products``,
and of ``indexing_extra`` and the ``special`` namespace, as Tensor methods
(``t.asin()``, ``t.median(0)``, ``t.unique()``...), their in-place forms (``t.asin_()``,
``t.scatter_reduce_(...)``, through ``_inplace``'s recorded in-place machinery), methods
of existing functions that were not bound yet (``t.bitwise_and``, ``t.greater``...), and
the memory/introspection methods (``stride``, ``data_ptr``, ``nbytes``, ``apply_``...).
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from . import indexing_extra as IX
from .functions import shape_layout as L
from .functions import elementwise_extra as E
from .functions import special as SF
from .functions import linalg_products as PR
from .functions import reduction_extra as R
from .functions import scan as SC
from .functions import shape_search as Q
from .functions import shape as FS
from . import special as SP
from .functions import elementwise as FE
from .functions import reduction as FR
from ._inplace import _bump, _from, inplace
from .dtype_info import is_nonzero, is_same_size
from .linalg_ops import tril, triu
from .tensor import Tensor
from .toplevel_misc import nonzero_static as _nonzero_static
from .nn import _functional_act as _act, _functional_act_extra as _act_extra


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    m.__name__ = m.__qualname__ = getattr(fn, "__name__", "method")
    m.__doc__ = fn.__doc__
    return m


def _extra(name):
    """A function of ``functions/elementwise_extra.py`` or ``functions/special.py`` by name."""
    return getattr(E, name) if hasattr(E, name) else getattr(SF, name)


_FLOAT_UNARY = ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin",
                "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2", "erfc", "erfinv",
                "lgamma", "digamma", "i0", "sinc", "deg2rad", "rad2deg", "fix")
_METHODS = {n: _extra(n) for n in _FLOAT_UNARY}
_METHODS.update({n: _extra(n) for n in (
    "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "logit", "xlogy", "signbit",
    "copysign", "nan_to_num", "heaviside", "clamp_min", "clamp_max", "float_power", "fmax",
    "fmin", "isneginf", "isposinf", "isreal", "ldexp", "frexp", "gcd", "lcm",
    "bitwise_left_shift", "bitwise_right_shift", "positive", "conj", "conj_physical",
    "resolve_conj", "resolve_neg", "is_conj", "is_neg", "angle", "nextafter", "igamma",
    "igammac", "addcmul", "addcdiv", "mvlgamma")})
_METHODS.update({
    "polygamma": lambda self, n: E.polygamma(n, self), "erf": SP.erf,
    "bitwise_and": FE.bitwise_and, "bitwise_or": FE.bitwise_or, "bitwise_xor": FE.bitwise_xor,
    "bitwise_not": FE.bitwise_not, "greater": FE.gt, "greater_equal": FE.ge, "less": FE.lt,
    "less_equal": FE.le, "not_equal": FE.ne, "fliplr": FS.fliplr, "flipud": FS.flipud,
})
_METHODS.update({n: getattr(R, n) for n in R.__all__})
_METHODS.update({n: getattr(SC, n) for n in SC.__all__})
_METHODS.update({n: getattr(Q, n) for n in (
    "unique", "unique_consecutive", "bincount", "histc", "histogram", "argwhere", "take",
    "put")})
_METHODS.update({n: getattr(L, n) for n in (
    "ravel", "moveaxis", "hsplit", "vsplit", "dsplit", "rot90", "diff", "as_strided",
    "narrow_copy", "sum_to_size", "split_with_sizes", "unsafe_chunk", "unsafe_split",
    "unsafe_split_with_sizes", "unfold")})
_METHODS.update({n: getattr(IX, n) for n in IX.__all__})
_METHODS.update({"as_strided_scatter": L.as_strided_scatter})
_METHODS.update({n: getattr(PR, n) for n in (
    "addmv", "addr", "addbmm", "baddbmm", "addmm", "adjoint", "cov", "corrcoef", "vdot")})
_METHODS.update({"is_nonzero": is_nonzero, "is_same_size": is_same_size})
_METHODS.update({"hardshrink": _act.hardshrink, "prelu": _act_extra.prelu})  # t.hardshrink(0.5)


def _reflected(fn):
    """``other <op> self`` for a Python number ``other`` (``2 << t``)."""
    return lambda self, other: fn(Tensor._make(np.asarray(other, self._data.dtype), False,
                                               None, 0), self)


_METHODS.update({"__lshift__": E.bitwise_left_shift, "__rshift__": E.bitwise_right_shift,
                 "__rlshift__": _reflected(E.bitwise_left_shift),
                 "__rrshift__": _reflected(E.bitwise_right_shift)})

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _method(_fn))

# -- in-place forms ----------------------------------------------------------------------
_INPLACE = {n + "_": _extra(n) for n in _FLOAT_UNARY}
_INPLACE.update({n + "_": _extra(n) for n in (
    "atan2", "arctan2", "hypot", "logit", "xlogy", "copysign", "nan_to_num", "heaviside",
    "ldexp", "gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift", "nextafter", "igamma",
    "igammac", "mvlgamma")})
_INPLACE.update({
    "polygamma_": lambda self, n: E.polygamma(n, self), "erf_": SP.erf,
    "float_power_": E.float_power, "renorm_": R.renorm, "cumprod_": SC.cumprod,
    "cumsum_": FR.cumsum, "tril_": tril, "triu_": triu, "put_": Q.put,
    "scatter_reduce_": IX.scatter_reduce, "index_reduce_": IX.index_reduce,
    "index_put_": IX.index_put, "masked_scatter_": IX.masked_scatter,
    "addmv_": PR.addmv, "addr_": PR.addr, "addbmm_": PR.addbmm, "baddbmm_": PR.baddbmm,
    "addmm_": PR.addmm, "__ilshift__": E.bitwise_left_shift,
    "__irshift__": E.bitwise_right_shift,
})
_CASTING = {  # comparisons and logical ops write 0/1 into self's dtype (PyTorch's eq_ ...)
    "eq_": FE.eq, "ne_": FE.ne, "lt_": FE.lt, "le_": FE.le, "gt_": FE.gt, "ge_": FE.ge,
    "greater_": FE.gt, "greater_equal_": FE.ge, "less_": FE.lt, "less_equal_": FE.le,
    "not_equal_": FE.ne, "logical_and_": FE.logical_and, "logical_or_": FE.logical_or,
    "logical_xor_": FE.logical_xor, "logical_not_": FE.logical_not,
    "bitwise_and_": FE.bitwise_and, "bitwise_or_": FE.bitwise_or, "bitwise_xor_": FE.bitwise_xor,
    "bitwise_not_": FE.bitwise_not,
}
for _name, _fn in _INPLACE.items():
    setattr(Tensor, _name, _from(_fn, _name))
for _name, _fn in _CASTING.items():
    setattr(Tensor, _name, _from(_fn, _name, "unsafe"))


def fill_diagonal_(self, fill_value, wrap=False):
    """Set the main diagonal to ``fill_value`` in place (NumPy's fill_diagonal rules)."""
    return inplace(self, "fill_diagonal_", (),
                   lambda t: IX.fill_diagonal(t, fill_value, wrap),
                   lambda: IX.fill_diagonal(Tensor._make(self._data, False, None, 0),
                                            fill_value, wrap)._data, "unsafe")


def _float_power_(self, exponent):
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype.name.capitalize()}"
                           " but the operation's result requires dtype Double")
    return _from(E.float_power, "float_power_")(self, exponent)


Tensor.fill_diagonal_ = fill_diagonal_
Tensor.float_power_ = _float_power_

# -- memory, introspection and legacy methods ----------------------------------------------


def _root(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def data_ptr(self) -> int:
    """The address of the first element (views have their offset added, as PyTorch's)."""
    return int(self._data.__array_interface__["data"][0])


def stride(self, dim=None):
    """Steps in elements between neighbours along each dim (0 for broadcast dims)."""
    st = tuple(s // self._data.itemsize for s in self._data.strides)
    return st if dim is None else st[dim]


def storage_offset(self) -> int:
    """The first element's offset, in elements, from the start of the memory it views."""
    root = _root(self._data)
    return (data_ptr(self) - int(root.__array_interface__["data"][0])) // self._data.itemsize


def is_set_to(self, tensor) -> bool:
    """Whether both tensors view the same memory with the same sizes and strides."""
    return (data_ptr(self) == data_ptr(tensor) and self._data.shape == tensor._data.shape
            and self._data.strides == tensor._data.strides and _root(self._data) is
            _root(tensor._data))


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by decreasing stride)."""
    st = stride(self)
    return tuple(sorted(range(len(st)), key=lambda d: -st[d]))


def apply_(self, callable):  # noqa: A002
    """Replace every element by callable(element) in place (a Python call per element;
    not differentiable, as PyTorch's)."""
    arr = self._data
    arr[...] = np.vectorize(callable, otypes=[arr.dtype])(arr) if arr.size else arr
    _bump(self, "apply_")
    return self


def map_(self, tensor, callable):  # noqa: A002
    """self[i] = callable(self[i], tensor[i]) in place (tensor broadcast to self)."""
    arr = self._data
    other = np.broadcast_to(tensor._data, arr.shape)
    if arr.size:
        arr[...] = np.vectorize(callable, otypes=[arr.dtype])(arr, other)
    _bump(self, "map_")
    return self


def map2_(self, x, y, callable):  # noqa: A002
    """self[i] = callable(self[i], x[i], y[i]) in place."""
    arr = self._data
    a, b = (np.broadcast_to(t._data, arr.shape) for t in (x, y))
    if arr.size:
        arr[...] = np.vectorize(callable, otypes=[arr.dtype])(arr, a, b)
    _bump(self, "map2_")
    return self


def _storage(arr):
    """(the C-contiguous array owning ``arr``'s memory, flat, and arr's offset in it), or
    None when arr does not sit in such an array."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.c_contiguous:
        return None
    start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return root.reshape(-1), start // arr.itemsize


def resize_(self, *sizes, memory_format=None):
    """Give self the shape ``sizes`` in place, as PyTorch: the same shape changes nothing;
    another shape makes self contiguous over its storage from its first element (so a
    smaller or equal size keeps sharing memory with the tensors self views or is viewed by,
    and reads the storage's following elements); a size beyond the storage gets new memory
    holding the old storage elements first, then zeros (PyTorch leaves them uninitialised,
    and its other views keep following the grown storage; here they keep the old one)."""
    shape = FS._size_arg(sizes)
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_: negative size in {list(shape)}: sizes must be >= 0")
    arr = self._data
    if tuple(arr.shape) == shape:
        return self
    n = int(np.prod(shape, dtype=np.int64))
    store = _storage(arr)
    if store is not None and store[1] + n <= store[0].size:
        self._data = store[0][store[1]:store[1] + n].reshape(shape)
    else:
        old = store[0][store[1]:] if store is not None else arr.ravel(order="K")
        new = np.zeros(shape, arr.dtype)
        m = min(n, old.size)
        new.reshape(-1)[:m] = old[:m]
        self._data = new
    _bump(self, "resize_")
    return self


def resize_as_(self, other, memory_format=None):
    return resize_(self, tuple(other._data.shape))


def new(self, *args, **kwargs):
    """Legacy ``t.new(...)``: ``new(*sizes)`` an uninitialised tensor, ``new(sequence)`` a
    copy of the data, both of self's dtype."""
    from .creation import tensor

    from .tensor import Size

    if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
        return tensor(args[0], dtype=self.dtype)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return tensor(args[0], dtype=self.dtype)
    shape = FS._size_arg(args) if args else (0,)
    return Tensor._make(np.empty(shape, self._data.dtype), False, None, 0)


def new_empty_strided(self, size, stride, *, dtype=None, requires_grad=False, **kwargs):
    dt = self._data.dtype if dtype is None else _dtype.to_dtype(dtype).np
    t = Tensor._make(np.empty(tuple(size), dt), False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def _no_dtype(name, what):
    def m(self, *args, **kwargs):
        raise TypeError(f"{name}: chainrule has no {what} dtype (float16, float32 and float64 "
                        "are its floating dtypes)")

    m.__name__ = name
    return m


def _no_storage(name):
    def m(self, *args, **kwargs):
        raise RuntimeError(f"{name}: chainrule tensors have no separate storage object (they "
                           "are NumPy arrays): use t.data_ptr(), t.stride(), "
                           "t.storage_offset(), t.nbytes or t.numpy()")

    m.__name__ = name
    return m


def _other_device(name):
    def m(self, *args, **kwargs):
        raise RuntimeError(f"{name}: chainrule runs on the CPU only; keep tensors on the CPU")

    m.__name__ = name
    return m


def _bernoulli(self, p=None, *, generator=None):
    from .creation import bernoulli

    return bernoulli(self, p, generator=generator)


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    from .creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


_MORE = {
    "data_ptr": data_ptr, "const_data_ptr": data_ptr, "stride": stride,
    "storage_offset": storage_offset, "is_set_to": is_set_to, "dim_order": dim_order,
    "apply_": apply_, "map_": map_, "map2_": map2_, "resize_": resize_,
    "resize_as_": resize_as_, "new": new, "new_empty_strided": new_empty_strided,
    "byte": lambda self: self.to(_dtype.uint8), "char": lambda self: self.to(_dtype.int8),
    "short": lambda self: self.to(_dtype.int16),
    "bfloat16": _no_dtype("bfloat16", "bfloat16"), "cfloat": _no_dtype("cfloat", "complex"),
    "cdouble": _no_dtype("cdouble", "complex"), "chalf": _no_dtype("chalf", "complex"),
    "storage": _no_storage("storage"), "untyped_storage": _no_storage("untyped_storage"),
    "storage_type": _no_storage("storage_type"), "xpu": _other_device("xpu"),
    "ipu": _other_device("ipu"), "mtia": _other_device("mtia"),
    "pin_memory": lambda self, device=None: self, "is_pinned": lambda self, device=None: False,
    "is_inference": lambda self: False, "bernoulli": _bernoulli, "multinomial": _multinomial,
}
for _name, _fn in _MORE.items():
    setattr(Tensor, _name, _fn)

def as_subclass(self, cls):
    """The same data and autograd history as an instance of the Tensor subclass ``cls``."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass: expected a subclass of Tensor, got {cls!r}")
    new = object.__new__(cls)
    for name in Tensor.__slots__:
        if name != "__weakref__":
            setattr(new, name, getattr(self, name))
    return new


def _as_strided_(self, size, stride, storage_offset=0):
    from ._inplace_ops import _shape_inplace

    return _shape_inplace(L.as_strided, "as_strided_")(self, size, stride, storage_offset)


Tensor.as_subclass = as_subclass
Tensor.as_strided_ = _as_strided_
Tensor.conj_physical_ = lambda self: self
Tensor.nonzero_static = lambda self, *, size, fill_value=-1: _nonzero_static(
    self, size=size, fill_value=fill_value)
Tensor.is_distributed = lambda self: False
Tensor.volatile = property(lambda self: False)  # the legacy Variable flag
Tensor.nbytes = property(lambda self: self._data.nbytes)
Tensor.itemsize = property(lambda self: self._data.itemsize)
Tensor.output_nr = property(lambda self: self._out_idx)
Tensor.name = property(lambda self: None)
Tensor.is_xla = property(lambda self: False)
Tensor.real = property(lambda self: self)
Tensor.imag = property(E.imag)
