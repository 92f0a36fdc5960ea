"""Scan primitives beyond ``Cumsum``: cumulative product and log-cumulative-sum-exp along
one dim. See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot).
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


def _signed_log_parts(t):
    """(log max(t, 0), log max(-t, 0)): -inf where a part is 0."""
    with np.errstate(divide="ignore"):
        return t.clamp(min=0).log(), (-t).clamp(min=0).log()


class LogCumSumExp(Function):
    """out_j = log sum_{i <= j} exp(x_i) along ``dim`` (NumPy's logaddexp.accumulate).

    VJP: grad_x_i = sum_{j >= i} grad_j exp(x_i - out_j), formed stably as
    exp(x_i + revlogcumsumexp(log grad+ - out)) - exp(x_i + revlogcumsumexp(log grad- - out))
    with grad+- the positive and negative parts. JVP: out_dot_j = sum_{i <= j} x_dot_i
    exp(x_i - out_j), the same way forwards.
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
        d = ctx.dim
        pos, neg = _signed_log_parts(grad)

        def part(lg):
            return (LogCumSumExp.apply((lg - out).flip(d), d).flip(d) + x).exp()

        return part(pos) - part(neg), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        x, out = ctx.saved_tensors
        d = ctx.dim
        pos, neg = _signed_log_parts(x_dot)

        def part(lt):
            return (LogCumSumExp.apply(lt + x, d) - out).exp()

        return part(pos) - part(neg)
