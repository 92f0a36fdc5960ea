"""The SVD, QR, pseudo-inverse and least squares, computed with ``numpy.linalg`` (batched
over leading dims). Vocabulary as in ``chainrule.ops``; ``A^T`` transposes the last two
dims, k = min(m, n) for an (m, n) matrix, and ``sym(X) = X + X^T``.

* ``SVD(a, full_matrices)``  (U, S, Vh), a = U diag(S) Vh, S descending. The rules use
  the first k columns of U and rows of Vh (with ``full_matrices`` the others are an
  arbitrary basis and get no gradient, as in PyTorch). With E_ij = S_j^2 - S_i^2 off the
  diagonal (1 on it), J = U^T g_U, K = Vh g_Vh^T:
  VJP  inner = ((J - J^T) S_row + S_col (K - K^T)) / E + diag(g_S);
       g_a = U inner Vh, plus (I - U U^T) g_U S^-1 Vh when m > n, plus
       U S^-1 g_Vh (I - V Vh) when m < n (the terms of an absent g_U / g_Vh are dropped,
       so ``svdvals`` has the gradient U diag(g_S) Vh even with repeated values).
  JVP  D = U^T a_dot V; S_dot = diag(D); with D0 = D - diag(D):
       U_dot = U (sym(D0 S_row) / E) (+ (I - U U^T) a_dot V S^-1 when m > n),
       Vh_dot = -(sym(S_col D0) / E) Vh (+ S^-1 U^T a_dot (I - V Vh) when m < n).
  Repeated singular values make E zero off the diagonal: the U/Vh terms are then inf/nan,
  as PyTorch's (its documented caveat).
* ``QR(a, mode)``  (Q, R), mode "reduced" or "complete" ("r" is R alone: no rules).
  m >= n (reduced): with M = g_R R^T - Q^T g_Q and copyu(M) = triu(M) + triu(M, 1)^T,
  VJP g_a = (g_Q + Q copyu(M)) R^-T; JVP X = Q^T a_dot R^-1, C = tril(X, -1) -
  tril(X, -1)^T, R_dot = (X - C) R, Q_dot = a_dot R^-1 - Q (X - C).
  m < n: a = [a1 | a2] with a1 square, R = [R1 | R2], R2 = Q^T a2: g_a2 = Q g_R2 and the
  square rule on a1 with g_Q + a2 g_R2^T; R2_dot = Q_dot^T a2 + Q^T a2_dot.
  "complete" with m > n is not differentiable (PyTorch's error).
* ``Pinv(a, atol, rtol, hermitian)``  P = a^+ from the SVD (or eigh when hermitian) with
  singular values <= max(atol, rtol * S_max) dropped. JVP (Golub and Pereyra):
  P_dot = -P a_dot P + P P^T a_dot^T (I - a P) + (I - P a) a_dot^T P^T P; the VJP is its
  transpose, g_a = -P^T g P^T + (I - a P) g^T P P^T + P^T P g^T (I - P a).
* ``Lstsq(a, b, rcond, cutoff)``  X = a^+ b (singular values below rcond * S_max dropped;
  ``cutoff`` False drops none: the 'gels' driver), with the residuals |a X - b|^2 per
  column, the rank and the singular values as non-differentiable outputs. The rules are
  those of pinv(a) b with pinv's default tolerance (PyTorch's choice).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .linalg_lu import SolveTriangular


def _mT(t):  # noqa: N802
    return t.transpose(-2, -1)


def _eye(t, n):
    return t.new_tensor(np.eye(n))


def _gaps(S):
    """E_ij = S_j^2 - S_i^2 off the diagonal, 1 on it."""
    s2 = S * S
    n = S.shape[-1]
    return s2.unsqueeze(-2) - s2.unsqueeze(-1) + _eye(S, n)


def svd_array(a, full_matrices):
    try:
        return np.linalg.svd(a, full_matrices=full_matrices)
    except np.linalg.LinAlgError:
        from .linalg_np import LinAlgError

        raise LinAlgError("linalg.svd: The algorithm failed to converge because the input "
                          "matrix contained non-finite values.") from None


class SVD(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = svd_array(a, full_matrices)
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        return u, s, vh

    @staticmethod
    def _reduced(ctx):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        if u.shape[-1] != k:
            u = u[..., :, :k]
        if vh.shape[-2] != k:
            vh = vh[..., :k, :]
        return u, s, vh, k

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh, k = SVD._reduced(ctx)
        m, n = u.shape[-2], vh.shape[-1]
        if g_u is not None and g_u.shape[-1] != k:
            g_u = g_u[..., :, :k]
        if g_vh is not None and g_vh.shape[-2] != k:
            g_vh = g_vh[..., :k, :]
        if g_u is None and g_vh is None:
            return u @ (g_s.unsqueeze(-1) * vh), None
        inner = 0.0
        if g_u is not None:
            j = _mT(u) @ g_u
            inner = (j - _mT(j)) * s.unsqueeze(-2)
        if g_vh is not None:
            kk = vh @ _mT(g_vh)
            inner = inner + s.unsqueeze(-1) * (kk - _mT(kk))
        inner = inner / _gaps(s)
        if g_s is not None:
            inner = inner + _eye(s, k) * g_s.unsqueeze(-1)
        if m > n and g_u is not None:
            g_us = g_u / s.unsqueeze(-2)
            return (u @ inner + g_us - u @ (_mT(u) @ g_us)) @ vh, None
        if m < n and g_vh is not None:
            s_gvh = g_vh / s.unsqueeze(-1)
            return u @ (inner @ vh + s_gvh - (s_gvh @ _mT(vh)) @ vh), None
        return u @ inner @ vh, None

    @staticmethod
    def jvp(ctx, a_dot, _):
        u_full, _s, vh_full = ctx.saved_tensors
        u, s, vh, k = SVD._reduced(ctx)
        m, n = u.shape[-2], vh.shape[-1]
        v = _mT(vh)
        d = _mT(u) @ a_dot @ v
        s_dot = d.diagonal(0, -2, -1)
        d0 = d - _eye(s, k) * s_dot.unsqueeze(-1)
        e = _gaps(s)
        x = d0 * s.unsqueeze(-2)
        u_dot = u @ ((x + _mT(x)) / e)
        y = s.unsqueeze(-1) * d0
        vh_dot = -((y + _mT(y)) / e) @ vh
        from .conv import Pad

        lead = ((0, 0),) * (len(a_dot.shape) - 2)
        if m > n:
            avs = a_dot @ (v / s.unsqueeze(-2))
            u_dot = u_dot + avs - u @ (_mT(u) @ avs)
            if u_full.shape[-1] > k:  # the extra columns are not differentiable: zeros
                u_dot = Pad.apply(u_dot, lead + ((0, 0), (0, m - k)), 0)
        if m < n:
            sua = (_mT(u) / s.unsqueeze(-1)) @ a_dot
            vh_dot = vh_dot + sua - (sua @ v) @ vh
            if vh_full.shape[-2] > k:
                vh_dot = Pad.apply(vh_dot, lead + ((0, n - k), (0, 0)), 0)
        return u_dot, s_dot, vh_dot


def _copyu(M):
    """triu(M) + triu(M, 1)^T: the symmetric matrix with M's upper triangle."""
    from ..linalg_ops import triu

    up = triu(M, 1)
    return triu(M) + _mT(up)


