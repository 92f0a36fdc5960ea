"""Triangular solves and the LU factorization (NumPy has neither as a LAPACK call, so both
are written here with whole-batch NumPy steps, one Python iteration per row/column).
Vocabulary as in ``chainrule.ops``; ``A^T`` is the transpose of the last two dims, and
every operand broadcasts over leading (batch) dims.

* ``SolveTriangular(a, b, upper, left, unitriangular)``  out = a^-1 b (``left``) or
  b a^-1, reading only the ``upper``/lower triangle of a (its diagonal taken as ones when
  ``unitriangular``).  VJP (left): g_b = a^-T grad, g_a = -tri(g_b out^T); (right):
  g_b = grad a^-T, g_a = -tri(out^T g_b), where tri keeps the triangle that was read.
  JVP: a^-1 (b_dot - tri(a_dot) out), or (b_dot - out tri(a_dot)) a^-1.
* ``LUFactor(a, pivot)``  (LU, pivots, info): a = P L U with partial pivoting (LAPACK's
  getrf: at step k the row with the largest |entry| in column k comes up; pivots are
  1-based row swaps; info is k + 1 for the first exactly-zero pivot, else 0). L (m x k,
  unit lower) and U (k x n, upper), k = min(m, n), are packed in LU.
  JVP (square): X = L^-1 P^T a_dot U^-1, L_dot = L tril(X, -1), U_dot = triu(X) U.
  VJP (square): g_a = P L^-T (tril(L^T g_L, -1) + triu(g_U U^T)) U^-T. Wide (m < n,
  U = [U1 | U2]): U2 = L^-1 P^T a2 adds g_a2 = P L^-T g_U2 and -L^-T g_U2 U2^T to g_L.
  Tall (m > n, L = [L1; L2]): L2 = (P^T a)_2 U^-1 adds g_a2 = g_L2 U^-T and
  -L2^T g_L2 U^-T to g_U.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _mT(t):  # noqa: N802
    return t.transpose(-2, -1)


# -- NumPy kernels ----------------------------------------------------------------------
def _substitute(a, b, upper, unit):
    """Solve a x = b for triangular a (..., n, n), b (..., n, k), batch dims broadcast;
    a zero on the diagonal gives inf/nan as LAPACK's trsm does (no error)."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, shape + a.shape[-2:])
    x = np.array(np.broadcast_to(b, shape + b.shape[-2:]), dtype=np.result_type(a, b))
    n = a.shape[-1]
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            done = slice(i + 1, n) if upper else slice(0, i)
            if (upper and i < n - 1) or (not upper and i > 0):
                x[..., i, :] -= np.einsum("...j,...jk->...k", a[..., i, done], x[..., done, :])
            if not unit:
                x[..., i, :] /= a[..., i, i][..., None]
    return x


def triangular_solve_array(a, b, upper, left=True, unit=False):
    """a^-1 b (``left``) or b a^-1 for a triangular a (NumPy arrays)."""
    if left:
        return _substitute(a, b, upper, unit)
    return np.swapaxes(_substitute(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2), not upper,
                                   unit), -1, -2)


def lu_array(a, pivot=True):
    """(LU, pivots int32 1-based, info int32) of (..., m, n) by Gaussian elimination."""
    lu = np.array(a, dtype=a.dtype, copy=True)
    m, n = lu.shape[-2:]
    k = min(m, n)
    batch = lu.shape[:-2]
    piv = np.empty(batch + (k,), np.int32)
    info = np.zeros(batch, np.int32)
    count = int(np.prod(batch))
    flat = lu.reshape((count, m, n))
    fpiv, finfo = piv.reshape(count, k), info.reshape(count)
    rows = np.arange(flat.shape[0])
    for j in range(k):
        p = np.argmax(np.abs(flat[:, j:, j]), axis=1) + j if pivot else \
            np.full(flat.shape[0], j)
        fpiv[:, j] = p + 1
        top = flat[rows, j].copy()
        flat[rows, j] = flat[rows, p]
        flat[rows, p] = top
        d = flat[:, j, j]
        zero = d == 0
        finfo[(finfo == 0) & zero] = j + 1
        safe = np.where(zero, 1.0, d).astype(lu.dtype)
        flat[:, j + 1:, j] /= safe[:, None]
        flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j, None] * flat[:, j, None, j + 1:]
    return lu, piv, info


def permutation_array(piv, m, dtype):
    """P (..., m, m) with A = P L U from 1-based sequential row swaps ``piv``."""
    batch = piv.shape[:-1]
    count = int(np.prod(batch))
    perm = np.broadcast_to(np.arange(m), batch + (m,)).copy().reshape(count, m)
    fp = piv.reshape(count, piv.shape[-1]).astype(np.int64) - 1
    rows = np.arange(perm.shape[0])
    for j in range(fp.shape[1]):
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, fp[:, j]]
        perm[rows, fp[:, j]] = top
    P = np.zeros((perm.shape[0], m, m), dtype)
    P[rows[:, None], perm, np.arange(m)] = 1
    return P.reshape(batch + (m, m))


# -- primitives --------------------------------------------------------------------------
def _const(arr):
    from ..tensor import Tensor

    return Tensor._make(arr, False, None, 0)


def _tri_mask(t, upper, unit):
    """The part of t (..., n, n) that a triangular solve reads (see the module docstring)."""
    from .elementwise import Where

    n = t.shape[-1]
    keep = np.triu(np.ones((n, n), bool), 1 if unit else 0) if upper else \
        np.tril(np.ones((n, n), bool), -1 if unit else 0)
    return Where.apply(_const(keep), t, np.zeros((), t._data.dtype))


