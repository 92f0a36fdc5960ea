"""The Tensor: an array, its autograd bookkeeping, and operators that call primitives.

A Tensor holds no math of its own: every operator and method below either reads its
attributes or calls a primitive (``chainrule.ops``) through ``chainrule/functions/``, whose
functions are bound as methods at import time.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._dtype import from_np, to_dtype
from ._state import STATE


def _is_meta(arr) -> bool:
    from ._meta import MetaArray

    return type(arr) is MetaArray


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``torch.Size``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{_dtype.DISPLAY[0]}.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert Python data / arrays / tensors to an array with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        arr = np.array([_to_array(d) for d in data])
    else:
        arr = np.asarray(data)
    if dtype is not None:
        return arr.astype(to_dtype(dtype).np, copy=False)
    kind = arr.dtype.kind
    if kind == "f":
        if not isinstance(data, (np.ndarray, np.generic, Tensor)):
            return arr.astype(_dtype.get_default_dtype().np, copy=False)
        return arr if arr.dtype in (np.float32, np.float64, np.float16) else arr.astype(np.float32)
    if kind in "iu":
        if not isinstance(data, (np.ndarray, np.generic, Tensor)):
            return arr.astype(np.int64, copy=False)
        return arr
    if kind == "b":
        return arr
    if arr.size == 0 and kind not in "fiub":
        return arr.astype(_dtype.get_default_dtype().np)
    raise TypeError(
        f"tensor: cannot make a tensor from data of NumPy dtype {arr.dtype} "
        "(expected numbers or booleans)"
    )


def _flat(seq):
    for s in seq:
        if isinstance(s, (list, tuple)):
            yield from _flat(s)
        else:
            yield s


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    ``Tensor(data)`` builds a float32 tensor (like ``torch.Tensor``); ``chainrule.tensor``
    infers the dtype (float32 for floating data, int64 for integers, bool).
    """

    # _vc: the version counter, a list [version, name of the last in-place op] shared by a
    # tensor and all its views (None until first needed: version 0); _view: None, or for a
    # view (base, steps, version at which grad_fn was derived) -- see chainrule._inplace
    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_out_idx", "_vc", "_view",
                 "_hooks", "_fw", "_retains", "__weakref__")

    def __init__(self, data=(), requires_grad: bool = False):
        self._setup(_to_array(data, _dtype.get_default_dtype()), requires_grad)

    def _setup(self, arr, requires_grad: bool) -> None:
        """Initialise every slot of a new tensor (Parameter uses this too)."""
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._out_idx = 0
        self._vc = None
        self._view = None
        self._hooks = None
        self._fw = None
        self._retains = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, arr, requires_grad, grad_fn, idx):
        if STATE.vmap_level and arr.__class__ is np.ndarray and arr.base is not None:
            rebatch = getattr(arr.base, "_rebatch", None)  # NumPy stripped a vmap placeholder
            if rebatch is not None:
                arr = rebatch(arr)
        t = object.__new__(Tensor)
        t._data = arr
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._out_idx = idx
        t._vc = None
        t._view = None
        t._hooks = None
        t._fw = None
        t._retains = False
        return t

    # -- attributes ---------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return from_np(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def _version(self) -> int:
        """How many in-place operations changed this tensor's data (shared with its views)."""
        vc = self._vc
        return 0 if vc is None else vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [value, None]
        else:
            vc[0] = value
            vc[1] = None

    @property
    def _base(self):
        """The tensor this one is a view of (None if it is not a view), as PyTorch's ``_base``."""
        v = self._view
        return None if v is None else v[0]

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self):
        from ._device import device

        if self._data.__class__ is not np.ndarray and _is_meta(self._data):
            return device("meta")  # a module moved with .to("meta") (chainrule._meta)
        return device("cpu")

    @property
    def is_meta(self) -> bool:
        return self._data.__class__ is not np.ndarray and _is_meta(self._data)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    @property
    def data(self) -> Tensor:
        return Tensor._make(self._data, False, None, 0)

    @data.setter
    def data(self, value):
        self._data = _to_array(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad_: only floating-point tensors can require gradients, but this "
                f"tensor has dtype {self.dtype}; convert it first, e.g. t.float()"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False): this tensor is not a leaf (it has a grad_fn); "
                "use .detach() to get a tensor that does not require grad"
            )
        self.requires_grad = bool(requires_grad)
        return self

    # -- conversion ---------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to a "
                "Python scalar (only one-element tensors can)"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self._data.astype(dtype, copy=False)
        return self._data

    def detach(self) -> Tensor:
        """A tensor sharing this one's data and version counter, outside the graph."""
        if self._data.__class__ is not np.ndarray and hasattr(self._data, "_bdim"):
            return self._data._detach_tensor(self)  # vmap: detach the physical value
        t = Tensor._make(self._data, False, None, 0)
        vc = self._vc
        if vc is None:
            vc = self._vc = [0, None]
        t._vc = vc
        return t

    def detach_(self) -> Tensor:
        if self._view is not None:
            raise RuntimeError(
                "detach_: can't detach views in-place; use detach() instead (this tensor is a "
                "view of another tensor)"
            )
        self.grad_fn = None
        self.requires_grad = False
        return self

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self._data.reshape(()))

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        """``copy.deepcopy`` of a leaf (as torch: data, requires_grad and grad copied; extra
        slots of subclasses deep-copied); non-leaf tensors refuse, as in torch."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol; deep-copy t.detach() instead")
        if id(self) in memo:
            return memo[id(self)]
        import copy

        new = object.__new__(type(self))
        new._setup(self._data.copy(), self.requires_grad)
        for cls in type(self).__mro__:
            if cls is not Tensor and issubclass(cls, Tensor):
                for name in cls.__dict__.get("__slots__", ()):
                    if hasattr(self, name):
                        setattr(new, name, copy.deepcopy(getattr(self, name), memo))
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "chainrule tensors are not picklable (chainrule never uses pickle); "
            "use chainrule.save(obj, path)"
        )

    # -- printing -----------------------------------------------------------------
    def __repr__(self) -> str:
        from ._format import tensor_repr

        return tensor_repr(self)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return self.__repr__().__format__(spec)


def _arr(x):
    if isinstance(x, Tensor):
        return x._data
    return x


def _norm_dim(dim, ndim, op="op"):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n if ndim else 0