class QR(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, mode):
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        if mode == "r":
            return np.zeros((0,), a.dtype), np.linalg.qr(a, mode="r")
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def _check(ctx, q, r):
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        return m, n

    @staticmethod
    def backward(ctx, g_q, g_r):
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when "
                "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                "differentiate through linalg.qr.")
        a, q, r = ctx.saved_tensors
        m, n = QR._check(ctx, q, r)
        if m >= n:
            return _qr_vjp_tall(q, r, g_q, g_r), None
        from ..functions.shape import cat

        a2 = a[..., :, m:]
        g_r1 = None if g_r is None else g_r[..., :, :m]
        g_q1 = g_q
        if g_r is not None:
            g_r2 = g_r[..., :, m:]
            g_q1 = a2 @ _mT(g_r2) if g_q is None else g_q + a2 @ _mT(g_r2)
            g_a2 = q @ g_r2
        else:
            g_a2 = a2 * 0.0
        return cat([_qr_vjp_tall(q, r[..., :, :m], g_q1, g_r1), g_a2], -1), None

    @staticmethod
    def jvp(ctx, a_dot, _):
        if ctx.mode == "r":
            QR.backward(ctx, None, None)
        a, q, r = ctx.saved_tensors
        m, n = QR._check(ctx, q, r)
        if m >= n:
            return _qr_jvp_tall(q, r, a_dot)
        from ..functions.shape import cat

        q_dot, r1_dot = _qr_jvp_tall(q, r[..., :, :m], a_dot[..., :, :m])
        r2_dot = _mT(q_dot) @ a[..., :, m:] + _mT(q) @ a_dot[..., :, m:]
        return q_dot, cat([r1_dot, r2_dot], -1)


