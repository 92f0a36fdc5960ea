"""``SparseTensor``: the sparse COO tensor type of ``chainrule.sparse`` (see its docstring).

It is a ``Tensor`` subclass whose differentiable content is its ``values`` tensor; its
``_data`` is a placeholder with the right shape and dtype that occupies no memory and refuses
every NumPy computation, so a dense operation handed a sparse tensor fails loudly instead of
computing on zeros. Tensor methods that have no sparse meaning here are replaced by ones that
raise NotImplementedError naming the method.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..ops.shape import IndexAdd
from ..tensor import Tensor

__all__ = ["SparseTensor", "layout", "sparse_coo", "strided"]

_HOW = ("chainrule's sparse COO tensors support to_dense, coalesce, indices, values, sum, "
        "t/transpose, +, -, * and / by scalars, and products with dense matrices; call "
        ".to_dense() first")


from .._legacy import layout, sparse_coo, strided  # noqa: E402  (one definition of the layouts)


class _NoData(np.ndarray):
    """The ``_data`` of a sparse tensor: zero strides (no memory), and no computation."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise NotImplementedError(f"numpy.{ufunc.__name__} on a sparse COO tensor: {_HOW}")

    def __array_function__(self, func, types, args, kwargs):
        raise NotImplementedError(f"numpy.{func.__name__} on a sparse COO tensor: {_HOW}")

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError(f"this operation on a sparse COO tensor: {_HOW}")

    astype = copy = reshape = ravel = flatten = tolist = tobytes = fill = __getitem__ = _refuse
    __setitem__ = __copy__ = __deepcopy__ = __reduce__ = __reduce_ex__ = _refuse


def _placeholder(shape, dtype) -> np.ndarray:
    return np.broadcast_to(np.zeros((), dtype), tuple(shape)).view(_NoData)


