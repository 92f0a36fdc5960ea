"""Fused primitives of ``chainrule.nn`` (stability or speed): Erf, BinaryCrossEntropy,
BCEWithLogits, CrossEntropy. See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf(x) in float64 to ~1e-15 (NumPy has no erf).

    |x| < 2.5: the all-positive series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n x (2x^2)^n /
    (1*3*...*(2n+1)) (no cancellation), by Horner's rule; 2.5 <= |x| < 6: the continued
    fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))));
    |x| >= 6: +-1 (erfc(6) < 3e-17). float32 inputs use fewer terms (error < 1e-10).
    """
    wide = x.dtype == np.float64
    n_series, depth = (40, 60) if wide else (28, 40)
    x64 = np.asarray(x, np.float64)
    a = np.abs(x64)
    small = a < 2.5
    all_small = bool(small.all())
    xs = x64 if all_small else x64[small]
    x2 = xs * xs
    s = np.ones_like(xs)
    for n in range(n_series - 1, 0, -1):
        s *= x2
        s *= 2.0 / (2 * n + 1)
        s += 1.0
    np.negative(x2, out=x2)
    np.exp(x2, out=x2)
    s *= x2
    s *= xs
    s *= _TWO_OVER_SQRT_PI
    if all_small:
        return s
    out = np.empty_like(x64)
    out[small] = s
    big = ~small
    ab = np.minimum(a[big], 6.0)
    f = ab.copy()
    for k in range(depth, 0, -1):
        f = ab + (k / 2) / f
    erfc = np.exp(-ab * ab) / (math.sqrt(math.pi) * f)
    out[big] = np.sign(x64[big]) * (1.0 - erfc)
    return out


class Erf(Function):
    """out = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt.

    VJP: grad * 2/sqrt(pi) * exp(-x^2).   JVP: x_dot * 2/sqrt(pi) * exp(-x^2).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x).astype(x.dtype, copy=False)

    @staticmethod
    def _d(x):
        return (-(x * x)).exp() * _TWO_OVER_SQRT_PI

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Erf._d(x)

    @staticmethod
    def jvp(ctx, x_dot):
        (x,) = ctx.saved_tensors
        return x_dot * Erf._d(x)


def _softplus_neg(x: Tensor) -> Tensor:
    """softplus(-x) = log(1 + exp(-x)), stable: max(-x, 0) + log1p(exp(-|x|))."""
    return (-x).clamp(min=0) + (-x.abs()).exp().log1p()


class BCEWithLogits(Function):
    """out = (1 - y) x + l * softplus(-x) with l = 1 + (pos_weight - 1) y (l = 1 without
    pos_weight): the binary cross-entropy of sigmoid(x), finite for any logit.

    VJP: x: grad * ((1 - y) - l * sigmoid(-x));  y: grad * (-x + (pos_weight - 1) softplus(-x));
    pos_weight: grad * y * softplus(-x).   JVP: the same partials times the tangents.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        ctx.save_for_backward(x, y, pos_weight)
        if pos_weight is None:
            return (1 - y) * x + sp
        return (1 - y) * x + (1 + (pos_weight - 1) * y) * sp

    @staticmethod
    def _partials(ctx, need):
        x, y, pw = ctx.saved_tensors
        dx = None
        if need[0]:  # (1 - y) - l sigmoid(-x); with l = 1 this is sigmoid(x) - y
            if pw is None:
                dx = x.sigmoid() - y
            else:
                dx = (1 - y) - ((pw - 1) * y + 1) * (-x).sigmoid()
        sp = _softplus_neg(x) if (need[1] or need[2]) else None
        dy = None
        if need[1]:
            dy = -x if pw is None else (pw - 1) * sp - x
        dpw = y * sp if need[2] else None
        return dx, dy, dpw

    @staticmethod
    def backward(ctx, grad):
        parts = BCEWithLogits._partials(ctx, ctx.needs_input_grad)
        return tuple(None if d is None else grad * d for d in parts)

    @staticmethod
    def jvp(ctx, x_dot, y_dot, pw_dot):
        dots = (x_dot, y_dot, pw_dot)
        parts = BCEWithLogits._partials(ctx, [d is not None for d in dots])
        out = None
        for d, t in zip(parts, dots):
            if d is not None:
                out = t * d if out is None else out + t * d
        return out


class BinaryCrossEntropy(Function):
    """out = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100)) (logs clamped as PyTorch).

    VJP: x: grad * (x - y) / max(x (1 - x), 1e-12);  y: grad * (max(log(1-x), -100) -
    max(log x, -100)).   JVP: the same partials times the tangents.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        return -(y * lx + (1 - y) * l1x)

    @staticmethod
    def _partials(ctx, need):
        x, y = ctx.saved_tensors
        dx = (x - y) / ((1 - x) * x).clamp(min=1e-12) if need[0] else None
        dy = None
        if need[1]:
            with np.errstate(divide="ignore"):
                dy = (-x).log1p().clamp(min=-100) - x.log().clamp(min=-100)
        return dx, dy

    @staticmethod
    def backward(ctx, grad):
        parts = BinaryCrossEntropy._partials(ctx, ctx.needs_input_grad)
        return tuple(None if d is None else grad * d for d in parts)

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        dx, dy = BinaryCrossEntropy._partials(ctx, (x_dot is not None, y_dot is not None))
        out = None if dx is None else x_dot * dx
        if dy is not None:
            out = y_dot * dy if out is None else out + y_dot * dy
        return out


class CrossEntropy(Function):
    """Per-sample cross-entropy of logits x (N, C, *) against class indices t (N, *):
    out_i = -sum_c a_ic log_softmax(x_i)_c with a_ic = (1 - eps) w_t [c = t_i] + eps w_c / C
    (0 where t_i == ignore_index; w = 1 without weights; eps = label smoothing).

    Fused log-softmax + NLL: one pass, finite for any logits (shifted by the max).
    VJP: grad_i * (softmax(x_i) * sum_c a_ic - a_i).   JVP: sum_c (softmax * A - a)_c x_dot_c.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, smoothing):
        shifted = x - np.max(x, axis=1, keepdims=True)
        lsm = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        valid = target != ignore_index
        t = np.where(valid, target, 0)[:, None]
        C = x.shape[1]
        a = np.zeros_like(x)
        w_t = valid.astype(x.dtype) if weight is None else np.where(valid, weight[t[:, 0]], 0)
        np.put_along_axis(a, t, ((1 - smoothing) * w_t)[:, None], axis=1)
        if smoothing > 0:
            w = np.ones(C, x.dtype) if weight is None else weight
            wshape = (1, C) + (1,) * (x.ndim - 2)
            a += (smoothing / C) * w.reshape(wshape) * valid[:, None]
        ctx.save_for_backward(x, a)
        return -np.sum(a * lsm, axis=1)

    @staticmethod
    def _dlogits(ctx):
        x, a = ctx.saved_tensors
        return x.softmax(1) * a.sum(1, keepdim=True) - a

    @staticmethod
    def backward(ctx, grad):
        return grad.unsqueeze(1) * CrossEntropy._dlogits(ctx), None, None, None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return (CrossEntropy._dlogits(ctx) * x_dot).sum(1)
