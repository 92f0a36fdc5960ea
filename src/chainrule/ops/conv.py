"""Convolution primitives: im2col + one GEMM for the whole batch, and the two adjoints that
make up its backward.

All three primitives are bilinear pieces of one trilinear form ``T(x, w, y) = <conv(x, w), y>``:

* ``Conv2d``          out = conv(x, w) + b                 (d T / d y)
* ``ConvInputGrad``   out = conv^T_w(y)  (conv_transpose)  (d T / d x)
* ``ConvWeightGrad``  out = d T / d w  as a function of (x, y)

so the gradients of each are the other two, and double backward comes for free.

The array work is in ``_conv_kernels.py`` (layout: K-major columns (C*kh*kw, N*H_out*W_out),
one 2-D GEMM per pass, the column order chosen per call from the shapes; see DESIGN.md
"Convolution speed (issue 10)"). The forward columns are kept for the weight gradient.
``Unfold``/``Fold`` keep PyTorch's (N, C*kh*kw, L) layout (``im2col``/``col2im`` here).
1-D convolutions are 2-D ones with a kernel height of 1.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from . import _conv_kernels as K
from . import _conv_parallel as KP


class ConvGeom:
    """The static shape data of one 2-D convolution: input size, kernel size, stride,
    padding ``((top, bottom), (left, right))``, dilation, groups and the derived sizes."""

    __slots__ = ("x_hw", "k_hw", "stride", "pad", "dil", "groups", "out_hw", "pad_hw")

    def __init__(self, x_hw, k_hw, stride, pad, dil, groups):
        self.x_hw, self.k_hw, self.stride = tuple(x_hw), tuple(k_hw), tuple(stride)
        self.pad, self.dil, self.groups = tuple(pad), tuple(dil), groups
        self.pad_hw = tuple(n + a + b for n, (a, b) in zip(self.x_hw, self.pad))
        self.out_hw = tuple(
            (p - d * (k - 1) - 1) // s + 1
            for p, k, s, d in zip(self.pad_hw, self.k_hw, self.stride, self.dil)
        )


def _padded(x, geom):
    """x (N, C, H, W) zero-padded to (N, C, Hp, Wp) (x itself when there is no padding)."""
    (pt, pb), (pl, pr) = geom.pad
    if pt == pb == pl == pr == 0:
        return x
    buf = np.zeros(x.shape[:2] + geom.pad_hw, x.dtype)
    buf[:, :, pt : pt + geom.x_hw[0], pl : pl + geom.x_hw[1]] = x
    return buf


def im2col(x, geom):
    """cols[n, (c, i, j), (h, w)] = x_pad[n, c, h*s + i*d, w*s + j*d] -> (N, C*kh*kw, H_out*W_out)
    (``F.unfold``'s layout): one copy of a strided view of the padded input."""
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
    One strided slice-add per kernel offset; no np.add.at."""
    n = cols.shape[0]
    kh, kw = geom.k_hw
    dh, dw = geom.dil
    hp, wp = geom.pad_hw
    ho, wo = geom.out_hw
    (pt, _), (pl, _) = geom.pad
    h, w = geom.x_hw
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


def _saved_cols(cols, x, geom):
    """The forward's ``(order, columns)`` if they are the columns of this x, else None."""
    if cols is None:
        return None
    order, arr = cols
    k = x.shape[1] * geom.k_hw[0] * geom.k_hw[1]
    if arr.shape[0] not in (k, k + 1) or arr.shape[1] != x.shape[0] * geom.out_hw[0] * geom.out_hw[1]:
        return None
    return order, arr  # k + 1 rows: a last row of ones carried the bias in the forward GEMM


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
        need = ctx.needs_input_grad
        order = K.choose_order(x.shape[0], x.shape[1], w.shape[0], geom, forward=True,
                               weight=need[1])
        out, cols = KP.conv_forward(x, w, b, geom, order, keep=need[1])
        # the columns (None when too big to keep) only serve the weight gradient
        ctx.geom, ctx.order = geom, order
        ctx.save_for_backward(x, w, cols)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        need, geom = ctx.needs_input_grad, ctx.geom
        gx = ConvInputGrad.apply(grad, w, geom) if need[0] else None
        gw = gb = None
        if need[1]:  # the bias gradient comes out of the weight gradient's GEMM
            hint = None if cols is None else (ctx.order, cols._data)
            res = ConvWeightGrad.apply(x, grad, geom, hint, need[2])
            gw, gb = res if need[2] else (res, None)
        elif need[2]:
            gb = grad.sum(0).sum((1, 2))  # NumPy: 2x faster than one sum over (0, 2, 3)
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
        order = K.choose_order(y.shape[0], w.shape[1] * geom.groups, y.shape[1], geom,
                               inputs=True)
        return KP.conv_input_grad(y, w, geom, order)

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
    """out = d<conv(x, w), y>/dw, shape (O, C/g, kh, kw); with ``bias`` also
    d<conv(x, w) + b, y>/db = y summed over (N, H_out, W_out). ``cols`` optionally gives
    the forward pass's ``(order, columns)`` of x (see ``_conv_kernels``), or None.

    VJP (G of w's shape, G_b of b's): x gets conv^T_G(y); y gets conv(x, G) + G_b.
    JVP: ConvWeightGrad(x_dot, y) + ConvWeightGrad(x, y_dot); for b: y_dot summed.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y, geom, cols, bias=False):
        ctx.geom, ctx.bias = geom, bias
        ctx.save_for_backward(x, y)
        cols = _saved_cols(cols, x, geom)
        if cols is None:
            order = K.choose_order(x.shape[0], x.shape[1], y.shape[1], geom, weight=True)
            return KP.conv_weight_grad(x, y, geom, order, None, bias)
        return KP.conv_weight_grad(x, y, geom, cols[0], cols[1], bias)

    @staticmethod
    def backward(ctx, grad, grad_b=None):
        x, y = ctx.saved_tensors
        need, geom = ctx.needs_input_grad, ctx.geom
        gx = ConvInputGrad.apply(y, grad, geom) if need[0] else None
        gy = Conv2d.apply(x, grad, grad_b if ctx.bias else None, geom) if need[1] else None
        return gx, gy, None, None, None

    @staticmethod
    def jvp(ctx, x_dot, y_dot, *_):
        x, y = ctx.saved_tensors
        geom = ctx.geom
        gw = ConvWeightGrad.apply(x_dot, y, geom, None) + ConvWeightGrad.apply(x, y_dot, geom, None)
        if ctx.bias:
            return gw, y_dot.sum(0).sum((1, 2))
        return gw


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