class SparseTensor(Tensor):
    """A sparse COO tensor (see ``chainrule.sparse``): ``indices`` (sparse_dim, nnz) int64
    constants and ``values`` (nnz, *dense dims), a tensor that carries the gradients."""

    __slots__ = ("_idx", "_vals", "_coalesced", "_pat", "_leaf")

    @classmethod
    def _new(cls, idx: np.ndarray, vals: Tensor, size, coalesced: bool,
             leaf: bool = True) -> SparseTensor:
        t = object.__new__(cls)
        t._data = _placeholder(size, vals._data.dtype)
        t._out_idx = 0
        t._vc = None
        t._view = None
        t._hooks = None
        t._fw = None
        t._retains = False
        t._idx, t._vals, t._coalesced, t._pat = idx, vals, coalesced, None
        # a sparse tensor built from values that require grad is not a leaf (as in torch):
        # its gradient goes to those values, and its own .grad stays None
        t._leaf = leaf and vals.grad_fn is None
        return t

    def _pattern(self):
        if self._pat is None:
            from ..ops.sparse import Pattern

            self._pat = Pattern(self._idx[0], self._idx[1], self.shape[:2])
        return self._pat

    def _like(self, vals: Tensor, coalesced: bool | None = None) -> SparseTensor:
        t = SparseTensor._new(self._idx, vals, self.shape,
                              self._coalesced if coalesced is None else coalesced,
                              self._leaf or not vals.requires_grad)
        t._pat = self._pat
        return t

    # -- autograd state lives in the values ------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        self._vals.requires_grad = value

    @property
    def grad_fn(self):
        return self._vals.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._leaf

    @property
    def grad(self):
        """The gradient of a sparse leaf: sparse, on this tensor's (coalesced) pattern."""
        g = self._vals.grad
        if g is None or not self._leaf:
            return None
        if self._coalesced:
            return SparseTensor._new(self._idx, g, self.shape, True)
        flat = self._flat()
        uniq, first = np.unique(flat, return_index=True)
        return SparseTensor._new(self._unflat(uniq), g[first], self.shape, True)

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            self._vals.grad = None
            return
        raise RuntimeError("grad: only None can be assigned to a sparse tensor's grad")

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    def detach(self) -> SparseTensor:
        return self._like(self._vals.detach())

    @property
    def data(self) -> SparseTensor:
        return self.detach()

    def clone(self, *, memory_format=None) -> SparseTensor:
        return self._like(self._vals.clone())

    def to(self, *args, **kwargs) -> SparseTensor:
        return self._like(self._vals.to(*args, **kwargs))

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def cpu(self):
        return self

    # -- structure -------------------------------------------------------------------------
    @property
    def is_sparse(self) -> bool:
        return True

    @property
    def layout(self):
        return sparse_coo

    def sparse_dim(self) -> int:
        return int(self._idx.shape[0])

    def dense_dim(self) -> int:
        return self._vals.ndim - 1

    def _nnz(self) -> int:
        return int(self._idx.shape[1])

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        return Tensor._make(self._idx, False, None, 0)

    def _values(self) -> Tensor:
        return self._vals

    def indices(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._vals

    def _flat(self) -> np.ndarray:
        if self._idx.shape[0] == 0:
            return np.zeros(self._idx.shape[1], np.int64)
        return np.ravel_multi_index(tuple(self._idx), self.shape[:self.sparse_dim()])

    def _unflat(self, flat: np.ndarray) -> np.ndarray:
        if self._idx.shape[0] == 0:
            return np.zeros((0, flat.size), np.int64)
        return np.stack(np.unravel_index(flat, self.shape[:self.sparse_dim()])).astype(np.int64)

    def coalesce(self) -> SparseTensor:
        """Entries sorted by index and duplicates summed (differentiable in the values)."""
        if self._coalesced:
            return self
        uniq, inverse = np.unique(self._flat(), return_inverse=True)
        vals = IndexAdd.apply(self._vals, (uniq.size, *self._vals.shape[1:]),
                              (inverse.reshape(-1),))
        return SparseTensor._new(self._unflat(uniq), vals, self.shape, True)

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor (duplicates add); gradients flow back to the values."""
        out = IndexAdd.apply(self._vals, tuple(self.shape), tuple(self._idx))
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, **kwargs) -> SparseTensor:
        if sparse_dim not in (None, self.sparse_dim()):
            raise NotImplementedError("to_sparse: changing sparse_dim of a sparse tensor is not "
                                      "supported")
        return self

    to_sparse_coo = to_sparse

    def t(self) -> SparseTensor:
        if self.ndim != 2 or self.sparse_dim() != 2:
            raise RuntimeError(f"t() expects a 2-D sparse matrix, got size {tuple(self.shape)}")
        return self.transpose(0, 1)

    @property
    def T(self) -> SparseTensor:
        return self.t()

    def transpose(self, dim0: int, dim1: int) -> SparseTensor:
        sd = self.sparse_dim()
        d0, d1 = dim0 % self.ndim, dim1 % self.ndim
        if d0 >= sd or d1 >= sd:
            raise NotImplementedError("transpose of a sparse tensor's dense dimensions is not "
                                      "supported")
        idx = self._idx.copy()
        idx[[d0, d1]] = idx[[d1, d0]]
        size = list(self.shape)
        size[d0], size[d1] = size[d1], size[d0]
        return SparseTensor._new(idx, self._vals, tuple(size), False)

    # -- arithmetic ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        vals = self._vals if dtype is None else self._vals.to(dtype)
        if dim is None:
            return vals.sum()
        if keepdim:
            raise NotImplementedError("sum: keepdim=True is not supported for sparse tensors")
        dims = sorted({d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)})
        sd = self.sparse_dim()
        dense_axes = tuple(d - sd + 1 for d in dims if d >= sd)
        if dense_axes:
            vals = vals.sum(dense_axes)
        keep = [d for d in range(sd) if d not in dims]
        if not keep:
            return vals.sum(0)
        size = [self.shape[d] for d in keep] + [s for i, s in enumerate(self.shape[sd:], sd)
                                                 if i not in dims]
        return SparseTensor._new(self._idx[keep], vals, tuple(size), False).coalesce()

    def __add__(self, other):
        if isinstance(other, SparseTensor):
            if tuple(other.shape) != tuple(self.shape):
                raise RuntimeError(f"add: sparse sizes differ: {tuple(self.shape)} and "
                                   f"{tuple(other.shape)}")
            from ..functions.shape import cat

            out = SparseTensor._new(np.concatenate([self._idx, other._idx], axis=1),
                                    cat([self._vals, other._vals.to(self._vals.dtype)]),
                                    self.shape, False)
            return out.coalesce() if self._coalesced and other._coalesced else out
        if isinstance(other, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        raise NotImplementedError(f"add: a sparse tensor and {type(other).__name__}: {_HOW}")

    add = __add__

    def __radd__(self, other):
        """dense + sparse: a dense result (as torch)."""
        if isinstance(other, Tensor) and not isinstance(other, SparseTensor):
            return other + self.to_dense()
        return self + other

    def __neg__(self) -> SparseTensor:
        return self._like(-self._vals)

    neg = __neg__

    def __sub__(self, other):
        if isinstance(other, Tensor) and not isinstance(other, SparseTensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        return self + (-other)

    def __rsub__(self, other):
        return (-self).__radd__(other)

    sub = __sub__

    def __mul__(self, other) -> SparseTensor:
        if isinstance(other, (int, float)) or (isinstance(other, Tensor) and other.ndim == 0
                                               and not isinstance(other, SparseTensor)):
            return self._like(self._vals * other)
        if isinstance(other, Tensor) and not isinstance(other, SparseTensor) and \
                tuple(other.shape) == tuple(self.shape):
            return self._like(self._vals * other[tuple(self._idx)])
        raise NotImplementedError(f"mul: a sparse tensor and {type(other).__name__} of this "
                                  f"shape: {_HOW}")

    __rmul__ = __mul__
    mul = __mul__

    def __truediv__(self, other) -> SparseTensor:
        if isinstance(other, (int, float)) or (isinstance(other, Tensor) and other.ndim == 0):
            return self._like(self._vals / other)
        raise NotImplementedError(f"div: a sparse tensor by {type(other).__name__}: {_HOW}")

    div = __truediv__

    def mm(self, mat2):
        from . import mm

        return mm(self, mat2)

    matmul = __matmul__ = mm

    # -- printing --------------------------------------------------------------------------
    def __repr__(self) -> str:
        from .._format import tensor_repr

        def block(t: Tensor, pad: int) -> str:
            return tensor_repr(t.detach()).replace("\n", "\n" + " " * pad)

        lines = ["tensor(indices=" + block(self._indices(), 15) + ",",
                 "       values=" + block(self._vals, 14) + ",",
                 f"       size={tuple(self.shape)}, nnz={self._nnz()}, layout={sparse_coo}"]
        if self.grad_fn is not None:
            lines[-1] += ","
            lines.append(f"       grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad and self._leaf:
            lines[-1] += ", requires_grad=True"
        return "\n".join(lines) + ")"

    __str__ = __repr__

    def __format__(self, spec):
        return repr(self).__format__(spec)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"cannot convert a sparse COO tensor to a NumPy array: {_HOW}")

    def numpy(self, *, force: bool = False):
        raise TypeError(f"numpy(): a sparse COO tensor has no dense array: {_HOW}")


# Tensor methods with no sparse meaning here raise instead of computing on the placeholder.
_KEEP = {
    "__init__", "__new__", "__slots__", "__module__", "__doc__", "__weakref__", "__hash__",
    "__reduce_ex__", "__len__", "__class__", "__init_subclass__", "__subclasshook__",
    "__getattribute__", "__setattr__", "__delattr__", "__dir__", "__sizeof__", "__reduce__",
    "__getstate__", "__eq__", "__ne__", "_make", "_setup",
    "shape", "size", "dtype", "ndim", "dim", "ndimension", "numel", "nelement",
    "element_size", "device", "is_cuda", "is_floating_point", "is_contiguous", "retain_grad",
    "retains_grad", "register_hook", "is_shared", "is_complex", "type",
}


def _refusal(name: str, is_property: bool):
    def refuse(self, *args, **kwargs):
        raise NotImplementedError(f"Tensor.{name}: not supported for sparse COO tensors; {_HOW}")

    return property(refuse) if is_property else refuse


def _guard() -> None:
    for name, attr in list(vars(Tensor).items()):
        if name in _KEEP or name in vars(SparseTensor):
            continue
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(attr, property) or callable(attr):
            setattr(SparseTensor, name, _refusal(name, isinstance(attr, property)))


_guard()
