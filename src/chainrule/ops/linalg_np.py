"""Linear-algebra primitives computed with ``numpy.linalg`` (batched over leading dims):
inverse, determinant (and log|det|), solve, Cholesky, symmetric eigendecomposition. Each
rule is written with tensor operations, so it can be differentiated again; ``A^T`` below
is the transpose of the last two dims. ``LinAlgError`` (``torch.linalg.LinAlgError``) is
what a failed factorization raises.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a factorization failed (singular, not positive-definite)."""


def _mT(t):  # noqa: N802
    return t.transpose(-2, -1)


def batch_prefix(info):
    """PyTorch's "(Batch element i): " for the first failing matrix of a batch."""
    if info.ndim == 0:
        return "", int(info)
    flat = info.reshape(-1)
    i = int(np.flatnonzero(flat)[0])
    return f"(Batch element {i}): ", int(flat[i])


def singular_error(op, a):
    """The LinAlgError of ``op`` for a singular matrix (the first zero pivot of its LU)."""
    from .linalg_lu import lu_array

    prefix, k = batch_prefix(lu_array(a)[2])
    if op == "linalg.solve":
        return LinAlgError(f"{prefix}torch.linalg.solve: The solver failed because the input "
                           "matrix is singular.")
    return LinAlgError(f"{op}: {prefix}The diagonal element {k} is zero, the inversion could "
                       "not be completed because the input matrix is singular.")


class Inverse(Function):
    """out = A^-1.   VJP: -out^T grad out^T.   JVP: -out A_dot out."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise singular_error("linalg.inv", a) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        t = _mT(out)
        return -(t @ grad @ t)

    @staticmethod
    def jvp(ctx, a_dot):
        (out,) = ctx.saved_tensors
        return -(out @ a_dot @ out)


class SlogDet(Function):
    """(sign, log|det A|).   VJP of log|det|: grad A^-T (sign has no gradient).
    JVP: trace(A^-1 A_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        ctx.mark_non_differentiable(sign)
        return np.asarray(sign, a.dtype), np.asarray(logabs, a.dtype)

    @staticmethod
    def backward(ctx, g_sign, g_log):
        (a,) = ctx.saved_tensors
        return _mT(Inverse.apply(a)) * g_log[..., None, None]

    @staticmethod
    def jvp(ctx, a_dot):
        (a,) = ctx.saved_tensors
        return None, (Inverse.apply(a) * _mT(a_dot)).sum((-2, -1))


class Det(Function):
    """out = det A.   VJP: grad out A^-T.   JVP: out trace(A^-1 A_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a), a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        return _mT(Inverse.apply(a)) * (grad * out)[..., None, None]

    @staticmethod
    def jvp(ctx, a_dot):
        a, out = ctx.saved_tensors
        return out * (Inverse.apply(a) * _mT(a_dot)).sum((-2, -1))


class Solve(Function):
    """X = A^-1 B (B of shape (..., n, k)).   VJP: gB = A^-T grad, gA = -gB X^T.
    JVP: A^-1 (B_dot - A_dot X)."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise singular_error("linalg.solve", a) from None
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        gb = Solve.apply(_mT(a), grad)
        need = ctx.needs_input_grad
        return (-(gb @ _mT(out)) if need[0] else None), (gb if need[1] else None)

    @staticmethod
    def jvp(ctx, a_dot, b_dot):
        a, out = ctx.saved_tensors
        return Solve.apply(a, b_dot - a_dot @ out)


def _phi(t):
    """The lower triangle of t with its diagonal halved."""
    n = t.shape[-1]
    w = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return t * t.new_tensor(w)


def _potf2(m):
    """LAPACK potf2 on one matrix (lower): (L, info), L partial when info > 0."""
    L = np.tril(m).astype(m.dtype, copy=True)
    n = m.shape[-1]
    for j in range(n):
        ajj = L[j, j] - L[j, :j] @ L[j, :j]
        if not ajj > 0:
            L[j, j] = ajj
            return L, j + 1
        L[j, j] = np.sqrt(ajj)
        L[j + 1:, j] = (L[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return L, 0


def cholesky_array(a):
    """(L, info) of (..., n, n) (lower triangle read): info is 0, or the order of the first
    leading minor that is not positive-definite (L then holds LAPACK's partial result)."""
    try:
        return np.linalg.cholesky(a), np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        pass
    flat = a.reshape((int(np.prod(a.shape[:-2])),) + a.shape[-2:])
    pairs = [_potf2(m) for m in flat]
    L = np.stack([p[0] for p in pairs]).reshape(a.shape)
    return L, np.array([p[1] for p in pairs], np.int32).reshape(a.shape[:-2])


class Cholesky(Function):
    """(L, info): L lower triangular with L L^T = A (A symmetric positive definite; its
    lower triangle is read); info (int32, no gradient) as in ``cholesky_array``.
    VJP: S = L^-T Phi(L^T grad) L^-1, gA = (S + S^T) / 2 (Phi: lower triangle, halved
    diagonal).   JVP: L Phi(L^-1 A_dot L^-T)."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        out, info = cholesky_array(a)
        ctx.save_for_backward(out)
        ctx.mark_non_differentiable(info)
        return out, info

    @staticmethod
    def backward(ctx, grad, _):
        (L,) = ctx.saved_tensors
        Li = Inverse.apply(L)
        s = _mT(Li) @ _phi(_mT(L) @ grad) @ Li
        return (s + _mT(s)) * 0.5

    @staticmethod
    def jvp(ctx, a_dot):
        (L,) = ctx.saved_tensors
        Li = Inverse.apply(L)
        return L @ _phi(Li @ a_dot @ _mT(Li)), None


class Eigh(Function):
    """(w, V) with A = V diag(w) V^T, w ascending (A symmetric; the ``uplo`` triangle is
    read).   VJP: gA = V (diag(gw) + skew(V^T gV) / E) V^T with E_ij = w_j - w_i (the
    diagonal of the quotient is gw).   JVP: w_dot = diag(V^T A_dot V), V_dot = V (F o
    (V^T A_dot V)) with F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)

    @staticmethod
    def _inv_gaps(w):
        e = w.unsqueeze(-2) - w.unsqueeze(-1)  # e_ij = w_j - w_i
        n = w.shape[-1]
        eye = w.new_tensor(np.eye(n)) > 0.5
        return (1 / e.masked_fill(eye, 1.0)).masked_fill(eye, 0.0)

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        m = _mT(v) @ gv
        m = (m - _mT(m)) * 0.5 * Eigh._inv_gaps(w)
        n = w.shape[-1]
        m = m + w.new_tensor(np.eye(n)) * gw.unsqueeze(-1)
        return v @ m @ _mT(v), None

    @staticmethod
    def jvp(ctx, a_dot, _):
        w, v = ctx.saved_tensors
        m = _mT(v) @ a_dot @ v
        return m.diagonal(0, -2, -1), v @ (m * Eigh._inv_gaps(w))