def _qr_vjp_tall(q, r, g_q, g_r):
    M = 0.0
    if g_r is not None:
        M = g_r @ _mT(r)
    if g_q is not None:
        M = M - _mT(q) @ g_q
    b = q @ _copyu(M)
    if g_q is not None:
        b = g_q + b
    return SolveTriangular.apply(_mT(r), b, False, False, False)  # b R^-T


def _qr_jvp_tall(q, r, a_dot):
    from ..linalg_ops import tril

    ar = SolveTriangular.apply(r, a_dot, True, False, False)  # a_dot R^-1
    x = _mT(q) @ ar
    low = tril(x, -1)
    x_c = x - (low - _mT(low))
    return ar - q @ x_c, x_c @ r


# -- pseudo-inverse and least squares -----------------------------------------------------
def _tol(t):
    """A tolerance argument (scalar, or array shaped (..., 1, 1)) as (..., 1)."""
    t = np.asarray(t, np.float64)
    return t[..., 0] if t.ndim >= 2 else t


def pinv_array(a, atol, rtol, hermitian):
    if hermitian:
        w, v = np.linalg.eigh(a)
        big = np.abs(w)
        cut = np.maximum(_tol(atol), _tol(rtol) * big.max(-1, keepdims=True, initial=0.0))
        w_inv = np.where(big > cut, 1.0 / np.where(big > cut, w, 1.0), 0.0)
        return ((v * w_inv[..., None, :]) @ np.swapaxes(v, -1, -2)).astype(a.dtype)
    u, s, vh = svd_array(a, False)
    cut = np.maximum(_tol(atol), _tol(rtol) * s.max(-1, keepdims=True, initial=0.0))
    s_inv = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)
    return (np.swapaxes(vh, -1, -2) @ (s_inv[..., :, None] * np.swapaxes(u, -1, -2))).astype(
        a.dtype)


def default_rtol(a):
    return float(np.finfo(a.dtype).eps * max(a.shape[-2:]))


def pinv_jvp(a, p, a_dot):
    ppt = p @ _mT(p)
    ptp = _mT(p) @ p
    at = _mT(a_dot)
    return -(p @ a_dot @ p) + (ppt @ at - (ppt @ at @ a) @ p) + (at @ ptp - p @ (a @ (at @ ptp)))


def pinv_vjp(a, p, grad):
    pt = _mT(p)
    gt = _mT(grad)
    t2 = gt @ (p @ pt)
    t3 = (pt @ p) @ gt
    return -(pt @ grad @ pt) + (t2 - a @ (p @ t2)) + (t3 - (t3 @ p) @ a)


class Pinv(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        out = pinv_array(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        return pinv_vjp(a, p, grad), None, None, None

    @staticmethod
    def jvp(ctx, a_dot, *_):
        a, p = ctx.saved_tensors
        return pinv_jvp(a, p, a_dot)


class Lstsq(Function):
    """See the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, b, rcond, cutoff):
        u, s, vh = svd_array(a, False)
        cut = rcond * s.max(-1, keepdims=True, initial=0.0) if cutoff else 0.0
        keep = s > cut
        s_inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        ub = np.swapaxes(u, -1, -2) @ b
        x = (np.swapaxes(vh, -1, -2) @ (s_inv[..., :, None] * ub)).astype(
            np.result_type(a, b))
        res = ((a @ x - b) ** 2).sum(-2).astype(x.dtype)
        rank = keep.sum(-1).astype(np.int64)
        ctx.save_for_backward(a, b)
        ctx.mark_non_differentiable(res, rank, s)
        ctx.set_materialize_grads(False)
        return x, res, rank, s.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad, *_):
        a, b = ctx.saved_tensors
        p = Pinv.apply(a, 0.0, default_rtol(a._data), False)
        need = ctx.needs_input_grad
        g_a = pinv_vjp(a, p, grad @ _mT(b)) if need[0] else None
        g_b = _mT(p) @ grad if need[1] else None
        return g_a, g_b, None, None

    @staticmethod
    def jvp(ctx, a_dot, b_dot, *_):
        a, b = ctx.saved_tensors
        p = Pinv.apply(a, 0.0, default_rtol(a._data), False)
        return pinv_jvp(a, p, a_dot) @ b + p @ b_dot, None, None, None
