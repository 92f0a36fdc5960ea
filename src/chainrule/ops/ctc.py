"""The CTC loss primitive (Graves et al., 2006): a dynamic programme over alignments that
cannot be composed from other primitives at a reasonable cost. See ``chainrule.ops`` for the
vocabulary (x, out, grad, x_dot).

Notation: ``lp`` (T, N, C) log-probabilities, ``ext`` (N, L) the targets with blanks
interleaved (blank, y_1, blank, y_2, ..., blank; L = 2 S + 1), T_n and S_n the lengths.

* forward variables  alpha_t(s) = lp[t, ext_s] + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
  alpha_{t-1}(s-2) if ext_s != blank and ext_s != ext_{s-2}), alpha_0 = lp[0, ext_0|ext_1];
* out[n] = -log p(y | x) = -logsumexp(alpha_{T_n - 1}(2 S_n), alpha_{T_n - 1}(2 S_n - 1));
* backward variables beta_t(s) likewise from t = T_n - 1 down (both include lp[t, ext_s]);
* VJP: d out[n] / d lp[t, n, c] = -sum_{s: ext_s = c} exp(alpha_t(s) + beta_t(s) - lp[t, ext_s]
  + out[n]) for t < T_n (0 beyond), times grad[n] -- the true derivative with respect to the
  log-probabilities (PyTorch's kernel returns it plus exp(lp), the gradient with respect to
  pre-log_softmax logits; both give the same gradient once a log_softmax precedes);
* JVP: out_dot[n] = sum_{t, c} G[t, n, c] lp_dot[t, n, c] with G the matrix above.

The derivative G is computed with NumPy and wrapped in ``CTCGrad``, whose own derivative is
refused (PyTorch does not implement CTC's double backward either).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

_NEG = -np.inf


def _lse3(a, b, c):
    """Elementwise log(exp(a) + exp(b) + exp(c)) with -inf entries allowed."""
    m = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe))


def _emissions(lp, ext):
    """e[t, n, s] = lp[t, n, ext[n, s]] -> (T, N, L)."""
    return lp[:, np.arange(lp.shape[1])[:, None], ext]


def _skip_allowed(ext, blank):
    """skip[n, s]: the transition s - 2 -> s is allowed (ext_s non-blank, != ext_{s-2})."""
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return skip


def _alpha(em, ext, tgt_len, blank):
    t_max, n, length = em.shape
    alpha = np.full((t_max, n, length), _NEG)
    alpha[0, :, 0] = em[0, :, 0]
    has = tgt_len > 0
    alpha[0, has, 1] = em[0, has, 1]
    skip = _skip_allowed(ext, blank)
    neg = np.full((n, 1), _NEG)
    for t in range(1, t_max):
        prev = alpha[t - 1]
        one = np.concatenate([neg, prev[:, :-1]], 1)
        two = np.where(skip, np.concatenate([neg, neg, prev[:, :-2]], 1), _NEG)
        alpha[t] = em[t] + _lse3(prev, one, two)
    return alpha


def _beta(em, ext, in_len, tgt_len, blank):
    t_max, n, length = em.shape
    beta = np.full((t_max, n, length), _NEG)
    rows = np.arange(n)
    skip = _skip_allowed(ext, blank)
    skip_next = np.concatenate([skip[:, 2:], np.zeros((n, 2), bool)], 1)  # s -> s + 2
    neg = np.full((n, 1), _NEG)
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            nxt = beta[t + 1]
            one = np.concatenate([nxt[:, 1:], neg], 1)
            two = np.where(skip_next, np.concatenate([nxt[:, 2:], neg, neg], 1), _NEG)
            beta[t] = em[t] + _lse3(nxt, one, two)
        last = in_len - 1 == t  # samples whose final frame is t start here
        if last.any():
            start = np.full((n, length), _NEG)
            end = 2 * tgt_len
            start[rows, end] = em[t, rows, end]
            nz = tgt_len > 0
            start[rows[nz], end[nz] - 1] = em[t, rows[nz], end[nz] - 1]
            beta[t, last] = start[last]
        beta[t, in_len - 1 < t] = _NEG
    return beta


class CTCGrad(Function):
    """out = G (the CTC derivative, computed by ``CTCLoss``); its own derivative is refused."""

    _arrays = True

    @staticmethod
    def forward(ctx, lp, g):
        return g

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("ctc_loss: double backward (the derivative of the CTC "
                                  "gradient) is not implemented, as in PyTorch")

    @staticmethod
    def jvp(ctx, lp_dot, g_dot):
        raise NotImplementedError("ctc_loss: forward-over-reverse derivatives are not "
                                  "implemented")


class CTCLoss(Function):
    """out[n] = -log p(targets_n | lp[:T_n, n]) (see the module docstring for the rules).

    Arguments: lp (T, N, C) float tensor; ext (N, 2 S + 1) int array (blank-interleaved
    targets, padding entries any valid class); in_len, tgt_len (N,) int arrays; blank;
    zero_infinity (infinite losses and their gradients become 0).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, lp, ext, in_len, tgt_len, blank, zero_infinity):
        work = lp.astype(np.float64)
        em = _emissions(work, ext)
        alpha = _alpha(em, ext, tgt_len, blank)
        rows = np.arange(ext.shape[0])
        last = alpha[in_len - 1, rows]  # (N, L)
        end = 2 * tgt_len
        ll = last[rows, end]
        nz = tgt_len > 0
        ll[nz] = np.logaddexp(ll[nz], last[rows[nz], end[nz] - 1])
        empty = in_len == 0  # no frames: probability 1 for an empty target, else 0
        ll[empty] = np.where(tgt_len[empty] == 0, 0.0, _NEG)
        ctx.arrays = (work, em, alpha, ext, in_len, tgt_len, blank, -ll, zero_infinity)
        ctx.save_for_backward(lp)
        nll = -ll
        if zero_infinity:
            nll[np.isinf(nll)] = 0.0
        return nll.astype(lp.dtype)

    @staticmethod
    def _g(ctx):
        work, em, alpha, ext, in_len, tgt_len, blank, nll, zero_infinity = ctx.arrays
        beta = _beta(em, ext, in_len, tgt_len, blank)
        finite = np.isfinite(nll)
        with np.errstate(invalid="ignore"):
            occ = np.exp(alpha + beta - em + np.where(finite, nll, 0.0)[None, :, None])
        occ = np.nan_to_num(occ, nan=0.0, posinf=0.0)
        t_max, n, c = work.shape
        onehot = np.zeros((n, ext.shape[1], c))
        onehot[np.arange(n)[:, None], np.arange(ext.shape[1]), ext] = 1.0
        g = -np.matmul(occ.transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # (T, N, C)
        # as PyTorch: an infinite loss has a NaN gradient, or 0 with zero_infinity
        g[:, ~finite] = 0.0 if zero_infinity else np.nan
        return g

    @staticmethod
    def backward(ctx, grad):
        (lp,) = ctx.saved_tensors
        g = Tensor._make(CTCLoss._g(ctx).astype(lp._data.dtype), False, None, 0)
        return CTCGrad.apply(lp, g) * grad.reshape(1, -1, 1), None, None, None, None, None

    @staticmethod
    def jvp(ctx, lp_dot, *_):
        g = Tensor._make(CTCLoss._g(ctx).astype(lp_dot._data.dtype), False, None, 0)
        return (g * lp_dot).sum((0, 2))
