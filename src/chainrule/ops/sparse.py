"""The sparse-times-dense product: the one primitive behind ``chainrule.sparse``.

A sparse COO matrix A (n x m) is its ``values`` (nnz,) at positions ``(rows_k, cols_k)``
(duplicates allowed: they add up). Its structure is a ``Pattern``, which caches the order
that groups the entries by row so that a product is a gather plus one segment sum
(``np.add.reduceat``), with no SciPy and no Python loop over rows.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

__all__ = ["Pattern", "SparseMM"]

_CHUNK = 1 << 22  # elements of the (nnz, p) temporary per column block (16 MB of float32)


class Pattern:
    """The index arrays of a 2-D sparse matrix of ``shape`` (n, m), plus (computed once,
    then cached) the permutation sorting its entries by row and the segment boundaries."""

    __slots__ = ("rows", "cols", "shape", "_by_row", "_t")

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
        self.rows, self.cols, self.shape = rows, cols, (int(shape[0]), int(shape[1]))
        self._by_row = None
        self._t = None

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

    @property
    def T(self) -> Pattern:
        """The pattern of the transposed matrix (m, n)."""
        if self._t is None:
            self._t = Pattern(self.cols, self.rows, (self.shape[1], self.shape[0]))
            self._t._t = self
        return self._t


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
        out = np.zeros((n, p), np.result_type(values.dtype, dense.dtype))
        if pattern.nnz == 0 or p == 0:
            return out
        order, starts, seg_rows = pattern.by_row()
        cols = pattern.cols if order is None else pattern.cols[order]
        vals = (values if order is None else values[order])[:, None]
        step = max(1, _CHUNK // pattern.nnz)
        for j in range(0, p, step):
            contrib = dense[cols, j:j + step] * vals
            out[seg_rows, j:j + step] = np.add.reduceat(contrib, starts, axis=0)
        return out

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
