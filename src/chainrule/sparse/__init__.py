"""``chainrule.sparse``: sparse COO tensors, the basics graph networks use (``torch.sparse``).

A sparse COO tensor of ``size`` (*sparse dims, *dense dims) stores ``nnz`` entries:
``indices`` (sparse_dim, nnz) int64 and ``values`` (nnz, *dense dims); entries at the same
position add up (an uncoalesced tensor may have such duplicates; ``coalesce()`` sorts the
entries and sums them). The values are an ordinary tensor, so gradients reach them (and
whatever they were computed from); the indices are constants.

    A = cr.sparse_coo_tensor(edges, weights, (n, n))     # a graph's adjacency matrix
    H = cr.sparse.mm(A, X @ W)                           # a GCN layer's propagation
    H.sum().backward()                                   # gradients for X, W (and weights)

Supported: ``sparse_coo_tensor``, ``Tensor.to_sparse()``, and on sparse tensors
``to_dense``, ``coalesce``, ``is_coalesced``, ``indices``, ``values``, ``_nnz``,
``sparse_dim``, ``dense_dim``, ``t``/``transpose`` of sparse dims, ``sum``, ``+``/``-``
with a sparse (sparse result) or dense tensor (dense result), ``*`` and ``/`` by a scalar,
``*`` by a dense tensor of the same size, ``detach``, ``clone``, ``to(dtype)``, and the
product with a dense matrix: ``chainrule.sparse.mm``, ``chainrule.spmm``, ``chainrule.mm``,
``chainrule.matmul``, ``A @ D``, ``A.mm(D)``. Everything else on a sparse tensor raises
NotImplementedError naming the operation (convert with ``to_dense()``); so does CSR/CSC/BSR.

Differences from torch: a sparse tensor's type is ``chainrule.sparse.SparseTensor`` (a
``Tensor`` subclass); the gradient of a sparse leaf is always the sparse one masked to its
pattern (torch's ``torch.mm`` gives a dense one); sparse tensors cannot be parameters of an
optimizer (make the values the ``nn.Parameter`` and build the sparse tensor in ``forward``)
or saved with ``chainrule.save``. They do cross processes (DataLoader workers,
``chainrule.multiprocessing`` queues), as shared memory.
"""

from __future__ import annotations

from multiprocessing.reduction import ForkingPickler

import numpy as np

from .._device import check_cpu
from ..ops.sparse import SparseMM
from ._tensor import SparseTensor, layout, sparse_coo, strided
from ..tensor import Tensor

__all__ = ["SparseTensor", "addmm", "layout", "mm", "sparse_coo", "sparse_coo_tensor", "spmm",
           "strided", "sum"]

_REFUSED = {
    "softmax": "sparse softmax", "log_softmax": "sparse log_softmax",
    "sampled_addmm": "sampled_addmm", "spsolve": "sparse solve", "spdiags": "spdiags",
    "as_sparse_gradcheck": "as_sparse_gradcheck", "check_sparse_tensor_invariants":
    "check_sparse_tensor_invariants (indices are always checked)", "to_sparse_semi_structured":
    "semi-structured sparsity", "SparseSemiStructuredTensor": "semi-structured sparsity",
}


def __getattr__(name):
    if name in _REFUSED:
        raise NotImplementedError(
            f"torch.sparse.{name}: {_REFUSED[name]} is not supported by chainrule.sparse, "
            "which covers COO tensors, their product with dense matrices and sums; "
            "use .to_dense() and the dense operation")
    raise AttributeError(f"module 'chainrule.sparse' has no attribute {name!r}")


