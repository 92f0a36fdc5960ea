"""Scan primitives beyond ``Cumsum``: cumulative product and log-cumulative-sum-exp along
one dim, and the fused derivative node of the latter. See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _rev_cumsum(t, d):
    return t.flip(d).cumsum(d).flip(d)


def _partials_matrix(x, d):
    """C[..., i, j] = prod_{k <= j, k != i} x_k along dim d (moved last): d out_j / d x_i
    for i <= j, exact where x has zeros. Costs n^2 per line, so it is used only then."""
    xm = x.movedim(d, -1)
    n = xm.shape[-1]
    eye = np.eye(n, dtype=bool)
    rows = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).masked_fill(
        x.new_tensor(eye).bool(), 1.0)
    upper = x.new_tensor(np.triu(np.ones((n, n)))).to(x.dtype)  # j >= i
    return Cumprod.apply(rows, rows.ndim - 1) * upper


class Cumprod(Function):
    """out_j = prod_{i <= j} x_i along ``dim``.

    VJP: grad_x_i = sum_{j >= i} grad_j * prod_{k <= j, k != i} x_k; without zeros in x this
    is revcumsum(grad * out) / x, with zeros the products are formed exactly (an n x n
    matrix per line, PyTorch gets the same values another way).
    JVP: out * cumsum(x_dot / x) without zeros; the matrix form otherwise.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim):
        out = np.cumprod(x, axis=dim)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        ctx.zeros = bool((x == 0).any())
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        d = ctx.dim
        if x.shape[d] == 0:
            return grad, None
        if not ctx.zeros:
            return _rev_cumsum(grad * out, d) / x, None
        c = _partials_matrix(x, d)
        g = grad.movedim(d, -1).unsqueeze(-2)  # (..., 1, n_j)
        return (c * g).sum(-1).movedim(-1, d), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        x, out = ctx.saved_tensors
        d = ctx.dim
        if x.shape[d] == 0:
            return x_dot
        if not ctx.zeros:
            return out * (x_dot / x).cumsum(d)
        c = _partials_matrix(x, d)
        t = x_dot.movedim(d, -1).unsqueeze(-1)  # (..., n_i, 1)
        return (c * t).sum(-2).movedim(-1, d)


class LogCumSumExp(Function):
    """out_j = log sum_{i <= j} exp(x_i) along ``dim`` (NumPy's logaddexp.accumulate).

    VJP: grad_x_i = sum_{j >= i} grad_j exp(x_i - out_j).   JVP: out_dot_j = sum_{i <= j}
    x_dot_i exp(x_i - out_j). Both are one ``LogCumSumExpGrad`` node (evaluated stably in
    log space, differentiated as the linear map it is).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim):
        with np.errstate(invalid="ignore"):
            out = np.logaddexp.accumulate(x, axis=dim) if x.shape[dim] else x.copy()
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return LogCumSumExpGrad.apply(grad, x, out, ctx.dim, True), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        x, out = ctx.saved_tensors
        return LogCumSumExpGrad.apply(x_dot, x, out, ctx.dim, False)


def _np_exp_sums(v, x, out, d, reverse):
    """NumPy: sum_{j>=i} v_j exp(x_i - out_j) (reverse) or sum_{i<=j} v_i exp(x_i - out_j),
    from v's positive and negative parts in log space (no overflow, accurate at any scale;
    out = -inf, where every x_{<=j} is -inf, counts as 0)."""
    out = np.where(out == -np.inf, 0.0, out)
    sums = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for part in (np.maximum(v, 0), np.maximum(-v, 0)):
            lv = np.log(part)
            if reverse:
                acc = np.flip(np.logaddexp.accumulate(np.flip(lv - out, d), axis=d), d) + x
            else:
                acc = np.logaddexp.accumulate(lv + x, axis=d) - out
            sums.append(np.exp(acc))
    return (sums[0] - sums[1]).astype(np.result_type(v, x), copy=False)


class LogCumSumExpGrad(Function):
    """The VJP (``reverse``) or JVP of logcumsumexp as one node: out_i = sum_{j>=i} v_j
    exp(x_i - y_j) (reverse) or out_j = sum_{i<=j} v_i exp(x_i - y_j), y = logcumsumexp(x).

    It is linear in v and each form is the other's transpose, so its rules are:
    reverse: VJP (u): v <- forward form of u; x <- u * out; y <- -v * (forward form of u).
    forward: VJP (u): v <- reverse form of u; x <- v * (reverse form of u); y <- -u * out.
    JVP: the same partials applied to the tangents. Exact where v has zeros (the log-space
    forward evaluation is not what is differentiated).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, v, x, y, dim, reverse):
        out = _np_exp_sums(v, x, y, dim, reverse)
        ctx.save_for_backward(v, x, y, out)
        ctx.dim, ctx.reverse = dim, reverse
        return out

    @staticmethod
    def backward(ctx, u):
        v, x, y, out = ctx.saved_tensors
        d, rev = ctx.dim, ctx.reverse
        other = LogCumSumExpGrad.apply(u, x, y, d, not rev)
        need = ctx.needs_input_grad
        if rev:
            gx, gy = u * out, -(v * other)
        else:
            gx, gy = v * other, -(u * out)
        return (other if need[0] else None), (gx if need[1] else None), (
            gy if need[2] else None), None, None

    @staticmethod
    def jvp(ctx, v_dot, x_dot, y_dot, *_):
        v, x, y, out = ctx.saved_tensors
        d, rev = ctx.dim, ctx.reverse
        t = LogCumSumExpGrad.apply(v_dot, x, y, d, rev)
        if rev:
            return t + x_dot * out - LogCumSumExpGrad.apply(v * y_dot, x, y, d, rev)
        return t + LogCumSumExpGrad.apply(v * x_dot, x, y, d, rev) - y_dot * out
