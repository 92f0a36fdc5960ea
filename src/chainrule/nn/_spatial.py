"""Functional convolution, padding and unfold/fold (``torch.nn.functional`` semantics).

Pooling lives in ``_pooling_fn.py`` and resampling in ``_interpolate.py``; both are
re-exported here, so ``nn.functional`` needs only ``from ._spatial import *``.
"""

from __future__ import annotations


import numpy as np

from ..ops import conv as C
from ..ops.shape import Getitem
from ..tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "pad", "unfold", "fold",
]


def tuple_arg(v, n, name, op, minimum=None):
    """An int or a length-n sequence of ints -> tuple of n ints (checked against minimum)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        t = (int(v),) * n
    elif isinstance(v, (tuple, list)) and len(v) == n and all(isinstance(a, (int, np.integer)) for a in v):
        t = tuple(int(a) for a in v)
    elif isinstance(v, (tuple, list)) and len(v) == 1 and n > 1:
        return tuple_arg(v[0], n, name, op, minimum)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if minimum is not None and any(a < minimum for a in t):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return t


def _check_tensor(x, ndims, op, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in ndims:
        raise ValueError(
            f"{op}: expected a {' or '.join(f'{d}-D' for d in ndims)} {what}, got shape {tuple(x.shape)}"
        )


def _conv_padding(padding, k, d, stride, op):
    """padding int/tuple/'same'/'valid' -> ((before, after), ...) per spatial dim."""
    n = len(k)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            total = [di * (ki - 1) for ki, di in zip(k, d)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'same' or 'valid'")
    p = tuple_arg(padding, n, "padding", op, minimum=0)
    return tuple((a, a) for a in p)


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd, op):  # noqa: A002
    _check_tensor(input, (nd + 1, nd + 2), op)
    _check_tensor(weight, (nd + 2,), op, "weight")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    o, cg = weight.shape[0], weight.shape[1]
    if input.shape[1] != cg * groups or o % groups:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {input.shape[1]} channels but weight "
            f"of shape {tuple(weight.shape)} with groups={groups} expects {cg * groups} "
            f"(and out_channels={o} divisible by groups)"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and weight ({weight.dtype}) dtypes differ")
    k = tuple(weight.shape[2:])
    stride = tuple_arg(stride, nd, "stride", op, minimum=1)
    dilation = tuple_arg(dilation, nd, "dilation", op, minimum=1)
    pad = _conv_padding(padding, k, dilation, stride, op)
    if nd == 1:
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
        k, stride, dilation, pad = (1,) + k, (1,) + stride, (1,) + dilation, ((0, 0),) + pad
    geom = C.ConvGeom(input.shape[2:], k, stride, pad, dilation, int(groups))
    if any(p < d * (kk - 1) + 1 for p, kk, d in zip(geom.pad_hw, k, dilation)):
        raise ValueError(
            f"{op}: kernel size {tuple(weight.shape[2:])} (dilation {dilation[-nd:]}) is larger "
            f"than the padded input {geom.pad_hw[-nd:]} (input shape {tuple(input.shape)})"
        )
    out = C.Conv2d.apply(input, weight, bias, geom)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation: out[n, o] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c, h*s + i*d - p, w*s + j*d - p].

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or (sH, sW).
        padding: int, (pH, pW), ``"valid"`` (none) or ``"same"`` (output size = input size;
            stride 1 only; an odd total pads one more at the bottom/right, as PyTorch).
        groups: input and output channels split into this many independent groups.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1.

    Example::

        >>> y = F.conv2d(cr.randn(8, 3, 32, 32), cr.randn(16, 3, 3, 3), padding=1)  # (8, 16, 32, 32)
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation: out[n, o, l] = b[o] + sum_{c,i} w[o, c, i] x[n, c, l*s + i*d - p].

    Args: as ``conv2d`` with one spatial dim; weight (C_out, C_in / groups, k).
    Shape: (N, C_in, L) -> (N, C_out, L_out), L_out = floor((L + 2p - d (k - 1) - 1) / s) + 1.

    Example::

        >>> y = F.conv1d(cr.randn(4, 2, 50), cr.randn(6, 2, 5))  # (4, 6, 46)
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,  # noqa: A002
                       dilation, nd, op):
    _check_tensor(input, (nd + 1, nd + 2), op)
    _check_tensor(weight, (nd + 2,), op, "weight")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    if input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {input.shape[1]} channels but weight "
            f"of shape {tuple(weight.shape)} expects {weight.shape[0]} (divisible by groups={groups})"
        )
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},), got {tuple(bias.shape)}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and weight ({weight.dtype}) dtypes differ")
    k = tuple(weight.shape[2:])
    s = tuple_arg(stride, nd, "stride", op, minimum=1)
    p = tuple_arg(padding, nd, "padding", op, minimum=0)
    op_ = tuple_arg(output_padding, nd, "output_padding", op, minimum=0)
    d = tuple_arg(dilation, nd, "dilation", op, minimum=1)
    if any(a >= si and a >= di for a, si, di in zip(op_, s, d)):
        raise ValueError(
            f"{op}: output_padding {op_} must be smaller than either stride {s} or dilation {d}"
        )
    size = tuple(
        (n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
        for n, si, pi, di, ki, oi in zip(input.shape[2:], s, p, d, k, op_)
    )
    if any(n < 1 for n in size):
        raise ValueError(f"{op}: computed output size {size} is too small (input {tuple(input.shape)})")
    if nd == 1:
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
        k, s, d, p, size = (1,) + k, (1,) + s, (1,) + d, (0,) + p, (1,) + size
    geom = C.ConvGeom(size, k, s, tuple((a, a) for a in p), d, int(groups))
    extra = [o - n for o, n in zip(geom.out_hw, input.shape[2:])]
    if any(extra):  # output_padding >= stride (allowed when < dilation): rows nobody reads
        input = pad(input, (0, extra[1], 0, extra[0]))
    out = C.ConvInputGrad.apply(input, weight, geom)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """Transposed 2-D convolution: the adjoint of conv2d in its input,
    <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> (with bias: + b[o]).

    Args:
        input: (N, C_in, H, W);  weight: (C_in, C_out / groups, kH, kW);  bias: (C_out,) or None.
        stride, padding, dilation: as in the conv2d this is the adjoint of.
        output_padding: extra rows/cols added at the bottom/right of the output
            (< stride or < dilation), to pick among the input sizes that conv maps alike.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1.

    Example::

        >>> y = F.conv_transpose2d(cr.randn(2, 8, 7, 7), cr.randn(8, 4, 4, 4), stride=2, padding=1)
        >>> y.shape  # (2, 4, 14, 14)
    """
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,
                              dilation, 2, "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """Transposed 1-D convolution (the adjoint of conv1d in its input).

    Args: as ``conv_transpose2d`` with one spatial dim; weight (C_in, C_out / groups, k).
    Shape: (N, C_in, L) -> (N, C_out, (L - 1) s - 2p + d (k - 1) + output_padding + 1).

    Example::

        >>> F.conv_transpose1d(cr.randn(1, 3, 10), cr.randn(3, 2, 4), stride=2).shape  # (1, 2, 22)
    """
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups,
                              dilation, 1, "conv_transpose1d")


def _pad_index(n, before, after, mode):
    """Source indices of a padded dim of length n (reflect/replicate/circular)."""
    p = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    if mode == "circular":
        return p % n
    m = p % (2 * n - 2) if n > 1 else np.zeros_like(p)
    return np.where(m < n, m, 2 * n - 2 - m)


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last len(pad)/2 dims: ``pad = (left_last, right_last, left_2nd_last, ...)``.

    Args:
        input: any tensor.
        pad: even-length tuple of ints, last dim first (negative amounts crop, constant mode).
        mode: ``"constant"`` (fill with ``value``, default 0), ``"reflect"`` (mirror without
            repeating the edge), ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap).

    Shape: each padded dim grows by its two amounts.

    Example::

        >>> F.pad(cr.ones(1, 2, 3), (1, 2))  # (1, 2, 6): one zero left, two right
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: pad must be an even-length tuple of at most 2 * input.dim() = {2 * input.ndim} "
            f"ints, got {pad!r}"
        )
    pad = [int(a) for a in pad]
    nd = input.ndim
    pairs = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        for dim, (b, a) in enumerate(pairs):
            if input.shape[dim] + b + a < 0:
                raise ValueError(f"pad: padding {pad} gives a negative size for dim {dim} of {tuple(input.shape)}")
        return C.Pad.apply(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if len(pad) // 2 not in (nd - 1, nd - 2) or len(pad) > 6:
        raise NotImplementedError(
            f"pad: {mode} padding of {len(pad) // 2} dims is not supported for a {nd}-D input "
            "(pad the last 1, 2 or 3 dims of an input with 1 or 2 more dims)"
        )
    if value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take a value (got {value!r})")
    out = input
    for dim, (b, a) in enumerate(pairs):
        if b == a == 0:
            continue
        n = input.shape[dim]
        limit = n - 1 if mode == "reflect" else n
        if b < 0 or a < 0 or max(b, a) > limit or (mode == "replicate" and n == 0):
            raise ValueError(
                f"pad: {mode} padding {(b, a)} of dim {dim} must be between 0 and "
                f"{limit} for an input of shape {tuple(input.shape)}"
            )
        idx = (slice(None),) * dim + (_pad_index(n, b, a, mode),)
        out = Getitem.apply(out, idx)
    return out


def _fold_geom(spatial, kernel_size, dilation, padding, stride, op):
    k = tuple_arg(kernel_size, 2, "kernel_size", op, minimum=1)
    d = tuple_arg(dilation, 2, "dilation", op, minimum=1)
    p = tuple_arg(padding, 2, "padding", op, minimum=0)
    s = tuple_arg(stride, 2, "stride", op, minimum=1)
    geom = C.ConvGeom(spatial, k, s, tuple((a, a) for a in p), d, 1)
    if any(o < 1 for o in geom.out_hw):
        raise ValueError(f"{op}: kernel {k} (dilation {d}) does not fit in the padded size {geom.pad_hw}")
    return geom


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Extract sliding blocks (im2col): out[n, (c, i, j), l] = x_pad[n, c, h*s + i*d, w*s + j*d].

    Shape: (N, C, H, W) -> (N, C kH kW, L), L = H_out * W_out (blocks in row-major order).

    Example::

        >>> F.unfold(cr.randn(1, 3, 5, 5), kernel_size=2).shape  # (1, 12, 16)
    """
    _check_tensor(input, (3, 4), "unfold")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = C.Unfold.apply(x, _fold_geom(x.shape[2:], kernel_size, dilation, padding, stride, "unfold"))
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Combine sliding blocks into a tensor (col2im), summing overlapping entries: the
    adjoint of ``unfold``.

    Shape: (N, C kH kW, L) -> (N, C, *output_size); L must equal the number of blocks.

    Example::

        >>> F.fold(cr.randn(1, 12, 16), (5, 5), kernel_size=2).shape  # (1, 3, 5, 5)
    """
    _check_tensor(input, (2, 3), "fold")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    size = tuple_arg(output_size, 2, "output_size", "fold", minimum=1)
    geom = _fold_geom(size, kernel_size, dilation, padding, stride, "fold")
    kk = geom.k_hw[0] * geom.k_hw[1]
    blocks = geom.out_hw[0] * geom.out_hw[1]
    if x.shape[1] % kk or x.shape[2] != blocks:
        raise ValueError(
            f"fold: expected input of shape (N, C * {kk}, {blocks}) for output_size {size}, "
            f"kernel {geom.k_hw}, got {tuple(input.shape)}"
        )
    out = C.Fold.apply(x, geom, x.shape[1] // kk)
    return out.squeeze(0) if unbatched else out
