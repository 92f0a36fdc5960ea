"""The Tensor: an array, its autograd bookkeeping, and operators that call primitives.

A Tensor holds no math of its own: every operator and method below either reads its
attributes or calls a primitive (``chainrule.ops``) through ``chainrule.tensor_ops``, whose
functions are bound as methods at import time.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._dtype import from_np, to_dtype
from ._state import STATE


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``torch.Size``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

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

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_out_idx", "_version",
                 "_hooks", "_fw", "_retains", "__weakref__")

    def __init__(self, data=(), requires_grad: bool = False):
        self._setup(_to_array(data, _dtype.get_default_dtype()), requires_grad)

    def _setup(self, arr, requires_grad: bool) -> None:
        """Initialise every slot of a new tensor (Parameter uses this too)."""
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._out_idx = 0
        self._version = 0
        self._hooks = None
        self._fw = None
        self._retains = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, arr, requires_grad, grad_fn, idx):
        t = object.__new__(Tensor)
        t._data = arr
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._out_idx = idx
        t._version = 0
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
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self):
        from ._device import device

        return device("cpu")

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
        return Tensor._make(self._data, False, None, 0)

    def detach_(self) -> Tensor:
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

    # -- autograd -----------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see autograd.backward)."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
            return
        self._retains = True
        node = self.grad_fn
        retained = getattr(node, "_retained", None)
        if retained is None:
            retained = node._retained = {}
        import weakref

        retained[self._out_idx] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return
        value replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = _LeafHooks()
            hooks = self._hooks.pre
        else:
            node = self.grad_fn
            table = getattr(node, "_tensor_hooks", None)
            if table is None:
                table = node._tensor_hooks = {}
            hooks = table.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a backward pass has accumulated into this leaf's
        ``.grad`` (PyTorch's hook of the same name; data parallelism starts its gradient
        reductions from it). Returns a handle with ``remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                "registered on non-leaf tensors"
            )
        if not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                "doesn't require gradient"
            )
        if self._hooks is None:
            self._hooks = _LeafHooks()
        self._hooks.post.append(hook)
        return _HookHandle(self._hooks.post, hook)

    # -- in-place operations (for no_grad code: optimizers, init) -------------------
    def _check_inplace(self, op):
        if STATE.grad_enabled and (self.requires_grad):
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in an in-place "
                    "operation; wrap the update in `with chainrule.no_grad():`"
                )
            raise RuntimeError(
                f"{op}: in-place operations on tensors that are part of an autograd graph are "
                "not supported; use the out-of-place form (e.g. x = x + y)"
            )
        if not self._data.flags.writeable:
            self._data = self._data.copy()
        self._version += 1

    def _inplace_result(self, value, op):
        self._check_inplace(op)
        arr = self._data
        value = np.asarray(value)
        if value.dtype != arr.dtype and arr.dtype.kind != "f" and value.dtype.kind == "f":
            raise RuntimeError(
                f"{op}: result type {from_np(value.dtype)} can't be cast to the desired "
                f"output type {from_np(arr.dtype)}"
            )
        try:
            np.copyto(arr, np.broadcast_to(value, arr.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"{op}: the value of shape {tuple(value.shape)} doesn't match the tensor's "
                f"shape {tuple(arr.shape)} (it must broadcast to it)"
            ) from None
        return self

    def add_(self, other, alpha=1):
        o = _arr(other)
        return self._inplace_result(self._data + (o if alpha == 1 else o * alpha), "add_")

    def sub_(self, other, alpha=1):
        o = _arr(other)
        return self._inplace_result(self._data - (o if alpha == 1 else o * alpha), "sub_")

    def mul_(self, other):
        return self._inplace_result(self._data * _arr(other), "mul_")

    def div_(self, other):
        return self._inplace_result(self._data / _arr(other), "div_")

    def addcmul_(self, t1, t2, value=1):
        return self._inplace_result(self._data + value * _arr(t1) * _arr(t2), "addcmul_")

    def addcdiv_(self, t1, t2, value=1):
        return self._inplace_result(self._data + value * _arr(t1) / _arr(t2), "addcdiv_")

    def lerp_(self, end, weight):
        return self._inplace_result(self._data + _arr(weight) * (_arr(end) - self._data), "lerp_")

    def sqrt_(self):
        return self._inplace_result(np.sqrt(self._data), "sqrt_")

    def pow_(self, exponent):
        return self._inplace_result(self._data ** _arr(exponent), "pow_")

    def neg_(self):
        return self._inplace_result(-self._data, "neg_")

    def abs_(self):
        return self._inplace_result(np.abs(self._data), "abs_")

    def exp_(self):
        return self._inplace_result(np.exp(self._data), "exp_")

    def zero_(self):
        return self._inplace_result(0, "zero_")

    def fill_(self, value):
        return self._inplace_result(_arr(value), "fill_")

    def copy_(self, src):
        return self._inplace_result(_arr(src), "copy_")

    def clamp_(self, min=None, max=None):  # noqa: A002
        return self._inplace_result(np.clip(self._data, _arr(min), _arr(max)), "clamp_")

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return self._inplace_result(np.where(_arr(mask), _arr(value), self._data), "masked_fill_")

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .random import _gen

        vals = _gen(generator).random(self._data.shape) * (b - a) + a
        return self._inplace_result(vals, "uniform_")

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .random import _gen

        vals = _gen(generator).standard_normal(self._data.shape) * std + mean
        return self._inplace_result(vals, "normal_")

    def bernoulli_(self, p=0.5, generator=None):
        from .random import _gen

        return self._inplace_result(_gen(generator).random(self._data.shape) < p, "bernoulli_")

    def random_(self, low=0, high=None, generator=None):
        from .random import _gen

        if high is None:
            low, high = 0, low
        return self._inplace_result(_gen(generator).integers(low, high, self._data.shape), "random_")

    def set_(self, source):
        self._check_inplace("set_")
        self._data = _arr(source)
        return self

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


class _LeafHooks:
    """A leaf's gradient hooks: ``pre`` see (and may replace) the incoming gradient,
    ``post`` run with the tensor once its ``.grad`` holds the accumulated value."""

    __slots__ = ("pre", "post")

    def __init__(self):
        self.pre = []
        self.post = []


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
