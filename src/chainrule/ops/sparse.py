"""The sparse-times-dense product: the one primitive behind ``chainrule.sparse``.

A sparse COO matrix A (n x m) is its ``values`` (nnz,) at positions ``(rows_k, cols_k)``
(duplicates allowed: they add up). Its structure is a ``Pattern``, which caches what a
product needs, so a graph's adjacency pays for it once:

* with SciPy installed (optional, never required), the CSR row pointers: the product is
  SciPy's compiled CSR kernel, with this call's values;
* otherwise a sliced-ELL layout in NumPy: each row's entries are padded into slices of K
  (K ~ the mean row length, 4 to 16), so the product is one gather of D's rows, one multiply,
  a contiguous sum over each slice and a segment sum over the (few) slices of long rows.
  Measured here (20,000 x 20,000, 200,000 entries, D 20,000 x 64, float32, one thread): plain
  gather + ``np.add.reduceat`` over the entries 437 ms, sliced ELL 173-198 ms, SciPy 32 ms.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

__all__ = ["Pattern", "SparseMM"]

_CHUNK = 1 << 22  # elements of the (nnz, p) temporary per column block (16 MB of float32)


class Pattern:
    """The index arrays of a 2-D sparse matrix of ``shape`` (n, m), plus (computed once,
    then cached) the permutation sorting its entries by row and the segment boundaries."""

    __slots__ = ("rows", "cols", "shape", "_by_row", "_t", "_ell", "_csr")

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
        self.rows, self.cols, self.shape = rows, cols, (int(shape[0]), int(shape[1]))
        self._by_row = None
        self._t = None
        self._ell = None
        self._csr = None

    @property
    def nnz(self) -> int:
        return int(self.rows.size)

    def by_row(self):
        """(order or None, segment starts, the row of each segment): ``rows[order]`` is
        sorted and entries ``starts[j]:starts[j+1]`` of it all lie in row ``seg_rows[j]``."""
        if self._by_row is None:
            rows = self.rows
            order = None
            if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
                order = np.argsort(rows, kind="stable")
                rows = rows[order]
            if rows.size:
                starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
            else:
                starts = np.zeros(0, np.int64)
            self._by_row = (order, starts, rows[starts])
        return self._by_row

    def csr(self):
        """(permutation or None, column indices, row pointers) of the CSR form, for SciPy."""
        if self._csr is None:
            order, _, _ = self.by_row()
            cols = self.cols if order is None else self.cols[order]
            indptr = np.zeros(self.shape[0] + 1, np.int64)
            np.cumsum(np.bincount(self.rows, minlength=self.shape[0]), out=indptr[1:])
            itype = np.int32 if max(self.shape + (self.nnz,)) < 2**31 - 1 else np.int64
            self._csr = (order, cols.astype(itype), indptr.astype(itype))
        return self._csr

    def ell(self):
        """The sliced-ELL layout: (entry of each slot (V*K,), padding slots, V, K, first
        slice of each non-empty row, those rows, whether every row fits in one slice)."""
        if self._ell is None:
            order, starts, seg_rows = self.by_row()
            nnz = self.nnz
            counts = np.diff(np.append(starts, nnz))
            k = int(np.clip(2 ** np.ceil(np.log2(max(counts.mean(), 1.0))), 4, 16))
            nslices = (counts + k - 1) // k
            first = np.cumsum(nslices) - nslices
            v = int(nslices.sum())
            pos = np.arange(nnz) - np.repeat(starts, counts)
            slot = (np.repeat(first, counts) + pos // k) * k + pos % k
            entry = np.full(v * k, -1, np.int64)
            entry[slot] = np.arange(nnz) if order is None else order
            pad = np.flatnonzero(entry < 0)
            entry[pad] = 0
            self._ell = (entry, pad, v, k, first, seg_rows, bool(np.all(nslices == 1)))
        return self._ell

    @property
    def T(self) -> Pattern:
        """The pattern of the transposed matrix (m, n)."""
        if self._t is None:
            self._t = Pattern(self.cols, self.rows, (self.shape[1], self.shape[0]))
            self._t._t = self
        return self._t


_SCIPY = None


def _scipy_sparse():
    """``scipy.sparse`` if it is installed (an optional accelerator), else None."""
    global _SCIPY
    if _SCIPY is None:
        try:
            import scipy.sparse as sp
        except ImportError:
            sp = False
        _SCIPY = sp
    return _SCIPY or None


def _ell_product(values, dense, pattern, dtype):
    """A @ D in NumPy on the sliced-ELL layout, in blocks of slices bounding the temporary."""
    entry, pad, v, k, first, seg_rows, single = pattern.ell()
    n, p = pattern.shape[0], dense.shape[1]
    cols, vals = pattern.cols[entry], values[entry].astype(dtype, copy=False)
    sums = np.empty((v, p), dtype)
    step = max(1, _CHUNK // (k * max(p, 1)))
    for a in range(0, v, step):
        b = min(v, a + step)
        contrib = np.take(dense, cols[a * k:b * k], axis=0).astype(dtype, copy=False)
        contrib *= vals[a * k:b * k, None]
        lo, hi = np.searchsorted(pad, (a * k, b * k))
        contrib[pad[lo:hi] - a * k] = 0  # padding slots: exactly 0, even where D has inf
        sums[a:b] = np.einsum("vkp->vp", contrib.reshape(b - a, k, p))  # 4x .sum(1) here
    out = np.zeros((n, p), dtype)
    out[seg_rows] = sums if single else np.add.reduceat(sums, first, axis=0)
    return out


class SparseMM(Function):
    """out = A @ D: A sparse (n, m) given as ``values`` (nnz,) on ``pattern``, D dense (m, p).

    out[r] = sum over entries k with rows_k = r of values_k * D[cols_k]   (rows without
    entries are 0; duplicate positions add).

    VJP: values_bar_k = <grad[rows_k], D[cols_k]> (the gradient of the stored values, i.e.
    grad @ D^T masked to A's pattern); D_bar = A^T @ grad (the same primitive on the
    transposed pattern).   JVP: SparseMM(values_dot, D) + SparseMM(values, D_dot).

    Shape: values (nnz,), D (m, p) -> out (n, p).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, values, dense, pattern):
        ctx.save_for_backward(values, dense)
        ctx.pattern = pattern
        n, p = pattern.shape[0], dense.shape[1]
        dtype = np.result_type(values.dtype, dense.dtype)
        if pattern.nnz == 0 or p == 0:
            return np.zeros((n, p), dtype)
        sp = _scipy_sparse()
        if sp is not None:
            order, cols, indptr = pattern.csr()
            data = (values if order is None else values[order]).astype(dtype, copy=False)
            m = sp.csr_matrix((data, cols, indptr), shape=pattern.shape, copy=False)
            return np.asarray(m @ dense.astype(dtype, copy=False))
        return _ell_product(values, dense, pattern, dtype)

    @staticmethod
    def backward(ctx, grad):
        values, dense = ctx.saved_tensors
        pat = ctx.pattern
        need = ctx.needs_input_grad
        g_values = g_dense = None
        if need[0]:
            g_values = (grad[pat.rows] * dense[pat.cols]).sum(-1)
        if need[1]:
            g_dense = SparseMM.apply(values, grad, pat.T)
        return g_values, g_dense, None

    @staticmethod
    def jvp(ctx, values_dot, dense_dot, _):
        values, dense = ctx.saved_tensors
        return (SparseMM.apply(values_dot, dense, ctx.pattern)
                + SparseMM.apply(values, dense_dot, ctx.pattern))
