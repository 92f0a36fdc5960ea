"""Matrix-structure functions (``torch.diag``, ``diagonal``, ``diag_embed``, ``diagflat``,
``tril``/``triu`` and their indices, ``trace``, ``kron``, ``block_diag``, ``cdist``,
``cartesian_prod``, ``combinations``, ``vander``, ``cross``), composed from primitives
(``Getitem``/``IndexAdd`` for diagonals, ``Where`` for triangles, products and sums), so
they have reverse and forward derivatives, batch under vmap, and need no new math.
Their Tensor methods are bound at the end of this file.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import ops as P
from .functions.shape import cat, movedim, reshape, stack
from .tensor import Tensor, _norm_dim


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _diag_index(n1, n2, offset):
    """Row and column indices of the ``offset`` diagonal of an (n1, n2) matrix."""
    if offset >= 0:
        k = max(min(n1, n2 - offset), 0)
        i = np.arange(k)
        return i, i + offset
    k = max(min(n1 + offset, n2), 0)
    i = np.arange(k)
    return i - offset, i


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The ``offset`` diagonal of ``input`` over dims (dim1, dim2), appended as the last dim
    (``torch.diagonal``; a copy here, not a view)."""
    _check(input, "diagonal")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dims, got {nd}")
    d1, d2 = _norm_dim(dim1, nd, "diagonal"), _norm_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be identical, got {dim1} and {dim2}")
    x = movedim(input, (d1, d2), (-2, -1))
    rows, cols = _diag_index(x._data.shape[-2], x._data.shape[-1], offset)
    return P.Getitem.apply(x, (Ellipsis, rows, cols))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """Matrices (over dims dim1, dim2 of the result) with the last dim of ``input`` on their
    ``offset`` diagonal, zeros elsewhere (``torch.diag_embed``)."""
    _check(input, "diag_embed")
    n = input._data.shape[-1]
    m = n + abs(offset)
    nd = input._data.ndim + 1
    d1, d2 = _norm_dim(dim1, nd, "diag_embed"), _norm_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be identical, got {dim1} and "
                           f"{dim2}")
    rows, cols = _diag_index(m, m, offset)
    out = P.IndexAdd.apply(input, tuple(input._data.shape[:-1]) + (m, m),
                           (Ellipsis, rows, cols))
    if (d1, d2) == (nd - 2, nd - 1):
        return out
    return movedim(out, (-2, -1), (d1, d2))


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D input: the square matrix with it on the ``diagonal``; a 2-D input: that
    diagonal as a vector (``torch.diag``)."""
    _check(input, "diag")
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal)
    if nd == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def diagflat(input, offset=0):  # noqa: A002
    """``diag`` of the flattened input (``torch.diagflat``)."""
    return diag_embed(reshape(input, (-1,)), offset)


def _tri_mask(x, diagonal, lower):
    n, m = x._data.shape[-2:]
    mask = np.tri(n, m, diagonal, dtype=bool) if lower else ~np.tri(n, m, diagonal - 1,
                                                                     dtype=bool)
    return mask


def tril(input, diagonal=0):  # noqa: A002
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
    _check(input, "tril")
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    zero = np.zeros((), input._data.dtype)
    return P.Where.apply(Tensor._make(_tri_mask(input, diagonal, True), False, None, 0),
                         input, zero)


def triu(input, diagonal=0):  # noqa: A002
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
    _check(input, "triu")
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    zero = np.zeros((), input._data.dtype)
    return P.Where.apply(Tensor._make(_tri_mask(input, diagonal, False), False, None, 0),
                         input, zero)


def _indices(rows, cols, offset, lower, dtype):
    from ._dtype import to_dtype

    dt = np.int64 if dtype is None else to_dtype(dtype).np
    r, c = (np.tril_indices if lower else np.triu_indices)(rows, offset, cols)
    return Tensor._make(np.stack([r, c]).astype(dt), False, None, 0)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a (row, col) matrix, row by row."""
    return _indices(row, col, offset, True, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle of a (row, col) matrix, row by row."""
    return _indices(row, col, offset, False, dtype)


def trace(input):  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor."""
    _check(input, "trace")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim}")
    return diagonal(input).sum()


