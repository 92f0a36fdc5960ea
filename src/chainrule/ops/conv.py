"""Convolution primitives: im2col + one GEMM, and the two adjoints that make up its backward.

All three primitives are bilinear pieces of one trilinear form ``T(x, w, y) = <conv(x, w), y>``:

* ``Conv2d``          out = conv(x, w) + b                 (d T / d y)
* ``ConvInputGrad``   out = conv^T_w(y)  (conv_transpose)  (d T / d x)
* ``ConvWeightGrad``  out = d T / d w  as a function of (x, y)

so the gradients of each are the other two, and double backward comes for free.

Layout (measured on this machine; see DESIGN.md "Convolution and pooling"): the columns are
``(N, C*kh*kw, H_out*W_out)``, one copy of an as_strided view, and one batched GEMM
``W (O, C*kh*kw) @ cols`` gives NCHW directly (contiguous). The forward columns are kept
for the weight gradient ``sum_n cols_n @ grad_n^T``. The input gradient ``W^T @ grad``
is scattered back by col2im, one slice-add per kernel offset (no np.add.at); with stride 1
it uses the "wide" layout: ``L = H_out * W_pad`` (the gradient zero-widened to every padded
column), so each kernel offset is one contiguous slice of the flattened padded input.
1-D convolutions are 2-D ones with a kernel height of 1.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function


class ConvGeom:
    """The static shape data of one 2-D convolution: input size, kernel size, stride,
    padding ``((top, bottom), (left, right))``, dilation, groups and the derived sizes."""

    __slots__ = ("x_hw", "k_hw", "stride", "pad", "dil", "groups", "out_hw", "pad_hw", "wide")

    def __init__(self, x_hw, k_hw, stride, pad, dil, groups, allow_wide=True):
        self.x_hw, self.k_hw, self.stride = tuple(x_hw), tuple(k_hw), tuple(stride)
        self.pad, self.dil, self.groups = tuple(pad), tuple(dil), groups
        self.pad_hw = tuple(n + a + b for n, (a, b) in zip(self.x_hw, self.pad))
        self.out_hw = tuple(
            (p - d * (k - 1) - 1) // s + 1
            for p, k, s, d in zip(self.pad_hw, self.k_hw, self.stride, self.dil)
        )
        # the input gradient's col2im uses the wide layout (see the module docstring)
        self.wide = allow_wide and self.stride == (1, 1)


def _padded(x, geom):
    """x (N, C, H, W) zero-padded to (N, C, Hp, Wp) (x itself when there is no padding)."""
    (pt, pb), (pl, pr) = geom.pad
    if pt == pb == pl == pr == 0:
        return x
    buf = np.zeros(x.shape[:2] + geom.pad_hw, x.dtype)
    buf[:, :, pt : pt + geom.x_hw[0], pl : pl + geom.x_hw[1]] = x
    return buf


def im2col(x, geom):
    """cols[n, (c, i, j), (h, w)] = x_pad[n, c, h*s + i*d, w*s + j*d] -> (N, C*kh*kw, H_out*W_out):
    one copy of a strided view of the padded input."""
    n, c = x.shape[:2]
    kh, kw = geom.k_hw
    dh, dw = geom.dil
    ho, wo = geom.out_hw
    xp = _padded(x, geom)
    sn, sc, sh, sw = xp.strides
    sth, stw = geom.stride
    view = as_strided(xp, (n, c, kh, kw, ho, wo), (sn, sc, sh * dh, sw * dw, sh * sth, sw * stw))
    return np.ascontiguousarray(view).reshape(n, c * kh * kw, ho * wo)


def col2im(cols, geom, c):
    """The adjoint of im2col: add each column entry back to its input pixel -> (N, C, H, W).
    One strided (or, wide, contiguous) slice-add per kernel offset; no np.add.at."""
    n = cols.shape[0]
    kh, kw = geom.k_hw
    dh, dw = geom.dil
    hp, wp = geom.pad_hw
    ho, wo = geom.out_hw
    (pt, _), (pl, _) = geom.pad
    h, w = geom.x_hw
    if geom.wide:
        L = ho * wp
        cols = cols.reshape(n, c, kh, kw, L)
        acc = np.zeros((n, c, hp * wp + (kw - 1) * dw), cols.dtype)
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                acc[:, :, off : off + L] += cols[:, :, i, j]
        acc = acc[:, :, : hp * wp].reshape(n, c, hp, wp)
    else:
        sth, stw = geom.stride
        cols = cols.reshape(n, c, kh, kw, ho, wo)
        acc = np.zeros((n, c, hp, wp), cols.dtype)
        for i in range(kh):
            for j in range(kw):
                hs, ws = i * dh, j * dw
                acc[:, :, hs : hs + sth * (ho - 1) + 1 : sth, ws : ws + stw * (wo - 1) + 1 : stw] += (
                    cols[:, :, i, j]
                )
    return acc[:, :, pt : pt + h, pl : pl + w]


def _to_cols(y, geom):
    """y (N, O, H_out, W_out) -> (N, O, L), zero-widened in the wide layout."""
    n, o, ho, wo = y.shape
    if geom.wide:
        wp = geom.pad_hw[1]
        if wp != wo:
            yw = np.zeros((n, o, ho, wp), y.dtype)
            yw[:, :, :, :wo] = y
            y = yw
        return y.reshape(n, o, ho * wp)
    return y.reshape(n, o, ho * wo)


def _grouped(a, g, axis):
    """Split ``axis`` of a into (g, size/g)."""
    s = a.shape
    return a.reshape(s[:axis] + (g, s[axis] // g) + s[axis + 1 :])


_KEEP_BYTES = 1 << 26  # forward columns up to 64 MB are kept for the weight gradient
_BIG_BLOCK_BYTES = 1 << 23  # larger ones are built 8 MB at a time (and rebuilt in backward)


def _col_bytes(x, geom):
    """Bytes of im2col(x) per sample."""
    return x.shape[1] * geom.k_hw[0] * geom.k_hw[1] * geom.out_hw[0] * geom.out_hw[1] * x.itemsize


def _sample_blocks(n, per_sample, budget):
    step = max(1, budget // max(per_sample, 1))
    return [slice(s, s + step) for s in range(0, n, step)]


def _gemm(w, cols, g):
    """W @ cols per sample, by groups: (O, C/g*k*k) x (N, C*k*k, L) -> (N, O, L)."""
    o = w.shape[0]
    if g == 1:
        return np.matmul(w.reshape(o, -1), cols)
    out = np.matmul(w.reshape(g, o // g, -1), _grouped(cols, g, 1))
    return out.reshape(cols.shape[0], o, -1)


def conv_gemm(x, w, geom, b=None):
    """conv(x, w) + b as arrays: (N, C, H, W), (O, C/g, kh, kw) -> (N, O, H_out, W_out); also
    the columns (kept for the weight gradient), or None when they would exceed 64 MB: then
    the forward runs over blocks of samples, bounding its memory, and backward rebuilds them."""
    n, o = x.shape[0], w.shape[0]
    per_sample = _col_bytes(x, geom)
    if per_sample * n <= _KEEP_BYTES:
        cols = im2col(x, geom)
        out = _gemm(w, cols, geom.groups)
    else:
        cols = None
        out = np.empty((n, o, geom.out_hw[0] * geom.out_hw[1]), x.dtype)
        for blk in _sample_blocks(n, per_sample, _BIG_BLOCK_BYTES):
            out[blk] = _gemm(w, im2col(x[blk], geom), geom.groups)
    if b is not None:
        out += b.reshape(-1, 1)
    return out.reshape((n, o) + geom.out_hw), cols


_BLOCK_BYTES = 1 << 21  # block of the input-gradient columns: still in cache for col2im


def conv_input_grad(y, w, geom):
    """conv^T_w(y): (N, O, H_out, W_out) -> (N, C, H, W) (the input gradient for grad y).
    One GEMM and col2im per block of samples, so the columns are still in cache when
    col2im reads them (measured ~20% faster than one GEMM over the whole batch)."""
    g, n = geom.groups, y.shape[0]
    yc = _to_cols(y, geom)
    c = w.shape[1] * g
    if g == 1:
        wt = np.ascontiguousarray(w.reshape(w.shape[0], -1).T)
    else:
        wt = np.ascontiguousarray(w.reshape(g, w.shape[0] // g, -1).transpose(0, 2, 1))
    per_sample = c * geom.k_hw[0] * geom.k_hw[1] * yc.shape[-1] * y.itemsize
    out = np.empty((n, c) + geom.x_hw, y.dtype)
    for blk in _sample_blocks(n, per_sample, _BLOCK_BYTES):
        yb = yc[blk]
        if g == 1:
            gc = np.matmul(wt, yb)
        else:
            gc = np.matmul(wt, _grouped(yb, g, 1)).reshape(yb.shape[0], -1, yb.shape[-1])
        out[blk] = col2im(gc, geom, c)
    return out


def _to_cols_t(y):
    """y (N, O, H_out, W_out) -> (N, H_out*W_out, O) (contiguous)."""
    n, o, ho, wo = y.shape
    return np.ascontiguousarray(y.reshape(n, o, ho * wo).transpose(0, 2, 1))


def conv_weight_grad(x, y, geom, cols=None):
    """sum over n, l of y[n, o, l] * cols(x)[n, (c, i, j), l] -> (O, C/g, kh, kw).
    Computed as sum_n cols_n @ y_n^T with both operands contiguous (NumPy's batched matmul
    is much slower with a transposed operand); without given columns, block by block."""
    g, o = geom.groups, y.shape[1]
    yt = _to_cols_t(y)
    if cols is not None:
        blocks = [(cols, yt)]
    else:
        blocks = (
            (im2col(x[blk], geom), yt[blk])
            for blk in _sample_blocks(x.shape[0], _col_bytes(x, geom), _BIG_BLOCK_BYTES)
        )
    gw = 0
    for c_blk, y_blk in blocks:
        if g == 1:
            gw = gw + np.matmul(c_blk, y_blk).sum(0)
        else:
            prod = np.matmul(_grouped(c_blk, g, 1), _grouped(y_blk, g, 2).transpose(0, 2, 1, 3))
            gw = gw + prod.sum(0)
    gw = gw.T if g == 1 else gw.transpose(0, 2, 1)
    return np.ascontiguousarray(gw).reshape((o, x.shape[1] // g) + geom.k_hw)


class Conv2d(Function):
    """out[n, o] = b[o] + sum_{c, i, j} w[o, c, i, j] * x_pad[n, g(o)*C/g + c, h*s + i*d, w*s + j*d]
    (cross-correlation, as PyTorch).

    VJP: x gets conv^T_w(grad) (``ConvInputGrad``), w gets ``ConvWeightGrad(x, grad)``,
    b gets grad summed over (N, H_out, W_out).
    JVP: conv(x_dot, w) + conv(x, w_dot) + b_dot.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, w, b, geom):
        ctx.geom = geom
        out, cols = conv_gemm(x, w, geom, b)
        # cols (None when too big to keep) only serve the weight gradient
        ctx.save_for_backward(x, w, cols if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        need, geom = ctx.needs_input_grad, ctx.geom
        gx = ConvInputGrad.apply(grad, w, geom) if need[0] else None
        gw = None
        if need[1]:
            gw = ConvWeightGrad.apply(x, grad, geom, None if cols is None else cols._data)
        gb = grad.sum((0, 2, 3)) if need[2] else None
        return gx, gw, gb, None

    @staticmethod
    def jvp(ctx, x_dot, w_dot, b_dot, _):
        x, w, _ = ctx.saved_tensors
        geom = ctx.geom
        return Conv2d.apply(x_dot, w, b_dot, geom) + Conv2d.apply(x, w_dot, None, geom)


class ConvInputGrad(Function):
    """out = conv^T_w(y), the adjoint of x -> conv(x, w): <conv(x, w), y> = <x, out>
    (this is conv_transpose2d with the weight read as (C_in, C_out/g, kh, kw)).

    VJP: y gets conv(grad, w); w gets ConvWeightGrad(grad, y).
    JVP: conv^T_w(y_dot) + conv^T_{w_dot}(y).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, y, w, geom):
        ctx.geom = geom
        ctx.save_for_backward(y, w)
        return conv_input_grad(y, w, geom)

    @staticmethod
    def backward(ctx, grad):
        y, w = ctx.saved_tensors
        need, geom = ctx.needs_input_grad, ctx.geom
        gy = Conv2d.apply(grad, w, None, geom) if need[0] else None
        gw = ConvWeightGrad.apply(grad, y, geom, None) if need[1] else None
        return gy, gw, None

    @staticmethod
    def jvp(ctx, y_dot, w_dot, _):
        y, w = ctx.saved_tensors
        geom = ctx.geom
        return ConvInputGrad.apply(y_dot, w, geom) + ConvInputGrad.apply(y, w_dot, geom)


class ConvWeightGrad(Function):
    """out = d<conv(x, w), y>/dw, shape (O, C/g, kh, kw); ``cols`` optionally gives im2col(x)
    already computed by the forward pass.

    VJP (G of w's shape): x gets conv^T_G(y); y gets conv(x, G).
    JVP: ConvWeightGrad(x_dot, y) + ConvWeightGrad(x, y_dot).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y, geom, cols):
        ctx.geom = geom
        ctx.save_for_backward(x, y)
        return conv_weight_grad(x, y, geom, cols)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need, geom = ctx.needs_input_grad, ctx.geom
        gx = ConvInputGrad.apply(y, grad, geom) if need[0] else None
        gy = Conv2d.apply(x, grad, None, geom) if need[1] else None
        return gx, gy, None, None

    @staticmethod
    def jvp(ctx, x_dot, y_dot, *_):
        x, y = ctx.saved_tensors
        geom = ctx.geom
        return ConvWeightGrad.apply(x_dot, y, geom, None) + ConvWeightGrad.apply(x, y_dot, geom, None)


class Unfold(Function):
    """out = im2col(x): (N, C, H, W) -> (N, C*kh*kw, L) (torch.nn.functional.unfold).
    VJP: Fold(grad) (col2im).   JVP: Unfold(x_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, geom):
        ctx.geom, ctx.c = geom, x.shape[1]
        return im2col(x, geom)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.geom, ctx.c), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Unfold.apply(x_dot, ctx.geom)


class Fold(Function):
    """out = col2im(cols): (N, C*kh*kw, L) -> (N, C, H, W), overlapping entries summed
    (torch.nn.functional.fold).   VJP: Unfold(grad).   JVP: Fold(cols_dot)."""

    _arrays = True

    @staticmethod
    def forward(ctx, cols, geom, c):
        ctx.geom, ctx.c = geom, c
        return np.ascontiguousarray(col2im(cols, geom, c))

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.geom), None, None

    @staticmethod
    def jvp(ctx, cols_dot, *_):
        return Fold.apply(cols_dot, ctx.geom, ctx.c)


class Pad(Function):
    """out = x with ``pads[d] = (before, after)`` entries of ``value`` added on each side of
    dim d (negative amounts crop).   VJP: Pad(grad, -pads, 0) (crop back; a crop's adjoint
    is zero padding).   JVP: Pad(x_dot, pads, 0)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, pads))
        x = x[crop]
        grow = [(max(b, 0), max(a, 0)) for b, a in pads]
        if not any(b or a for b, a in grow):
            return x.copy()
        out = np.full(tuple(n + b + a for n, (b, a) in zip(x.shape, grow)), value, x.dtype)
        out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, grow))] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return Pad.apply(grad, tuple((-b, -a) for b, a in ctx.pads), 0), None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return Pad.apply(x_dot, ctx.pads, 0)
