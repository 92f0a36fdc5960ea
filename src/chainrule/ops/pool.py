"""Pooling primitives: max pooling and the linear pair "gather one/all window entries" and its
adjoint "scatter back into the input", on which max and average pooling are built.

A pooling window of output (h, w) at kernel offset (i, j) reads the padded input at
(h*s + i*d, w*s + j*d). Windows are separable (rows x cols), so each rule is two passes,
along W then along H, each a loop over the kernel offsets of that axis: offset i is one
strided slice of the input (with kernel == stride: the reshaped (N, C, H/k, k, W/k, k) view
at index i), so there is no Python loop over the batch or the pixels and no np.add.at.

``arg`` is the chosen offsets (max pooling: the first maximum in row-major window order, as
PyTorch; a NaN wins over numbers). ``arg=None`` means every offset (sum pooling).
"""

from __future__ import annotations

import sys

import numpy as np

from ..autograd.function import Function
from . import _parallel as P
from .unary import select


_PAIRS = sys.byteorder == "little"  # a uint64's low half is the first of two float32s


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

    __slots__ = ("x_hw", "k_hw", "stride", "pad", "dil", "out_hw", "buf_hw")

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

    def axis(self, ax):
        """(k, s, d, out, buf) of spatial axis ax (0: H, 1: W)."""
        return self.k_hw[ax], self.stride[ax], self.dil[ax], self.out_hw[ax], self.buf_hw[ax]

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
        """The chosen offsets -> PyTorch's index into the unpadded (H, W) plane, h * W + w."""
        a_h, a_w = arg
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.pad, self.dil
        ho, wo = self.out_hw
        brow = (np.arange(ho) * sh)[:, None] + a_h.astype(np.int64) * dh  # row in the buffer
        j = np.take_along_axis(a_w, brow, axis=-2).astype(np.int64)
        col = np.arange(wo) * sw + j * dw - pw
        return (brow - ph) * self.x_hw[1] + col


# Pooling is separable: a window is a product (rows x cols), so each rule runs along W
# (over all buffer rows) and then along H. Along one axis, offset i reads the strided slice
# i*d, i*d + s, ...; the max keeps the first maximum, so W-then-H gives the first maximum in
# row-major window order. ``arg`` = (rows offset per output, cols offset per buffer row x
# output col), int8 when the kernel allows.


def _sl(ax, i, k, s, d, o):
    return (Ellipsis, slice(i * d, i * d + s * (o - 1) + 1, s)) + ((slice(None),) if ax == 0 else ())


def _max_axis(x, ax, geom, has_nan):
    k, s, d, o, _ = geom.axis(ax)
    m = x[_sl(ax, 0, k, s, d, o)]
    arg = None
    for i in range(1, k):
        v = x[_sl(ax, i, k, s, d, o)]
        better = v > m
        if has_nan:
            better |= np.isnan(v)
        if i == 1:
            m = np.maximum(m, v)
            if k == 2:  # the offset is 0 or 1: the comparison itself (no copy)
                arg = better.view(np.int8)
                break
            arg = better.astype(np.int8 if k < 128 else np.int64)
        else:
            np.maximum(m, v, out=m)
            np.copyto(arg, i, where=better)
    if arg is None:  # k == 1
        return m.copy(), np.zeros(m.shape, np.int8)
    return m, arg


def _mask(arg, i, k):
    """int8 -1 where arg == i, else 0 (for k = 2, arg is 0/1: no comparison needed)."""
    if k == 2:
        return -arg if i == 1 else arg - 1
    return -(arg == i).view(np.int8)


def _gather_axis(x, arg, ax, geom):
    k, s, d, o, _ = geom.axis(ax)
    out = None
    for i in range(k):
        v = x[_sl(ax, i, k, s, d, o)]
        if arg is not None:
            v = select(v, _mask(arg, i, k))
        if out is None:
            out = v.copy() if arg is None else v
        else:
            out += v
    return out


def _scatter_axis(g, arg, ax, geom, out=None):
    k, s, d, o, n = geom.axis(ax)
    shape = list(g.shape)
    shape[ax - 2] = n
    overlap = s < d * (k - 1) + 1
    tiled = not overlap and d == 1 and s == k and n == o * k  # the slices cover buf exactly
    if out is not None:
        buf = out
        if not tiled:
            buf.fill(0)
    else:
        buf = np.empty(shape, g.dtype) if tiled else np.zeros(shape, g.dtype)
    if ax == 1 and k == 2 and tiled and arg is not None and _PAIRS and g.dtype == np.float32 \
            and arg.dtype == np.int8 and buf.flags.c_contiguous and g.flags.c_contiguous:
        # 2-wide windows along W: each pair of output floats is one uint64 holding g's bits
        # shifted into the chosen half (contiguous passes instead of two stride-2 writes)
        pairs = buf.view(np.uint64)
        np.copyto(pairs, g.view(np.uint32), casting="unsafe")
        np.left_shift(pairs, np.left_shift(arg.view(np.uint8), 5), out=pairs)
        return buf
    for i in range(k):
        idx = _sl(ax, i, k, s, d, o)
        if arg is None:
            if overlap:
                buf[idx] += g
            else:
                buf[idx] = g
        elif overlap:
            buf[idx] += select(g, _mask(arg, i, k))
        else:  # disjoint windows: write straight into the slice
            select(g, _mask(arg, i, k), out=buf[idx])
    return buf