def _as_index_array(indices) -> np.ndarray:
    arr = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"sparse_coo_tensor: indices must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.ndim != 2:
        raise ValueError(f"sparse_coo_tensor: indices must be 2-D (sparse_dim, nnz), got shape "
                         f"{tuple(arr.shape)}")
    return arr


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants=None, is_coalesced: bool | None = None) -> SparseTensor:
    """A sparse COO tensor with ``values`` at ``indices`` (``torch.sparse_coo_tensor``).

    Args:
        indices: (sparse_dim, nnz) integer indices, one column per entry.
        values: (nnz, *dense_dims) values (a tensor keeps its autograd history).
        size: the full size (inferred as ``max index + 1`` per sparse dim if None).
        dtype: the values' dtype (default: the values' own).
        requires_grad: make the tensor a leaf that requires grad (its ``.grad`` is sparse).
        is_coalesced: promise that the indices are sorted and unique.

    Shape: indices (S, nnz), values (nnz, *D) -> a tensor of ``size`` (*sparse, *D).

    Example::

        A = cr.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        A.to_dense()   # tensor([[0., 0., 3.], [4., 0., 5.]])
    """
    if device is not None:
        check_cpu(device, "sparse_coo_tensor")
    idx = _as_index_array(indices)
    if isinstance(values, Tensor):
        vals = values if dtype is None else values.to(dtype)
    else:
        from ..creation import tensor

        vals = tensor(values, dtype=dtype)
    if vals.ndim == 0:
        raise ValueError("sparse_coo_tensor: values must have a dimension of size nnz")
    if idx.shape[1] != vals.shape[0]:
        raise ValueError(f"sparse_coo_tensor: indices have {idx.shape[1]} entries (columns) but "
                         f"values have {vals.shape[0]} (first dimension); they must match")
    if size is None:
        sparse = [int(idx[d].max()) + 1 if idx.shape[1] else 0 for d in range(idx.shape[0])]
        size = tuple(sparse) + tuple(vals.shape[1:])
    size = tuple(int(s) for s in (size if not isinstance(size, int) else (size,)))
    sd = idx.shape[0]
    if len(size) != sd + vals.ndim - 1 or tuple(size[sd:]) != tuple(vals.shape[1:]):
        raise ValueError(f"sparse_coo_tensor: size {size} does not fit indices of "
                         f"{sd} sparse dims and values of shape {tuple(vals.shape)} (size must "
                         "be the sparse sizes followed by values.shape[1:])")
    if idx.size:
        lo, hi = idx.min(axis=1), idx.max(axis=1)
        for d in range(sd):
            if lo[d] < 0 or hi[d] >= size[d]:
                bad = lo[d] if lo[d] < 0 else hi[d]
                raise RuntimeError(f"sparse_coo_tensor: size is inconsistent with indices: for "
                                   f"dim {d}, size is {size[d]} but found index {bad}")
    if requires_grad:
        vals = vals.detach().requires_grad_(True)
    return SparseTensor._new(idx, vals, size, bool(is_coalesced), not vals.requires_grad or
                             requires_grad)


def _check_mm(a, b, op: str):
    if not isinstance(a, SparseTensor):
        raise TypeError(f"{op}: the first argument must be a sparse COO tensor, got "
                        f"{type(a).__name__} (use chainrule.mm for dense matrices)")
    if isinstance(b, SparseTensor):
        raise NotImplementedError(f"{op}: sparse @ sparse is not supported by chainrule.sparse; "
                                  "convert one operand with .to_dense()")
    if a.sparse_dim() != 2 or a.dense_dim() != 0:
        raise RuntimeError(f"{op}: the sparse matrix must be 2-D with no dense dimensions, got "
                           f"size {tuple(a.shape)} with sparse_dim={a.sparse_dim()}")
    if not isinstance(b, Tensor) or b.ndim not in (1, 2):
        shape = tuple(b.shape) if isinstance(b, Tensor) else type(b).__name__
        raise RuntimeError(f"{op}: the dense operand must be a 1-D or 2-D tensor, got {shape}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"{op}: sparse {tuple(a.shape)} @ dense {tuple(b.shape)}: inner "
                           f"dimensions {a.shape[1]} and {b.shape[0]} differ")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, got "
                           f"{a.dtype} (sparse) and {b.dtype} (dense); cast one with .to()")


def mm(mat1, mat2, reduce: str = "sum") -> Tensor:
    """``mat1 @ mat2`` for a sparse COO matrix ``mat1`` (n, m) and a dense ``mat2`` (m, p)
    (``torch.sparse.mm``), as one primitive: out[r] = sum_k values_k mat2[cols_k] over the
    entries of row r. Gradients reach ``mat2`` and ``mat1``'s values.

    Shape: (n, m) @ (m, p) -> (n, p); a 1-D ``mat2`` (m,) gives (n,).
    """
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} is not supported (only 'sum')")
    _check_mm(mat1, mat2, "sparse.mm")
    if mat2.ndim == 1:
        return SparseMM.apply(mat1._vals, mat2.reshape(-1, 1), mat1._pattern()).reshape(-1)
    return SparseMM.apply(mat1._vals, mat2, mat1._pattern())