def kron(input, other):  # noqa: A002
    """The Kronecker product: blocks ``input[i, j] * other`` (any number of dims)."""
    nd = max(input._data.ndim, other._data.ndim)
    a = reshape(input, (1,) * (nd - input._data.ndim) + tuple(input._data.shape))
    b = reshape(other, (1,) * (nd - other._data.ndim) + tuple(other._data.shape))
    sa, sb = a._data.shape, b._data.shape
    a = reshape(a, tuple(x for s in sa for x in (s, 1)))
    b = reshape(b, tuple(x for s in sb for x in (1, s)))
    return reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors (1-D ones are rows)."""
    mats = []
    for t in tensors:
        _check(t, "block_diag")
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {len(mats)} has {t._data.ndim} dimensions")
        mats.append(reshape(t, (1, -1) if t._data.ndim < 2 else tuple(t._data.shape)))
    if not mats:
        return Tensor._make(np.zeros((0, 0), np.float32), False, None, 0)
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        w = m._data.shape[1]
        rows.append(P.Pad.apply(m, ((0, 0), (left, width - left - w)), 0))
        left += w
    return cat(rows, 0)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M):
    out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p. ``compute_mode`` is accepted;
    distances are always computed from the differences (exact, zero gradient at 0)."""
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist: {compute_mode} is not a valid value for compute_mode")
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError("cdist only supports at least 2D tensors, X1 got: "
                           f"{x1._data.ndim}D, X2 got: {x2._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError("cdist: X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    from .functions.reduction import norm

    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return norm(diff, float(p), -1)


def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors, one per row (``itertools.product``
    order); one tensor gives itself."""
    if len(tensors) == 1:
        return tensors[0]
    sizes = [t._data.shape[0] for t in tensors]
    cols = []
    for k, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[k] = sizes[k]
        cols.append(reshape(reshape(t, tuple(shape)).expand(*sizes), (-1,)))
    return stack(cols, 1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """All length-``r`` combinations of a 1-D tensor's elements (``itertools`` order)."""
    n = input._data.shape[0]
    make = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(make(range(n), r)), dtype=np.int64).reshape(-1, r)
    if idx.size == 0:
        return P.Getitem.apply(input, (np.zeros(0, np.int64),))
    return P.Getitem.apply(input, (idx,))


def vander(x, N=None, increasing=False):  # noqa: N803
    """The Vandermonde matrix: columns x^(N-1), ..., x, 1 (reversed when ``increasing``)."""
    n = x._data.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n)[::-1].copy()
    xf = x if x._data.dtype.kind == "f" else x.to(_float_of(x))
    cols = [xf ** int(k) if k else xf * 0 + 1 for k in powers]
    out = stack(cols, 1) if cols else reshape(xf, (-1, 1))[:, :0]
    return out if x._data.dtype.kind == "f" else out.to(x.dtype)


def _float_of(x):
    from ._dtype import get_default_dtype

    return get_default_dtype()


def cross(input, other, dim=None):  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (default: the first dim of size 3, as
    ``torch.cross``; ``linalg.cross`` defaults to -1)."""
    a, b = input, other
    if a._data.shape != b._data.shape:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
        a, b = a.expand(*shape), b.expand(*shape)
    if dim is None:
        sizes = [i for i, s in enumerate(a._data.shape) if s == 3]
        if not sizes:
            raise RuntimeError("cross: no dimension of size 3 in input")
        dim = sizes[0]
    d = _norm_dim(dim, a._data.ndim, "cross")
    if a._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a._data.shape[d]} and {b._data.shape[d]}")
    a0, a1, a2 = a.unbind(d)
    b0, b1, b2 = b.unbind(d)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def _bind():
    def method(fn):
        return lambda self, *a, **k: fn(self, *a, **k)

    for name in ("diagonal", "diag_embed", "diag", "diagflat", "tril", "triu", "trace",
                 "kron", "cross"):
        setattr(Tensor, name, method(globals()[name]))


_bind()

__all__ = [
    "block_diag", "cartesian_prod", "cdist", "combinations", "cross", "diag", "diag_embed",
    "diagflat", "diagonal", "kron", "trace", "tril", "tril_indices", "triu", "triu_indices",
    "vander",
]