def window_max(x, geom):
    """Max over each window and the offsets (arg) of its first maximum (NaN propagates)."""
    xb = geom.padded(x, -np.inf)
    for has_nan in (False, True):  # NaN-aware second pass only when a NaN reached the output
        m, a_w = _max_axis(xb, 1, geom, has_nan)
        out, a_h = _max_axis(m, 0, geom, has_nan)
        if out.dtype.kind != "f" or not np.isnan(out).any():
            break
    return out, (a_h, a_w)


def window_gather(x, arg, geom):
    """out = x_pad at each window's chosen offset (or the window sum when arg is None)."""
    a_h, a_w = (None, None) if arg is None else arg
    return _gather_axis(_gather_axis(geom.padded(x, 0), a_w, 1, geom), a_h, 0, geom)


def window_scatter(g, arg, geom, out=None):
    """The adjoint of window_gather: each window's value added back at its offset(s);
    into ``out`` (x's shape) when given."""
    a_h, a_w = (None, None) if arg is None else arg
    if out is not None and geom.buf_hw != geom.x_hw:  # cropped: not written in place
        np.copyto(out, window_scatter(g, arg, geom))
        return out
    return geom.crop(_scatter_axis(_scatter_axis(g, a_h, 0, geom), a_w, 1, geom, out))


def _batch_pieces(x):
    """The pool's pieces of x's first axis (pooling is independent along it), or None."""
    if P._N == 1 or x.ndim < 3:
        return None
    return P.pieces(x.shape[0], x.nbytes, arrays=(x,))


def split_max(x, geom):
    """``window_max`` over pieces of the batch (``_parallel``), joined in order."""
    if P.recording(x):
        out, a_h, a_w = P.record(_split_max_flat, x, geom)
        return out, (a_h, a_w)
    parts = _batch_pieces(x)
    if parts is None:
        return window_max(x, geom)
    lead = x.shape[:-2]
    (kh, kw), (ho, wo) = geom.k_hw, geom.out_hw
    out = np.empty(lead + (ho, wo), x.dtype)  # the shapes and dtypes window_max returns
    a_h = np.empty(lead + (ho, wo), np.int8 if kh < 128 else np.int64)
    a_w = np.empty(lead + (geom.buf_hw[0], wo), np.int8 if kw < 128 else np.int64)

    def work(lo, hi):  # each piece copies its results into place
        o, (h, w) = window_max(x[lo:hi], geom)
        out[lo:hi], a_h[lo:hi], a_w[lo:hi] = o, h, w

    P.run(work, parts)
    return out, (a_h, a_w)


def _split_max_flat(x, geom):
    out, (a_h, a_w) = split_max(x, geom)
    return out, a_h, a_w


def split_scatter(g, arg, geom):
    """``window_scatter`` over pieces of the batch, each written into its slice."""
    if P.recording(g):
        return P.record(split_scatter, g, arg, geom)
    parts = _batch_pieces(g)
    if parts is None or (arg is not None and any(type(a) is not np.ndarray for a in arg)):
        return window_scatter(g, arg, geom)
    out = np.empty(g.shape[:-2] + geom.x_hw, g.dtype)

    def work(lo, hi):
        a = None if arg is None else (arg[0][lo:hi], arg[1][lo:hi])
        window_scatter(g[lo:hi], a, geom, out[lo:hi])

    P.run(work, parts)
    return out


class MaxPool2d(Function):
    """out[n, c, h, w] = max over the window of x_pad (padding is -inf); with return_indices
    also the flat index h * W + w of the chosen (first) maximum, not differentiable.

    VJP: grad routed to the chosen element of each window (``WindowScatter``).
    JVP: x_dot at the chosen element (``WindowGather``).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, geom, return_indices):
        out, arg = split_max(x, geom)
        ctx.geom, ctx.arg, ctx.idx = geom, arg, return_indices
        if return_indices:
            return out, geom.flat_index(arg)
        return out

    @staticmethod
    def backward(ctx, grad, _=None):
        return WindowScatter.apply(grad, ctx.arg, ctx.geom), None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        out = WindowGather.apply(x_dot, ctx.arg, ctx.geom)
        return (out, None) if ctx.idx else out


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
        return split_scatter(g, arg, geom)

    @staticmethod
    def backward(ctx, grad):
        return WindowGather.apply(grad, ctx.arg, ctx.geom), None, None

    @staticmethod
    def jvp(ctx, g_dot, *_):
        return WindowScatter.apply(g_dot, ctx.arg, ctx.geom)
