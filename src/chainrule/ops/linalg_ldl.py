"""The LDL^T factorization of symmetric indefinite matrices with Bunch-Kaufman pivoting
(LAPACK's sytrf, lower triangle), and the solve with it. PyTorch has no derivative for
either: their backward rules raise its error (the outputs of a call on tensors that
require grad are in the graph, as PyTorch's are).

Compact form (LAPACK's): A = M D M^T with M = P_1 L_1 P_2 L_2 ..., one step per 1x1 or
2x2 pivot block k; D (blocks on the diagonal and, for 2x2, the subdiagonal of LD), the
multipliers of L_k below the block in LD's columns; pivots (1-based) p_k > 0 for a 1x1
block after swapping rows/columns k and p_k, p_k = p_{k+1} = -r < 0 for a 2x2 block after
swapping k + 1 and r. Pivot choice at column k (colmax: the largest |entry| below the
diagonal, in row r; rowmax: the largest off-diagonal |entry| of row/column r): a 1x1 block
at k if |a_kk| >= alpha colmax or |a_kk| rowmax >= alpha colmax^2; else a 1x1 block at r
if |a_rr| >= alpha rowmax; else a 2x2 block (k, r); alpha = (1 + sqrt(17)) / 8.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function

_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _swap(a, i, j, k):
    """Symmetric interchange of rows/columns i < j in the trailing lower triangle a[k:, k:]."""
    n = a.shape[0]
    a[j + 1:n, i], a[j + 1:n, j] = a[j + 1:n, j].copy(), a[j + 1:n, i].copy()
    a[i + 1:j, i], a[j, i + 1:j] = a[j, i + 1:j].copy(), a[i + 1:j, i].copy()
    a[i, i], a[j, j] = a[j, j], a[i, i]


def _ldl_one(a):
    """(LD, pivots, info) of one matrix (lower triangle read), in place on a copy."""
    a = np.tril(a).astype(a.dtype, copy=True)
    n = a.shape[0]
    piv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        step = 1
        akk = abs(a[k, k])
        r = k + 1 + int(np.argmax(np.abs(a[k + 1:, k]))) if k < n - 1 else k
        colmax = abs(a[r, k]) if k < n - 1 else 0.0
        if not max(akk, colmax) > 0:  # a zero column (or NaN): record and move on
            info = info or k + 1
            piv[k] = k + 1
            k += 1
            continue
        if akk >= _ALPHA * colmax:
            p = k
        else:
            rowmax = np.abs(a[r, k:r]).max()
            if r < n - 1:
                rowmax = max(rowmax, np.abs(a[r + 1:, r]).max())
            if akk >= _ALPHA * colmax * (colmax / rowmax):
                p = k
            elif abs(a[r, r]) >= _ALPHA * rowmax:
                p = r
            else:
                p, step = r, 2
        kk = k + step - 1
        if p != kk:
            _swap(a, kk, p, k)
            if step == 2:
                a[k + 1, k], a[p, k] = a[p, k], a[k + 1, k]
        if step == 1:
            if k < n - 1:
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= np.tril(np.outer(x, x) / a[k, k])
                a[k + 1:, k] = x / a[k, k]
            piv[k] = p + 1
        else:
            if k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                c0, c1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk = d21 * (d11 * c0 - c1)
                wk1 = d21 * (d22 * c1 - c0)
                a[k + 2:, k + 2:] -= np.tril(np.outer(c0, wk) + np.outer(c1, wk1))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wk1
            piv[k] = piv[k + 1] = -(p + 1)
        k += step
    return a, piv, info


def ldl_array(a):
    flat = a.reshape((int(np.prod(a.shape[:-2])),) + a.shape[-2:])
    parts = [_ldl_one(m) for m in flat]
    ld = np.stack([p[0] for p in parts]).reshape(a.shape) if parts else a.copy()
    piv = np.stack([p[1] for p in parts]).reshape(a.shape[:-1]) if parts else \
        np.zeros(a.shape[:-1], np.int32)
    info = np.array([p[2] for p in parts], np.int32).reshape(a.shape[:-2])
    return ld, piv, info


def ldl_matrix(ld, piv):
    """The symmetric matrix M D M^T that (LD, pivots) factor (one matrix)."""
    n = ld.shape[0]
    M = np.eye(n, dtype=ld.dtype)
    D = np.zeros((n, n), ld.dtype)
    k = 0
    while k < n:
        step = 1 if piv[k] > 0 else 2
        swap_row = (piv[k] if step == 1 else -piv[k + 1]) - 1
        P = np.eye(n, dtype=ld.dtype)
        kk = k + step - 1
        P[[kk, swap_row]] = P[[swap_row, kk]]
        Lk = np.eye(n, dtype=ld.dtype)
        Lk[k + step:, k:k + step] = ld[k + step:, k:k + step]
        M = M @ P @ Lk
        D[k, k] = ld[k, k]
        if step == 2:
            D[k + 1, k] = D[k, k + 1] = ld[k + 1, k]
            D[k + 1, k + 1] = ld[k + 1, k + 1]
        k += step
    return M @ D @ M.T


def ldl_solve_array(ld, piv, b):
    shape = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
    count = int(np.prod(shape))
    ld = np.broadcast_to(ld, shape + ld.shape[-2:]).reshape((count,) + ld.shape[-2:])
    piv = np.broadcast_to(piv, shape + piv.shape[-1:]).reshape((count, piv.shape[-1]))
    bb = np.broadcast_to(b, shape + b.shape[-2:]).reshape((count,) + b.shape[-2:])
    out = [np.linalg.solve(ldl_matrix(m, p), x) for m, p, x in zip(ld, piv, bb)]
    return np.stack(out).reshape(shape + b.shape[-2:]) if out else \
        np.zeros(shape + b.shape[-2:], b.dtype)


def _no_derivative(name):
    raise RuntimeError(f"derivative for aten::{name} is not implemented")


class LDLFactor(Function):
    """(LD, pivots, info) of a (..., n, n); see the module docstring. No derivative."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        ld, piv, info = ldl_array(a)
        ctx.mark_non_differentiable(piv, info)
        return ld, piv, info

    @staticmethod
    def backward(ctx, *grads):
        _no_derivative("linalg_ldl_factor_ex")

    @staticmethod
    def jvp(ctx, *tangents):
        _no_derivative("linalg_ldl_factor_ex")


class LDLSolve(Function):
    """X with A X = B for the A that (LD, pivots) factor; pivots come as (..., n, 1) so
    that every operand has the matrices' rank (vmap pads operands to a common rank). No
    derivative."""

    _arrays = True

    @staticmethod
    def forward(ctx, ld, piv, b):
        return ldl_solve_array(ld, piv[..., 0], b)

    @staticmethod
    def backward(ctx, grad):
        _no_derivative("linalg_ldl_solve")

    @staticmethod
    def jvp(ctx, *tangents):
        _no_derivative("linalg_ldl_solve")
