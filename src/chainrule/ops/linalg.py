"""Matrix products: MatMul (batched, broadcasting) and the fused Linear layer."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from . import _parallel as P


def _t(a):
    """The array with its last two axes swapped (a NumPy view)."""
    return np.swapaxes(a, -1, -2)


class MatMul(Function):
    """out = op_x(x) @ op_y(y), where op is the transpose of the last two dims when the flag
    ``tx`` / ``ty`` is set (so a backward pass never materialises a transposed tensor);
    operands of shape (..., n, k) and (..., k, m) with broadcast batch dims (1-D operands are
    handled by ``chainrule.matmul`` before this primitive).

    VJP, with A = op_x(x), B = op_y(y):  dA = grad B^T,  dB = A^T grad, then transposed back
    where a flag is set; each summed over broadcast batch dims by the engine.
    JVP: op(x_dot) @ op(y) + op(x) @ op(y_dot).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y, tx=False, ty=False):
        ctx.save_for_backward(x, y)
        ctx.tx, ctx.ty = tx, ty
        a, b = _t(x) if tx else x, _t(y) if ty else y
        return np.matmul(a, b) if P._N == 1 else P.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        tx, ty = ctx.tx, ctx.ty
        need = ctx.needs_input_grad
        gx = gy = None
        if need[0]:  # dA = grad B^T; x's gradient is dA, or dA^T = B grad^T when tx
            gx = MatMul.apply(y, grad, ty, True) if tx else MatMul.apply(grad, y, False, not ty)
        if need[1]:  # dB = A^T grad; y's gradient is dB, or dB^T = grad^T A when ty
            gy = MatMul.apply(grad, x, True, tx) if ty else MatMul.apply(x, grad, not tx, False)
        return gx, gy, None, None

    @staticmethod
    def jvp(ctx, x_dot, y_dot, *_):
        x, y = ctx.saved_tensors
        tx, ty = ctx.tx, ctx.ty
        return MatMul.apply(x_dot, y, tx, ty) + MatMul.apply(x, y_dot, tx, ty)


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
        out = x @ w.T if P._N == 1 else P.matmul(x, w.T)
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
                gw = MatMul.apply(g2, x2, True, False)
            if need[2]:
                gb = g2.sum(0)
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, x_dot, w_dot, b_dot):
        x, w = ctx.saved_tensors
        out = Linear.apply(x_dot, w, b_dot)
        return out + MatMul.apply(x, w_dot, False, True)
