"""Matrix products: MatMul (batched, broadcasting) and the fused Linear layer."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .shape import Permute


def _mT(x):
    """x with its last two dims swapped (one Permute primitive, no argument checks)."""
    n = x.ndim
    return Permute.apply(x, tuple(range(n - 2)) + (n - 1, n - 2))


class MatMul(Function):
    """out = x @ y for x of shape (..., n, k) and y of shape (..., k, m) (batch dims broadcast;
    1-D operands are handled by ``chainrule.matmul`` before this primitive).

    VJP: (grad @ y^T, x^T @ grad), each summed over broadcast batch dims by the engine.
    JVP: x_dot @ y + x @ y_dot.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = MatMul.apply(grad, _mT(y)) if need[0] else None
        gy = MatMul.apply(_mT(x), grad) if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        return MatMul.apply(x_dot, y) + MatMul.apply(x, y_dot)


class Linear(Function):
    """out = x W^T + b for x of shape (*, in), W of shape (out, in), b of shape (out,) or None.

    One GEMM forward, three in backward (flattening the leading dims of x):
    dx = grad W,  dW = grad^T x,  db = sum of grad over rows.
    JVP: x_dot W^T + x W_dot^T + b_dot.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out = x @ w.T
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = MatMul.apply(grad, w) if need[0] else None
        gw = gb = None
        if need[1] or need[2]:
            g2 = grad.reshape((-1, grad.shape[-1])) if grad.ndim != 2 else grad
            if need[1]:
                x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
                gw = MatMul.apply(_mT(g2), x2)
            if need[2]:
                gb = g2.sum(0)
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, x_dot, w_dot, b_dot):
        x, w = ctx.saved_tensors
        out = Linear.apply(x_dot, w, b_dot)
        return out + MatMul.apply(x, _mT(w_dot))