def spmm(input, mat2) -> Tensor:  # noqa: A002
    """``torch.spmm``: the same as ``chainrule.sparse.mm``."""
    return mm(input, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with ``mat1`` sparse (``torch.sparse.addmm``)."""
    return beta * mat + alpha * mm(mat1, mat2)


def sum(input, dim=None, dtype=None):  # noqa: A001,A002
    """Sum of a sparse tensor (``torch.sparse.sum``): over everything (a dense 0-d tensor),
    or over ``dim`` (sparse when sparse dims remain, else dense)."""
    if not isinstance(input, SparseTensor):
        raise TypeError(f"sparse.sum: expected a sparse COO tensor, got {type(input).__name__}")
    return input.sum(dim, dtype=dtype)


def dense_mm_dispatch(dense_fn, name: str):
    """``chainrule.mm``/``matmul`` that also take a sparse left operand (as torch's do)."""

    def fn(input, other):  # noqa: A002
        if type(input) is SparseTensor:
            return mm(input, other)
        return dense_fn(input, other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = dense_fn.__doc__
    return fn


def dense_to_sparse(x: Tensor, sparse_dim=None) -> SparseTensor:
    """``x.to_sparse(sparse_dim)``: the non-zero entries (slices over the dense dims) of a
    dense tensor, coalesced; the values are gathered from ``x`` (differentiable)."""
    sd = x.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < sd <= x.ndim:
        raise ValueError(f"to_sparse: sparse_dim must be in 1..{x.ndim} for a {x.ndim}-D tensor, "
                         f"got {sparse_dim}")
    nz = x._data != 0
    if sd < x.ndim:
        nz = nz.any(axis=tuple(range(sd, x.ndim)))
    where = np.nonzero(nz)
    idx = np.stack(where).astype(np.int64) if where else np.zeros((0, 0), np.int64)
    return SparseTensor._new(idx, x[where], tuple(x.shape), True)


def _to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"to_sparse: layout={layout} is not supported (only "
                                  "sparse_coo)")
    if blocksize is not None or dense_dim is not None:
        raise NotImplementedError("to_sparse: blocksize and dense_dim are not supported")
    return dense_to_sparse(self, sparse_dim)


def _dense_refusal(name: str):
    def fn(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got Strided "
                           "(a dense tensor; make a sparse one with .to_sparse())")

    return fn


def _bind() -> None:
    """Sparse-related methods of dense tensors (``is_sparse``, ``layout``, ``to_sparse``...)."""
    defaults = {
        "is_sparse": property(lambda self: False, doc="False: a dense (strided) tensor."),
        "layout": property(lambda self: strided, doc="chainrule.strided for dense tensors."),
        "to_sparse": _to_sparse,
        "to_sparse_coo": lambda self: dense_to_sparse(self, None),
        "to_dense": lambda self, dtype=None, *, masked_grad=None: (
            self if dtype is None else self.to(dtype)),
        "sparse_dim": lambda self: 0,
        "dense_dim": lambda self: self.ndim,
        "is_coalesced": _dense_refusal("is_coalesced"), "coalesce": _dense_refusal("coalesce"),
        "indices": _dense_refusal("indices"), "values": _dense_refusal("values"),
        "_nnz": _dense_refusal("_nnz"),
    }
    for name, value in defaults.items():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, value)


def _reduce_sparse(t: SparseTensor):
    """Through ``chainrule.multiprocessing`` (queues, spawn): indices and values as shared
    tensors (see ``chainrule.multiprocessing.reductions``)."""
    return (_rebuild_sparse, (Tensor._make(t._idx, False, None, 0), t._vals, tuple(t.shape),
                              t._coalesced))


def _rebuild_sparse(idx: Tensor, vals: Tensor, size, coalesced: bool) -> SparseTensor:
    return SparseTensor._new(idx._data, vals, size, coalesced)


_bind()
ForkingPickler.register(SparseTensor, _reduce_sparse)
