"""Functional 3-D convolution (``torch.nn.functional``): ``conv3d``, ``conv_transpose3d`` and
``conv_tbc``, composed from the 2-D convolution primitives.

conv3d: the depth axis is unrolled -- the kD depth slices x_pad[:, :, i dD :: sD] (one per
depth offset of the kernel) are stacked into the channel axis and every output depth plane
becomes a batch entry, so one 2-D convolution with the weight (O, kD * C/g, kH, kW) computes
sum_i conv2d(slice_i, w[:, :, i]) for all planes at once (a depth im2col). conv_transpose3d
is its adjoint: one conv_transpose2d gives every depth offset's contribution, and ``fold``
(col2im along depth) adds them into the output planes. Gradients, double backward and
forward mode come from the 2-D primitives, fold and the shape ops.
"""

from __future__ import annotations

import numpy as np

from ..functions.shape import stack
from ..tensor import Tensor
from ._spatial import _check_tensor, _conv_padding, conv1d, conv2d, conv_transpose2d, fold, pad
from ._spatial import tuple_arg

__all__ = ["conv3d", "conv_tbc", "conv_transpose3d"]


def _groups(groups, op):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    return int(groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D cross-correlation: out[n, o, d, h, w] = b[o] + sum_{c, i, j, l}
    w[o, c, i, j, l] x[n, c, d sD + i dD - pD, h sH + j dH - pH, w sW + l dW - pW].

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).  bias: (C_out,) or None.
        stride, dilation: int or (sD, sH, sW).  padding: int, a triple, "valid" or "same"
            (stride 1; an odd total pads one more at the end, as PyTorch).
        groups: independent channel groups.

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = floor((D + 2 pD - dD (kD - 1) - 1) / sD) + 1 (likewise H_out, W_out).

    Example::

        >>> F.conv3d(cr.randn(2, 3, 8, 8, 8), cr.randn(4, 3, 3, 3, 3), padding=1).shape
        chainrule.Size([2, 4, 8, 8, 8])
    """
    op = "conv3d"
    _check_tensor(input, (4, 5), op)
    _check_tensor(weight, (5,), op, "weight")
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    g = _groups(groups, op)
    o, cg, kd, kh, kw = weight.shape
    n, c = input.shape[:2]
    if c != cg * g or o % g:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {c} channels but weight of shape "
            f"{tuple(weight.shape)} with groups={g} expects {cg * g} (and out_channels={o} "
            "divisible by groups)")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and weight ({weight.dtype}) dtypes differ")
    s = tuple_arg(stride, 3, "stride", op, minimum=1)
    d = tuple_arg(dilation, 3, "dilation", op, minimum=1)
    pads = _conv_padding(padding, (kd, kh, kw), d, s, op)
    if all(a == b for a, b in pads):  # depth padded here, height/width by conv2d
        x = pad(input, (0, 0, 0, 0) + pads[0]) if pads[0][0] else input
        hw_pad = (pads[1][0], pads[2][0])
    else:  # "same" with an odd total: every dim padded here
        x, hw_pad = pad(input, tuple(v for pr in reversed(pads) for v in pr)), (0, 0)
    dp = x.shape[2]
    d_out = (dp - d[0] * (kd - 1) - 1) // s[0] + 1
    if d_out < 1 or x.shape[3] + 2 * hw_pad[0] < d[1] * (kh - 1) + 1 or \
            x.shape[4] + 2 * hw_pad[1] < d[2] * (kw - 1) + 1:
        raise ValueError(
            f"{op}: kernel size {(kd, kh, kw)} (dilation {d}) is larger than the padded input "
            f"(input shape {tuple(input.shape)}, padding {padding!r})")
    span = s[0] * (d_out - 1) + 1
    slices = [x[:, :, i * d[0]: i * d[0] + span: s[0]] for i in range(kd)]  # (N, C, Do, H, W)
    cols = stack(slices, 1) if kd > 1 else slices[0].unsqueeze(1)  # (N, kD, C, Do, H, W)
    h, w = x.shape[3:]
    cols = cols.reshape(n, kd, g, cg, d_out, h, w).permute(0, 4, 2, 1, 3, 5, 6)
    cols = cols.reshape(n * d_out, g * kd * cg, h, w)
    w2 = weight.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, kh, kw)
    out = conv2d(cols, w2, None, s[1:], hw_pad, d[1:], g)  # (N Do, O, Ho, Wo)
    out = out.reshape(n, d_out, o, *out.shape[2:]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1, 1)
    return out


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """Transposed 3-D convolution: the adjoint of conv3d in its input,
    <conv3d(x, w), y> = <x, conv_transpose3d(y, w)> (plus the bias).

    Args:
        input: (N, C_in, D, H, W) or unbatched.  weight: (C_in, C_out / groups, kD, kH, kW).
        bias: (C_out,) or None.  stride, padding, dilation: as the conv3d it is the adjoint of.
        output_padding: extra size at the end of each output dim (< stride or < dilation).

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1.

    Example::

        >>> F.conv_transpose3d(cr.randn(1, 4, 3, 3, 3), cr.randn(4, 2, 2, 2, 2), stride=2).shape
        chainrule.Size([1, 2, 6, 6, 6])
    """
    op = "conv_transpose3d"
    _check_tensor(input, (4, 5), op)
    _check_tensor(weight, (5,), op, "weight")
    if input.ndim == 4:
        return conv_transpose3d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    g = _groups(groups, op)
    cin, cog, kd, kh, kw = weight.shape
    n, c, di = input.shape[:3]
    if c != cin or cin % g:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {c} channels but weight of shape "
            f"{tuple(weight.shape)} expects {cin} (divisible by groups={g})")
    if bias is not None and tuple(bias.shape) != (cog * g,):
        raise ValueError(f"{op}: bias must have shape ({cog * g},), got {tuple(bias.shape)}")
    s = tuple_arg(stride, 3, "stride", op, minimum=1)
    p = tuple_arg(padding, 3, "padding", op, minimum=0)
    opad = tuple_arg(output_padding, 3, "output_padding", op, minimum=0)
    d = tuple_arg(dilation, 3, "dilation", op, minimum=1)
    if any(a >= si and a >= dl for a, si, dl in zip(opad, s, d)):
        raise ValueError(f"{op}: output_padding {opad} must be smaller than either stride {s} "
                         f"or dilation {d}")
    d_out = (di - 1) * s[0] - 2 * p[0] + d[0] * (kd - 1) + opad[0] + 1
    if d_out < 1:
        raise ValueError(f"{op}: computed output depth {d_out} is too small "
                         f"(input {tuple(input.shape)})")
    planes = input.permute(0, 2, 1, 3, 4).reshape(n * di, c, *input.shape[3:])
    w2 = weight.permute(0, 2, 1, 3, 4).reshape(cin, kd * cog, kh, kw)  # (g, kD, co) outputs
    z = conv_transpose2d(planes, w2, None, s[1:], p[1:], opad[1:], g, d[1:])
    ho, wo = z.shape[2:]
    z = z.reshape(n, di, g, kd, cog, ho, wo).permute(0, 2, 4, 5, 6, 3, 1)  # (N,g,co,H,W,kD,Di)
    full = (di - 1) * s[0] + d[0] * (kd - 1) + 1  # every output depth before cropping
    out = fold(z.reshape(n, g * cog * ho * wo * kd, di), (full, 1), (kd, 1), (d[0], 1), 0,
               (s[0], 1))  # (N, C_out H W, full, 1): adds each depth offset's contribution
    out = out.reshape(n, g * cog, ho, wo, full)
    if p[0] + d_out > full:
        out = pad(out, (0, p[0] + d_out - full))
    out = out[..., p[0]: p[0] + d_out].permute(0, 1, 4, 2, 3)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1, 1)
    return out


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:  # noqa: A002
    """1-D convolution over time-batch-channel input (fairseq's layout):
    out[t, b, o] = bias[o] + sum_{k, c} weight[k, c, o] x[t + k - pad, b, c].

    Shape: input (T, B, C_in), weight (K, C_in, C_out), bias (C_out,) ->
    (T + 2 pad - K + 1, B, C_out).

    Example::

        >>> F.conv_tbc(cr.randn(10, 2, 3), cr.randn(3, 3, 4), cr.zeros(4), 1).shape
        chainrule.Size([10, 2, 4])
    """
    _check_tensor(input, (3,), "conv_tbc")
    _check_tensor(weight, (3,), "conv_tbc", "weight")
    x = input.permute(1, 2, 0)  # (B, C_in, T)
    w = weight.permute(2, 1, 0)  # (C_out, C_in, K)
    return conv1d(x, w, bias, 1, int(pad)).permute(2, 0, 1)
