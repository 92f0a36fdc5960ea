"""Elementwise primitives. See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _plus(a, b):
    """a + b where either may be None (a missing tangent)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class Add(Function):
    """out = x + y.   VJP: (grad, grad).   JVP: x_dot + y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        return _plus(x_dot, y_dot)


class Sub(Function):
    """out = x - y.   VJP: (grad, -grad).   JVP: x_dot - y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        return _plus(x_dot, None if y_dot is None else -y_dot)


class Mul(Function):
    """out = x * y.   VJP: (grad * y, grad * x).   JVP: x_dot * y + x * y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        # Mul.apply directly: the operands already share a dtype (promoted in forward)
        return (Mul.apply(grad, y) if need[0] else None), (Mul.apply(grad, x) if need[1] else None)

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        return _plus(None if x_dot is None else x_dot * y, None if y_dot is None else x * y_dot)


class Div(Function):
    """out = x / y.   VJP: (grad / y, -grad * x / y^2).   JVP: (x_dot - out * y_dot) / y."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad / y if need[0] else None
        gy = -grad * x / (y * y) if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        t = x_dot / y if x_dot is not None else None
        if y_dot is not None:
            t = _plus(t, -(x * y_dot) / (y * y))
        return t


class Neg(Function):
    """out = -x.   VJP: -grad.   JVP: -x_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def jvp(ctx, x_dot):
        return -x_dot


class Pow(Function):
    """out = x ** y.

    VJP: grad * y * x^(y-1) for x (0 where y == 0);  grad * out * log(x) for y (0 where
    x == 0 and y >= 0, as PyTorch). JVP: the sum of both terms with x_dot and y_dot.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        out = np.power(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def _dx(x, y):
        if isinstance(y, (int, float)):
            if y == 0:
                return x * 0.0
            if y == 1:
                return x * 0.0 + 1.0
            if y == 2:
                return x * 2.0
            return y * x ** (y - 1)
        # 0 where y == 0 (not 0 * 0^-1 = nan at x == 0), as PyTorch
        return (y * x ** (y - 1)).masked_fill(y == 0, 0.0)

    @staticmethod
    def _dy(x, y, out):
        return (out * x.log()).masked_fill((x == 0) & (y >= 0), 0.0)

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad * Pow._dx(x, y) if need[0] else None
        gy = grad * Pow._dy(x, y, out) if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y, out = ctx.saved_tensors
        t = None if x_dot is None else x_dot * Pow._dx(x, y)
        if y_dot is not None:
            t = _plus(t, y_dot * Pow._dy(x, y, out))
        return t


class Maximum(Function):
    """out = max(x, y) elementwise.   VJP: grad to the larger input; on ties, half to each
    (PyTorch's rule). JVP: the same weights applied to x_dot and y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def _weights(x, y, sign):
        dt = x.dtype
        wx = ((x - y) * sign > 0).to(dt) + (x == y).to(dt) * 0.5
        return wx, 1 - wx

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, 1)
        return grad * wx, grad * wy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, 1)
        return _plus(None if x_dot is None else x_dot * wx, None if y_dot is None else y_dot * wy)


class Minimum(Function):
    """out = min(x, y) elementwise.   VJP: grad to the smaller input; ties split in half."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, -1)
        return grad * wx, grad * wy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, -1)
        return _plus(None if x_dot is None else x_dot * wx, None if y_dot is None else y_dot * wy)


class Where(Function):
    """out = x where cond else y.   VJP: (grad masked by cond, grad masked by not cond)."""

    _arrays = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad.masked_fill(~cond, 0.0) if need[1] else None
        gy = grad.masked_fill(cond, 0.0) if need[2] else None
        return None, gx, gy

    @staticmethod
    def jvp(ctx, cond_dot, x_dot, y_dot):
        (cond,) = ctx.saved_tensors
        zero = 0.0
        return Where.apply(cond, zero if x_dot is None else x_dot, zero if y_dot is None else y_dot)


class Clamp(Function):
    """out = min(max(x, lo), hi) with scalar bounds.   VJP: grad * [lo <= x <= hi]."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def _mask(ctx, x):
        m = None
        if ctx.lo is not None:
            m = x >= ctx.lo
        if ctx.hi is not None:
            m = (x <= ctx.hi) if m is None else m & (x <= ctx.hi)
        return m

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Clamp._mask(ctx, x), None, None

    @staticmethod
    def jvp(ctx, x_dot, lo_dot, hi_dot):
        (x,) = ctx.saved_tensors
        return x_dot * Clamp._mask(ctx, x)


class Cast(Function):
    """out = x converted to another dtype.   VJP: grad (the engine casts it back to x's dtype)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, np_dtype):
        return x.astype(np_dtype, order="C")  # a C-contiguous copy (contiguous() relies on it)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return x_dot


class ZeroGrad(Function):
    """out = f(x) for a piecewise-constant f (floor, ceil, round, trunc, sign, step).

    VJP: zeros (f' = 0 almost everywhere; PyTorch returns 0 at the jumps too).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(grad.shape), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return x_dot.new_zeros(x_dot.shape)
