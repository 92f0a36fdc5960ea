"""Reduction primitives (sum, extrema, product, cumulative sum, log-sum-exp, softmax).

``axis`` is a tuple of non-negative dims (or None for all); ``keepdim`` as PyTorch's.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .elementwise import Div
from .shape import Expand, Reshape


def _kept_shape(x_shape, axis):
    """x's shape with the reduced dims set to 1."""
    if axis is None:
        return (1,) * len(x_shape)
    return tuple(1 if (axis is None or i in axis) else s for i, s in enumerate(x_shape))


def _keep(grad, x_shape, axis, keepdim):
    """Reshape a reduced gradient so that it broadcasts against x (re-insert reduced dims)."""
    if keepdim:
        return grad
    shape = tuple(1 if (axis is None or i in axis) else s for i, s in enumerate(x_shape))
    return grad if grad.shape == shape else grad.reshape(shape)


class Sum(Function):
    """out = sum of x over ``axis``.   VJP: grad broadcast back to x's shape.
    JVP: sum of x_dot over ``axis``."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.x_shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        if x.__class__ is np.ndarray:  # what np.sum calls, without its ~2 us of Python
            if axis is None and not keepdim and x.dtype.kind == "f":
                # the sum of all elements into a 0-d array (NumPy would return a scalar)
                return np.add.reduce(x, None, None, np.empty((), x.dtype))
            out = np.add.reduce(x, axis=axis, keepdims=keepdim)
            return out if out.__class__ is np.ndarray else np.asarray(out)  # 0-d: an array
        return np.sum(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = grad if ctx.keepdim else Reshape.apply(grad, _kept_shape(ctx.x_shape, ctx.axis))
        return Expand.apply(g, ctx.x_shape), None, None

    def name(self) -> str:  # PyTorch's: SumBackward0 over everything, SumBackward1 over dims
        return f"{type(self).__name__}Backward{0 if self.axis is None else 1}"

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return Sum.apply(x_dot, ctx.axis, ctx.keepdim)


class Mean(Function):
    """out = (sum of x over ``axis``) / n, n the number of elements reduced (NaN when none):
    the same two NumPy calls as ``Sum`` followed by ``Div`` by n, as one node (PyTorch's
    ``MeanBackward``).   VJP: grad / n broadcast back to x's shape.   JVP: mean of x_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, axis, keepdim, n):
        ctx.n = n
        return Sum.forward(ctx, x, axis, keepdim) / n  # (a NumPy scalar: apply makes it 0-d)

    @staticmethod
    def backward(ctx, grad):
        g = Div.apply(grad, ctx.n)
        if not ctx.keepdim:
            g = Reshape.apply(g, _kept_shape(ctx.x_shape, ctx.axis))
        return Expand.apply(g, ctx.x_shape), None, None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return Mean.apply(x_dot, ctx.axis, ctx.keepdim, ctx.n)

    name = Sum.name  # MeanBackward0 / MeanBackward1


class Amax(Function):
    """out = max of x over ``axis``.   VJP: grad shared evenly among the elements equal to
    the maximum (PyTorch's amax rule for ties).   JVP: mean of x_dot over the maximisers."""

    _arrays = True
    _np = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        out = cls._np(x, axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdim = axis, keepdim
        return out

    @staticmethod
    def _weights(ctx):
        x, out = ctx.saved_tensors
        mask = (x == _keep(out, x.shape, ctx.axis, ctx.keepdim)).to(x.dtype)
        return mask / mask.sum(ctx.axis, keepdim=True)

    @classmethod
    def backward(cls, ctx, grad):
        x_shape = ctx.saved_tensors[0].shape
        return _keep(grad, x_shape, ctx.axis, ctx.keepdim) * cls._weights(ctx), None, None

    @classmethod
    def jvp(cls, ctx, x_dot, *_):
        return (x_dot * cls._weights(ctx)).sum(ctx.axis, keepdim=ctx.keepdim)


class Amin(Amax):
    """out = min of x over ``axis``; rules as Amax."""

    _np = staticmethod(np.min)


class Prod(Function):
    """out = product of x over ``axis``.

    VJP: grad * (product of the other elements), computed exactly even where x has zeros
    (exclusive cumulative products from both sides). The product of the others is computed
    in forward, so a second derivative through Prod is not available.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        out = np.prod(x, axis=axis, keepdims=keepdim)
        if axis is None:
            flat = x.reshape(-1)
            others = _prod_others(flat, 0).reshape(x.shape)
        else:
            (a,) = axis
            others = _prod_others(x, a)
        ctx.save_for_backward(others)
        ctx.axis, ctx.keepdim, ctx.x_shape = axis, keepdim, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (others,) = ctx.saved_tensors
        return _keep(grad, ctx.x_shape, ctx.axis, ctx.keepdim) * others, None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        (others,) = ctx.saved_tensors
        return (x_dot * others).sum(ctx.axis, keepdim=ctx.keepdim)


def _prod_others(x, axis):
    """Product of all elements along ``axis`` except the one at each position."""
    n = x.shape[axis]
    ones_shape = list(x.shape)
    ones_shape[axis] = 1
    one = np.ones(ones_shape, x.dtype)
    left = np.concatenate([one, np.cumprod(np.take(x, range(n - 1), axis=axis), axis=axis)], axis)
    rx = np.flip(x, axis)
    right = np.concatenate([one, np.cumprod(np.take(rx, range(n - 1), axis=axis), axis=axis)], axis)
    return left * np.flip(right, axis)


class Cumsum(Function):
    """out_i = sum_{j <= i} x_j along ``dim``.   VJP: reversed cumulative sum of grad.
    JVP: cumsum of x_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        d = ctx.dim
        return Cumsum.apply(grad.flip(d), d).flip(d), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Cumsum.apply(x_dot, ctx.dim)


class LogSumExp(Function):
    """out = m + log(sum(exp(x - m))) over ``axis`` with m = max(x) (stable).
    VJP: grad * exp(x - out) (the softmax).   JVP: sum(x_dot * exp(x - out))."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(()) if axis is None else np.squeeze(out, axis)
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdim = axis, keepdim
        return out

    @staticmethod
    def _softmax(ctx):
        x, out = ctx.saved_tensors
        return (x - _keep(out, x.shape, ctx.axis, ctx.keepdim)).exp()

    @staticmethod
    def backward(ctx, grad):
        x_shape = ctx.saved_tensors[0].shape
        return _keep(grad, x_shape, ctx.axis, ctx.keepdim) * LogSumExp._softmax(ctx), None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return (x_dot * LogSumExp._softmax(ctx)).sum(ctx.axis, keepdim=ctx.keepdim)


class Softmax(Function):
    """out = exp(x - max) / sum(exp(x - max)) along ``dim``.
    VJP: out * (grad - sum(grad * out)).   JVP: out * (x_dot - sum(x_dot * out))."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(ctx.dim, keepdim=True)), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        (out,) = ctx.saved_tensors
        return out * (x_dot - (x_dot * out).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """out = x - logsumexp(x) along ``dim``.
    VJP: grad - exp(out) * sum(grad).   JVP: x_dot - sum(exp(out) * x_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim):
        s = x - np.max(x, axis=dim, keepdims=True)
        out = s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.dim, keepdim=True), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        (out,) = ctx.saved_tensors
        return x_dot - (out.exp() * x_dot).sum(ctx.dim, keepdim=True)