class SolveTriangular(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        out = triangular_solve_array(a, b, upper, left, unitriangular)
        ctx.save_for_backward(a, out)
        ctx.flags = (upper, left, unitriangular)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        upper, left, unit = ctx.flags
        g_b = SolveTriangular.apply(_mT(a), grad, not upper, left, unit)
        need = ctx.needs_input_grad
        g_a = None
        if need[0]:
            g_a = -_tri_mask(g_b @ _mT(out) if left else _mT(out) @ g_b, upper, unit)
        return g_a, (g_b if need[1] else None), None, None, None

    @staticmethod
    def jvp(ctx, a_dot, b_dot, *_):
        a, out = ctx.saved_tensors
        upper, left, unit = ctx.flags
        da = _tri_mask(a_dot, upper, unit)
        rhs = b_dot - (da @ out if left else out @ da)
        return SolveTriangular.apply(a, rhs, upper, left, unit)


def _unpack(lu, k):
    """(L (..., m, k) unit lower, U (..., k, n) upper) from a packed LU tensor."""
    from .elementwise import Where

    m, n = lu.shape[-2:]
    L = lu[..., :, :k]
    U = lu[..., :k, :]
    low = np.tril(np.ones((m, k), bool), -1)
    up = np.triu(np.ones((k, n), bool))
    zero = np.zeros((), lu._data.dtype)
    L = Where.apply(_const(low), L, zero) + lu.new_tensor(np.eye(m, k))
    return L, Where.apply(_const(up), U, zero)


def _pack(dL, dU):
    """A packed LU tangent from dL (..., m, k) (zero diagonal) and dU (..., k, n)."""
    from .conv import Pad

    m, k = dL.shape[-2:]
    n = dU.shape[-1]
    nd = len(dL.shape)
    pad_l = ((0, 0),) * (nd - 1) + ((0, n - k),)
    pad_u = ((0, 0),) * (nd - 2) + ((0, m - k), (0, 0))
    return Pad.apply(dL, pad_l, 0) + Pad.apply(dU, pad_u, 0)


class PivotsToPermutation(Function):
    """P (..., m, m) (``dtype``) with A = P L U from LAPACK pivots; no derivative."""

    _arrays = True

    @staticmethod
    def forward(ctx, piv, m, dtype):
        return permutation_array(piv, m, dtype)

    @staticmethod
    def backward(ctx, grad):
        return None, None, None

    @staticmethod
    def jvp(ctx, *_):
        return None


class LUFactor(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, pivot):
        lu, piv, info = lu_array(a, pivot)
        ctx.save_for_backward(lu, piv)
        ctx.mark_non_differentiable(piv, info)
        ctx.set_materialize_grads(False)
        return lu, piv, info

    @staticmethod
    def _factors(ctx):
        lu, piv = ctx.saved_tensors
        m, n = lu.shape[-2:]
        k = min(m, n)
        L, U = _unpack(lu, k)
        P = lu.new_tensor(permutation_array(piv._data, m, lu._data.dtype))
        return L, U, P, m, n, k

    @staticmethod
    def backward(ctx, grad, *_):
        L, U, P, m, n, k = LUFactor._factors(ctx)
        g_L = _unpack(grad, k)[0] - grad.new_tensor(np.eye(m, k))
        g_U = _unpack(grad, k)[1]
        L1, U1 = L[..., :k, :], U[..., :, :k]
        g_L1, g_U1 = g_L[..., :k, :], g_U[..., :, :k]
        tail = None
        if n > k:  # wide: U = [U1 | U2]
            g_U2 = g_U[..., :, k:]
            g_a2 = SolveTriangular.apply(_mT(L1), g_U2, True, True, True)
            g_L1 = g_L1 - g_a2 @ _mT(U[..., :, k:])
            tail = g_a2
        if m > k:  # tall: L = [L1; L2]
            g_L2 = g_L[..., k:, :]
            g_a2 = SolveTriangular.apply(_mT(U1), g_L2, False, False, False)  # g_L2 U^-T
            g_U1 = g_U1 - _mT(L[..., k:, :]) @ g_a2
            tail = g_a2
        mid = _tri_mask(_mT(L1) @ g_L1, False, True) + _tri_mask(g_U1 @ _mT(U1), True, False)
        g_a1 = SolveTriangular.apply(_mT(L1), mid, True, True, True)
        g_a1 = SolveTriangular.apply(_mT(U1), g_a1, False, False, False)
        from ..functions.shape import cat

        if tail is None:
            g = g_a1
        else:
            g = cat([g_a1, tail], -1 if n > k else -2)
        return P @ g, None

    @staticmethod
    def jvp(ctx, a_dot, _):
        L, U, P, m, n, k = LUFactor._factors(ctx)
        pa = _mT(P) @ a_dot
        L1, U1 = L[..., :k, :], U[..., :, :k]
        x = SolveTriangular.apply(L1, pa[..., :k, :k], False, True, True)
        x = SolveTriangular.apply(U1, x, True, False, False)
        dL1 = L1 @ _tri_mask(x, False, True)
        dU1 = _tri_mask(x, True, False) @ U1
        from ..functions.shape import cat

        dL, dU = dL1, dU1
        if n > k:
            dU2 = SolveTriangular.apply(L1, pa[..., :, k:] - dL1 @ U[..., :, k:], False, True,
                                        True)
            dU = cat([dU1, dU2], -1)
        if m > k:
            dL2 = SolveTriangular.apply(U1, pa[..., k:, :] - L[..., k:, :] @ dU1, True, False,
                                        False)
            dL = cat([dL1, dL2], -2)
        return _pack(dL, dU), None, None
