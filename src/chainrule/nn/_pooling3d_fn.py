"""More functional pooling (``torch.nn.functional``): 3-D max/average/adaptive pooling,
LP pooling, max unpooling, fractional max pooling and the ``*_with_indices`` forms.

Max-type pools find each window's first maximum (row-major window order, NaN wins, as
PyTorch) with NumPy on a strided or indexed view of the windows, then ``gather`` the
values: the gradient flows to that element only. Average pools are separable sums of
strided slices along each axis divided by PyTorch's divisor. Adaptive average pooling is a
product with one averaging matrix per axis.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._pooling_fn import (
    _avg_matrix, _pool_counts, _window_index, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
)
from ._spatial import pad, tuple_arg

__all__ = [
    "adaptive_avg_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "avg_pool3d", "lp_pool1d",
    "lp_pool2d", "lp_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_pool3d", "max_pool3d_with_indices",
]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _batched(x, nd, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D input, got "
                         f"shape {tuple(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


def _out_len(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length (a ceil-mode window must start inside input + left pad)."""
    top = n + 2 * p - d * (k - 1) - 1
    out = (top + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _first_max(arr, wins):
    """Flat spatial index (N, C, *outs) of the first maximum of every window; ``wins`` gives,
    per spatial axis, the input positions of each window, shaped (out, k) or (N, C, out, k)."""
    n, c = arr.shape[:2]
    nd = len(wins)
    index = [np.arange(n).reshape((n,) + (1,) * (2 * nd + 1)),
             np.arange(c).reshape((1, c) + (1,) * (2 * nd))]
    for a, w in enumerate(wins):
        w = w if w.ndim == 4 else w[None, None]
        shape = [w.shape[0], w.shape[1]] + [1] * (2 * nd)
        shape[2 + 2 * a], shape[3 + 2 * a] = w.shape[2:]
        index.append(w.reshape(shape))
    vals = arr[tuple(index)]  # (N, C, o1, k1, o2, k2, ...)
    order = [0, 1] + [2 + 2 * a for a in range(nd)] + [3 + 2 * a for a in range(nd)]
    vals = vals.transpose(order)
    ks = vals.shape[2 + nd:]
    arg = np.argmax(vals.reshape(vals.shape[:2 + nd] + (-1,)), axis=-1)  # first max / NaN
    offs = np.unravel_index(arg, ks)
    flat = np.zeros(arg.shape, np.int64)
    for a, w in enumerate(wins):
        w = w if w.ndim == 4 else np.broadcast_to(w, (n, c) + w.shape)
        o_axis = [1] * nd
        o_axis[a] = w.shape[2]
        o_idx = np.arange(w.shape[2]).reshape((1, 1) + tuple(o_axis))
        nn_, cc = np.arange(n).reshape((n, 1) + (1,) * nd), np.arange(c).reshape((1, c) + (1,) * nd)
        pos = w[nn_, cc, o_idx, offs[a]]
        flat = flat * arr.shape[2 + a] + pos
    return flat


def _gather(x, flat, outs):
    n, c = x.shape[:2]
    out = x.flatten(2).gather(2, _const(flat.reshape(n, c, -1)))
    return out.reshape(n, c, *outs)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """out[n, c, d, h, w] = max of x over the (kD, kH, kW) window at (d sD - pD, h sH - pH,
    w sW - pW), dilated by the dilation; the gradient goes to the window's first maximum.

    Args: kernel_size, stride (default kernel_size), padding (-inf, at most half the
        kernel), dilation, ceil_mode, return_indices (flat (d H + h) W + w indices).
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out),
        D_out = floor_or_ceil((D + 2p - dil (k - 1) - 1) / s) + 1.

    Example::

        >>> F.max_pool3d(cr.randn(1, 2, 4, 4, 4), 2).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """
    op = "max_pool3d"
    x, unbatched = _batched(input, 3, op)
    k = tuple_arg(kernel_size, 3, "kernel_size", op, minimum=1)
    s = k if stride is None or stride == () or stride == [] else tuple_arg(stride, 3, "stride", op, 1)
    p = tuple_arg(padding, 3, "padding", op, minimum=0)
    d = tuple_arg(dilation, 3, "dilation", op, minimum=1)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, but got "
                         f"pad={p} and kernel_size={k}")
    sizes = x.shape[2:]
    outs = tuple(_out_len(*a, ceil_mode) for a in zip(sizes, k, s, p, d))
    if any(o < 1 for o in outs):
        raise ValueError(f"{op}: output size {outs} is too small for input {tuple(x.shape)}")
    wins, lows, arr = [], [], x._data
    for a, (n, ki, si, pi, di, o) in enumerate(zip(sizes, k, s, p, d, outs)):
        pos = np.arange(o)[:, None] * si + np.arange(ki)[None, :] * di - pi
        lo, hi = int(max(0, -pos.min())), int(max(0, pos.max() - n + 1))
        if lo or hi:  # padded positions hold -inf: never a window's maximum
            widths = [(0, 0)] * arr.ndim
            widths[2 + a] = (lo, hi)
            arr = np.pad(arr, widths, constant_values=-np.inf)
        wins.append(pos + lo)
        lows.append(lo)
    flat = _first_max(arr, wins)
    if any(lows) or arr.shape != x._data.shape:  # back to the input's coordinates
        coords = np.unravel_index(flat, arr.shape[2:])
        flat = np.zeros(flat.shape, np.int64)
        for ca, lo, n in zip(coords, lows, sizes):
            flat = flat * n + np.clip(ca - lo, 0, n - 1)
    out = _gather(x, flat, outs)
    if unbatched:
        out, flat = out.squeeze(0), flat[0]
    return (out, _const(flat)) if return_indices else out


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
                            ceil_mode=False, return_indices=True):
    """``max_pool3d(..., return_indices=True)``: (values, flat indices)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
                            ceil_mode=False, return_indices=True):
    """``max_pool2d(..., return_indices=True)``: (values, flat h * W + w indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
                            ceil_mode=False, return_indices=True):
    """``max_pool1d(..., return_indices=True)``: (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _window_sum(x, axis, n, k, s, p, o):
    """sum_{i < k} x_pad[.., j s + i, ..] along ``axis`` (zero padding, p before)."""
    after = max(0, (o - 1) * s + k - n - p)
    if p or after:
        widths = [0, 0] * (x.ndim - 1 - axis) + [p, after]
        x = pad(x, tuple(widths))
    span = s * (o - 1) + 1
    lead = (slice(None),) * axis
    total = x[lead + (slice(0, span, s),)]
    for i in range(1, k):
        total = total + x[lead + (slice(i, i + span, s),)]
    return total


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    """out[n, c, d, h, w] = (sum of x over the (kD, kH, kW) window) / divisor; the divisor is
    the window size clipped to the padded input (count_include_pad), the number of input
    elements in it (otherwise), or divisor_override.

    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out) (as ``max_pool3d``, dilation 1).

    Example::

        >>> F.avg_pool3d(cr.ones(1, 1, 4, 4, 4), 2).shape
        chainrule.Size([1, 1, 2, 2, 2])
    """
    op = "avg_pool3d"
    x, unbatched = _batched(input, 3, op)
    k = tuple_arg(kernel_size, 3, "kernel_size", op, minimum=1)
    s = k if stride is None or stride == () or stride == [] else tuple_arg(stride, 3, "stride", op, 1)
    p = tuple_arg(padding, 3, "padding", op, minimum=0)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, but got "
                         f"pad={p} and kernel_size={k}")
    sizes = x.shape[2:]
    outs = tuple(_out_len(n, ki, si, pi, 1, ceil_mode) for n, ki, si, pi in zip(sizes, k, s, p))
    if any(o < 1 for o in outs):
        raise ValueError(f"{op}: output size {outs} is too small for input {tuple(x.shape)}")
    total = x
    for a in range(3):
        total = _window_sum(total, 2 + a, sizes[a], k[a], s[a], p[a], outs[a])
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        out = total / float(divisor_override)
    else:
        counts = [_pool_counts(*a, count_include_pad) for a in zip(sizes, k, s, p, outs)]
        div = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
        out = total / _const(div.astype(x._data.dtype))
    return out.squeeze(0) if unbatched else out


def _adaptive_sizes(x, output_size, nd, op):
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * nd
    if not isinstance(output_size, (tuple, list)) or len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    sizes = tuple(n if o is None else int(o) for o, n in zip(output_size, x.shape[-nd:]))
    if any(o < 1 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return sizes


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    """out[n, c, i, j, l] = mean of x over the adaptive window [floor(i D / D_out),
    ceil((i + 1) D / D_out)) x (likewise for H and W): one averaging matrix per axis.

    Shape: (N, C, D, H, W) -> (N, C, *output_size) (None keeps that input size).

    Example::

        >>> F.adaptive_avg_pool3d(cr.randn(1, 2, 5, 6, 7), (1, 2, 3)).shape
        chainrule.Size([1, 2, 1, 2, 3])
    """
    x, unbatched = _batched(input, 3, "adaptive_avg_pool3d")
    od, oh, ow = _adaptive_sizes(x, output_size, 3, "adaptive_avg_pool3d")
    d, h, w = x.shape[2:]
    dt = x._data.dtype
    out = x @ _avg_matrix(w, ow, dt).mT  # W
    out = _avg_matrix(h, oh, dt) @ out  # H
    out = (out.movedim(2, -1) @ _avg_matrix(d, od, dt).mT).movedim(-1, 2)  # D
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    """out[n, c, i, j, l] = max of x over the adaptive window of ``adaptive_avg_pool3d``
    (gradient to its first maximum); indices are flat (d H + h) W + w.

    Shape: (N, C, D, H, W) -> (N, C, *output_size).

    Example::

        >>> F.adaptive_max_pool3d(cr.randn(1, 2, 5, 6, 7), 2).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """
    x, unbatched = _batched(input, 3, "adaptive_max_pool3d")
    outs = _adaptive_sizes(x, output_size, 3, "adaptive_max_pool3d")
    flat = _first_max(x._data, [_window_index(n, o) for n, o in zip(x.shape[2:], outs)])
    out = _gather(x, flat, outs)
    if unbatched:
        out, flat = out.squeeze(0), flat[0]
    return (out, _const(flat)) if return_indices else out


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):  # noqa: A002
    """``adaptive_max_pool3d(..., return_indices=True)``."""
    return adaptive_max_pool3d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):  # noqa: A002
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):  # noqa: A002
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    return adaptive_max_pool1d(input, output_size, True)


def _lp(out, norm_type, size):
    # PyTorch's form: sign(out) relu(|out|) * size, to the power 1/p
    return (out.sign() * out.abs().relu() * float(size)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling: (sum over the window of x^p)^(1/p) (p = inf is max pooling,
    p = 1 sum pooling).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> F.lp_pool1d(cr.ones(1, 1, 4), 2, 2)  # sqrt(1 + 1)
        tensor([[[1.4142, 1.4142]]])
    """
    k = tuple_arg(kernel_size, 1, "kernel_size", "lp_pool1d", 1)[0]
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp(out, norm_type, k)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum over the (kH, kW) window of x^p)^(1/p). Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> F.lp_pool2d(cr.ones(1, 1, 4, 4), 1, 2)  # sums of 4 ones
        tensor([[[[4., 4.],
                  [4., 4.]]]])
    """
    kh, kw = tuple_arg(kernel_size, 2, "kernel_size", "lp_pool2d", 1)
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return _lp(out, norm_type, kh * kw)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum over the (kD, kH, kW) window of x^p)^(1/p).
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> F.lp_pool3d(cr.ones(1, 1, 2, 2, 2), 2, 2).flatten()  # sqrt(8)
        tensor([2.8284])
    """
    kd, kh, kw = tuple_arg(kernel_size, 3, "kernel_size", "lp_pool3d", 1)
    out = avg_pool3d(input.pow(norm_type), (kd, kh, kw), stride, 0, ceil_mode)
    return _lp(out, norm_type, kd * kh * kw)
