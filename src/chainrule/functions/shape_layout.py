"""Layout helpers: ravel, atleast_1d/2d/3d, column_stack, dstack, row_stack, hsplit/vsplit/
dsplit, rot90, meshgrid, diff, as_strided, Tensor.unfold, sum_to_size, moveaxis, and the
``*_copy`` / ``unsafe_*`` aliases of view functions, composed from existing functions and
primitives (so they are differentiable and batch under vmap).

``as_strided`` and ``unfold`` read the tensor as its logical row-major elements (chainrule
does not expose storage): they gather with an index array built from sizes and strides,
which equals PyTorch's result for contiguous tensors.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..ops import shape as P
from . import shape as FS
from . import shape_index as FI
from ..linalg_ops import diagonal
from ..tensor import Tensor, _norm_dim


def _seq(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0]), True
    return list(tensors), len(tensors) != 1


def ravel(input):  # noqa: A002
    """The elements as a 1-D tensor (``reshape(-1)``)."""
    return FS.reshape(input, (-1,))


def _atleast(nd, tensors, name):
    ts, many = _seq(tensors)

    def one(t):
        s = t._data.shape
        if len(s) >= nd:
            return t
        if nd == 1:
            return FS.reshape(t, (1,))
        if nd == 2:
            return FS.reshape(t, (1,) * (2 - len(s)) + s)
        new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]
        return FS.reshape(t, new)

    out = tuple(one(t) for t in ts)
    return out if many else out[0]


def atleast_1d(*tensors):
    """Each tensor with at least one dim (0-d becomes (1,)); several in, a tuple out."""
    return _atleast(1, tensors, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dims ((n,) becomes (1, n))."""
    return _atleast(2, tensors, "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least three dims ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(3, tensors, "atleast_3d")


def column_stack(tensors):
    """Stack as columns: 0-d and 1-D tensors become (n, 1) columns, then ``hstack``."""
    ts = [FS.reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return FS.cat(ts, 1)


def dstack(tensors):
    """Concatenate along the third dim after ``atleast_3d``."""
    return FS.cat([atleast_3d(t) for t in tensors], 2)


def row_stack(tensors):
    return FS.vstack(tensors)


def _split_dir(input, sections, dim, name):  # noqa: A002
    if isinstance(sections, int):
        n = input._data.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but "
                               f"the size of the dimension {n} is not divisible by the "
                               f"split_size {sections}!")
    return FS.tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 1 (dim 0 for 1-D tensors)."""
    if input._data.ndim < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got "
                           "a tensor with 0 dimensions!")
    return _split_dir(input, indices_or_sections, 0 if input._data.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 0 (needs at least 2 dims)."""
    if input._data.ndim < 2:
        raise RuntimeError("torch.vsplit requires a tensor with at least 2 dimension, but got "
                           f"a tensor with {input._data.ndim} dimensions!")
    return _split_dir(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):  # noqa: A002
    """Split along dim 2 (needs at least 3 dims)."""
    if input._data.ndim < 3:
        raise RuntimeError("torch.dsplit requires a tensor with at least 3 dimension, but got "
                           f"a tensor with {input._data.ndim} dimensions!")
    return _split_dir(input, indices_or_sections, 2, "dsplit")


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees k times in the plane of ``dims`` (from the first towards the
    second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = (_norm_dim(d, nd, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return FS.transpose(FS.flip(input, d1), d0, d1)
    if k == 2:
        return FS.flip(input, (d0, d1))
    if k == 3:
        return FS.transpose(FS.flip(input, d0), d0, d1)
    return input.clone()


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: ``indexing="ij"`` (matrix; the default, with
    PyTorch's warning when not given) or ``"xy"`` (Cartesian: the first two dims swapped)."""
    ts, _ = _seq(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t._data.ndim}-D")
    ts = [FS.reshape(t, (-1,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    n = len(ts)
    grids = [FS.expand(FS.reshape(t, (1,) * i + (-1,) + (1,) * (n - i - 1)), shape)
             for i, t in enumerate(ts)]
    if swap:  # xy: the ij grids of (y, x, ...), the first two outputs swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The n-th forward difference along ``dim`` (after concatenating ``prepend`` and
    ``append``); for bool tensors, logical xor."""
    d = _norm_dim(dim, input._data.ndim, "diff")
    x = input
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        parts = [p if p._data.ndim else FS.expand(FS.reshape(p, (1,) * x._data.ndim),
                                                   tuple(1 if i == d else s for i, s in
                                                         enumerate(x._data.shape)))
                 for p in parts]
        x = FS.cat(parts, d)
    for _ in range(n):
        m = x._data.shape[d]
        if m == 0:
            break
        hi, lo = FS.narrow(x, d, 1, m - 1), FS.narrow(x, d, 0, m - 1)
        x = hi != lo if x._data.dtype == np.bool_ else hi - lo
    return x


def _strided_index(size, stride, offset):
    idx = np.full(tuple(size), int(offset), np.int64)
    for k, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = n
        idx = idx + np.arange(n, dtype=np.int64).reshape(shape) * st
    return idx


def as_strided(input, size, stride, storage_offset=0):  # noqa: A002
    """The tensor of ``size`` whose element (i_0, i_1, ...) is element
    storage_offset + sum_k i_k stride_k of the input read row-major (differentiable)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} sizes, "
                           f"{len(stride)} strides)")
    idx = _strided_index(size, stride, storage_offset)
    n = input._data.size
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {storage_offset} require more than the {n} elements of "
                           "the input")
    return P.Getitem.apply(FS.reshape(input, (-1,)), idx)


def as_strided_scatter(input, src, size, stride, storage_offset=0):  # noqa: A002
    """input with the elements that ``as_strided(size, stride, storage_offset)`` selects
    replaced by src."""
    idx = _strided_index(tuple(size), tuple(stride), storage_offset)
    flat = P.IndexPut.apply(FS.reshape(input, (-1,)), src.to(input.dtype), (idx,))
    return FS.reshape(flat, input._data.shape)


def unfold(input, dimension, size, step):  # noqa: A002
    """Tensor.unfold: all windows of ``size`` elements along ``dimension`` taken every
    ``step``; the windows' dim replaces ``dimension`` and the window's elements form a new
    last dim."""
    nd = input._data.ndim
    d = _norm_dim(dimension, nd, "unfold")
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    x = input if nd else FS.reshape(input, (1,))
    starts = np.arange(0, n - size + 1, step)
    idx = starts[:, None] + np.arange(size)[None, :]
    out = P.Getitem.apply(x, (slice(None),) * d + (idx,))  # (..., windows, size, ...)
    return FS.movedim(out, d + 1, -1)


def sum_to_size(input, *size):  # noqa: A002
    """Sum the input down to ``size`` (which it must broadcast from)."""
    size = FS._size_arg(size)
    shape = input._data.shape
    if tuple(np.broadcast_shapes(tuple(size), shape)) != shape:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    lead = len(shape) - len(size)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    out = input.sum(axes, keepdim=True) if axes else input
    return FS.reshape(out, tuple(size))


def _copy_of(fn, name):
    def f(*args, **kwargs):
        r = fn(*args, **kwargs)
        if isinstance(r, (tuple, list)):
            return type(r)(t.clone() for t in r)
        return r.clone()

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{fn.__name__}`` returning new memory (PyTorch's ``{name}``)."
    return f


moveaxis = FS.movedim
split_with_sizes = unsafe_split = unsafe_split_with_sizes = FS.split
unsafe_chunk = FS.chunk
_COPIES = {
    "alias_copy": lambda t: t, "as_strided_copy": as_strided, "detach_copy": lambda t: t.detach(),
    "diagonal_copy": diagonal, "expand_copy": lambda t, size, **k: FS.expand(t, tuple(size)),
    "narrow_copy": FS.narrow, "permute_copy": FS.permute, "select_copy": FS.select,
    "slice_copy": lambda t, dim=0, start=None, end=None, step=1: FI.getitem(
        t, (slice(None),) * _norm_dim(dim, t._data.ndim, "slice_copy") + (slice(start, end, step),)),
    "split_copy": FS.split, "split_with_sizes_copy": FS.split, "squeeze_copy": FS.squeeze,
    "t_copy": FS.t, "transpose_copy": FS.transpose, "unbind_copy": FS.unbind,
    "unfold_copy": unfold, "unsqueeze_copy": FS.unsqueeze, "view_copy": FS.view,
}
for _n, _f in _COPIES.items():
    globals()[_n] = _copy_of(_f, _n)

__all__ = [
    "as_strided", "as_strided_scatter", "atleast_1d", "atleast_2d", "atleast_3d",
    "column_stack", "diff", "dsplit", "dstack", "hsplit", "meshgrid", "moveaxis", "ravel",
    "rot90", "row_stack", "split_with_sizes", "unsafe_chunk", "unsafe_split",
    "unsafe_split_with_sizes", "vsplit", *sorted(_COPIES),
]

_ = Tensor
