"""Pooling primitives: max pooling and the linear pair "gather one/all window entries" and its
adjoint "scatter back into the input", on which max and average pooling are built.

A pooling window of output (h, w) at kernel offset k = (i, j) reads the padded input at
(h*s + i*d, w*s + j*d). For a fixed offset these positions form one strided slice of the
padded input, so every rule is a loop over the kh*kw offsets of vectorised slice operations:
no Python loop over the batch or the pixels, no np.add.at. (With kernel == stride the slices
are the reshaped (N, C, H/k, k, W/k, k) view, one offset at a time.)

``arg`` is the chosen offset per output window (max pooling: the first maximum, as PyTorch;
a NaN wins over numbers). ``arg=None`` means every offset (sum pooling).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def pool_out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length (the last window must start inside input + left pad)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


class PoolGeom:
    """Static shape data of one 2-D pooling: input (H, W), kernel, stride, padding, dilation,
    ceil_mode, the output size and the padded buffer size covering every window."""

    __slots__ = ("x_hw", "k_hw", "stride", "pad", "dil", "out_hw", "buf_hw", "overlap")

    def __init__(self, x_hw, k_hw, stride, pad, dil, ceil_mode):
        self.x_hw, self.k_hw, self.stride = tuple(x_hw), tuple(k_hw), tuple(stride)
        self.pad, self.dil = tuple(pad), tuple(dil)
        self.out_hw = tuple(
            pool_out_size(*a, ceil_mode) for a in zip(x_hw, k_hw, stride, pad, dil)
        )
        self.buf_hw = tuple(
            max(n + 2 * p, (o - 1) * s + d * (k - 1) + 1)
            for n, p, o, s, d, k in zip(x_hw, pad, self.out_hw, stride, dil, k_hw)
        )
        self.overlap = any(s < d * (k - 1) + 1 for s, d, k in zip(stride, dil, k_hw))

    def slices(self):
        """(k, index) per kernel offset: x_buf[index] is the (N, C, H_out, W_out) slice."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.k_hw, self.stride, self.dil, self.out_hw
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
                yield i * kw + j, (Ellipsis, rows, cols)

    def padded(self, x, value):
        """x placed in a buffer of size buf_hw filled with ``value`` (x itself if none needed)."""
        (h, w), (ph, pw) = self.x_hw, self.pad
        if self.buf_hw == (h, w):
            return x
        buf = np.full(x.shape[:-2] + self.buf_hw, value, x.dtype)
        buf[..., ph : ph + h, pw : pw + w] = x
        return buf

    def crop(self, buf):
        (h, w), (ph, pw) = self.x_hw, self.pad
        if self.buf_hw == (h, w):
            return buf
        return np.ascontiguousarray(buf[..., ph : ph + h, pw : pw + w])

    def flat_index(self, arg):
        """The offset per window -> PyTorch's index into the unpadded (H, W) plane, h * W + w."""
        kw, (sh, sw), (ph, pw), (dh, dw) = self.k_hw[1], self.stride, self.pad, self.dil
        ho, wo = self.out_hw
        rows = (np.arange(ho) * sh - ph)[:, None] + (arg // kw) * dh
        cols = (np.arange(wo) * sw - pw) + (arg % kw) * dw
        return (rows * self.x_hw[1] + cols).astype(np.int64)


def window_max(x, geom):
    """Max over each window and the offset of its first maximum (NaN propagates)."""
    xb = geom.padded(x, -np.inf)
    has_nan = x.dtype.kind == "f" and bool(np.isnan(x).any())
    arg = np.zeros(x.shape[:-2] + geom.out_hw, np.int16 if np.prod(geom.k_hw) < 32000 else np.int64)
    out = None
    for k, idx in geom.slices():
        s = xb[idx]
        if out is None:
            out = s.copy()
            continue
        better = s > out
        if has_nan:
            better |= np.isnan(s)
        np.copyto(out, s, where=better)
        np.copyto(arg, k, where=better)
    return out, arg


def window_gather(x, arg, geom):
    """out = x_pad at each window's offset ``arg`` (or the window sum when arg is None)."""
    xb = geom.padded(x, 0)
    out = None
    for k, idx in geom.slices():
        s = xb[idx]
        if arg is not None:
            s = np.where(arg == k, s, 0)
        if out is None:
            out = s.copy() if arg is None else s
        else:
            out += s
    return out


def window_scatter(g, arg, geom):
    """The adjoint of window_gather: each window's value added back at its offset(s)."""
    buf = np.zeros(g.shape[:-2] + geom.buf_hw, g.dtype)
    for k, idx in geom.slices():
        if arg is None:
            buf[idx] += g
        elif geom.overlap:
            buf[idx] += np.where(arg == k, g, 0)
        else:  # disjoint windows: each input pixel receives at most one value
            np.copyto(buf[idx], g, where=arg == k)
    return geom.crop(buf)


class MaxPool2d(Function):
    """out[n, c, h, w] = max over the window of x_pad (padding is -inf); second output: the
    offset of the chosen (first) maximum, not differentiable.

    VJP: grad routed to the chosen element of each window (``WindowScatter``).
    JVP: x_dot at the chosen element (``WindowGather``).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, geom):
        out, arg = window_max(x, geom)
        ctx.geom, ctx.arg = geom, arg
        return out, arg

    @staticmethod
    def backward(ctx, grad, _=None):
        return WindowScatter.apply(grad, ctx.arg, ctx.geom), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return WindowGather.apply(x_dot, ctx.arg, ctx.geom), None


class WindowGather(Function):
    """out = x_pad[window offset arg] per window, or the sum over each window if arg is None
    (zero padding). Linear in x.   VJP: WindowScatter(grad).   JVP: WindowGather(x_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, arg, geom):
        ctx.geom, ctx.arg = geom, arg
        return window_gather(x, arg, geom)

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, ctx.arg, ctx.geom), None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return WindowGather.apply(x_dot, ctx.arg, ctx.geom)


class WindowScatter(Function):
    """out = zeros of x's shape with each window value g added at offset arg (or at every
    offset if arg is None): the adjoint of WindowGather.
    VJP: WindowGather(grad).   JVP: WindowScatter(g_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, g, arg, geom):
        ctx.geom, ctx.arg = geom, arg
        return window_scatter(g, arg, geom)

    @staticmethod
    def backward(ctx, grad):
        return WindowGather.apply(grad, ctx.arg, ctx.geom), None, None

    @staticmethod
    def jvp(ctx, g_dot, *_):
        return WindowScatter.apply(g_dot, ctx.arg, ctx.geom)
