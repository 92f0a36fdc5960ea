"""Functional pooling (``torch.nn.functional`` semantics): max, average and adaptive pooling."""

from __future__ import annotations

import numpy as np

from ..ops import pool as P
from ..tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
]


def _ints(v, n, name, op, minimum):
    from ._spatial import tuple_arg

    return tuple_arg(v, n, name, op, minimum)


def _check(x, nd, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D input, got shape {tuple(x.shape)}"
        )
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    return x, False


def _geom(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op):
    k = _ints(kernel_size, nd, "kernel_size", op, 1)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else (
        _ints(stride, nd, "stride", op, 1))
    p = _ints(padding, nd, "padding", op, 0)
    d = _ints(dilation, nd, "dilation", op, 1)
    for pi, ki in zip(p, k):
        if pi > ki // 2:
            raise ValueError(f"{op}: padding {p} should be at most half of the kernel size {k}")
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    geom = P.PoolGeom(x.shape[-2:], k, s, p, d, bool(ceil_mode))
    if any(o < 1 for o in geom.out_hw):
        raise ValueError(
            f"{op}: output size {geom.out_hw[-nd:]} is too small for input {tuple(x.shape)} "
            f"(kernel {k[-nd:]}, stride {s[-nd:]}, padding {p[-nd:]}, dilation {d[-nd:]})"
        )
    return geom


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, op):  # noqa: A002
    x, unbatched = _check(input, nd, op)
    if nd == 1:
        x = x.unsqueeze(2)
    geom = _geom(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op)
    res = P.MaxPool2d.apply(x, geom, bool(return_indices))
    out, idx = res if return_indices else (res, None)
    if nd == 1:
        out = out.squeeze(2)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    return out, idx.reshape(out.shape)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """out[n, c, h, w] = max of x over the window (h*s + i*d - p, w*s + j*d - p), i < kH, j < kW.

    The gradient goes to one element per window: the first maximum in row-major window order.

    Args:
        kernel_size: int or (kH, kW);  stride: defaults to kernel_size;  padding: implicit
            -inf on both sides, at most half the kernel size;  dilation: gap between
            window elements;  ceil_mode: round the output size up (a last partial window that
            starts inside the input or the left padding);  return_indices: also return the
            flat index h * W + w of each maximum within its (H, W) plane.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out),
        H_out = floor_or_ceil((H + 2p - d (k - 1) - 1) / s) + 1.

    Example::

        >>> F.max_pool2d(cr.randn(1, 1, 4, 4), 2).shape  # (1, 1, 2, 2)
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """out[n, c, l] = max of x[n, c, l*s + i*d - p] over i < k (see ``max_pool2d``).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> F.max_pool1d(cr.randn(2, 3, 10), 2).shape  # (2, 3, 5)
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def _pool_counts(n, k, s, p, out, include_pad):
    """Per output position: the window length used as divisor (PyTorch's rule)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor, nd, op):
    x, unbatched = _check(x, nd, op)
    if nd == 1:
        x = x.unsqueeze(2)
    geom = _geom(x, kernel_size, stride, padding, 1, ceil_mode, nd, op)
    total = P.WindowGather.apply(x, None, geom)
    if divisor is not None:
        if not isinstance(divisor, (int, np.integer)) or divisor == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor!r}")
        out = total / float(divisor)
    else:
        counts = [
            _pool_counts(n, k, s, p, o, count_include_pad)
            for n, k, s, p, o in zip(geom.x_hw, geom.k_hw, geom.stride, geom.pad, geom.out_hw)
        ]
        div = np.outer(counts[0], counts[1])
        if np.all(div == div.flat[0]):
            out = total / float(div.flat[0])
        else:
            out = total / Tensor._make(div.astype(x._data.dtype), False, None, 0)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    """out[n, c, h, w] = (sum of x over the window) / divisor.

    Args:
        kernel_size, stride (default kernel_size), padding (zeros, at most half the kernel),
        ceil_mode: as in ``max_pool2d``.
        count_include_pad: divide by the window size including padding (but not the part of
            a ceil_mode window beyond the padding), else by the number of input elements.
        divisor_override: divide every window by this instead.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out) (as ``max_pool2d`` with dilation 1).

    Example::

        >>> F.avg_pool2d(cr.ones(1, 1, 4, 4), 2)  # all ones, shape (1, 1, 2, 2)
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """out[n, c, l] = mean of x[n, c, l*s + i - p] over i < k (see ``avg_pool2d``).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> F.avg_pool1d(cr.arange(6.0).reshape(1, 1, 6), 2)  # [[[0.5, 2.5, 4.5]]]
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def _adaptive_sizes(x, output_size, nd, op):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    if not isinstance(output_size, (tuple, list)) or len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    sizes = tuple(n if o is None else int(o) for o, n in zip(output_size, x.shape[-nd:]))
    if any(o < 1 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return sizes


def _bins(n, out):
    """PyTorch's adaptive windows: [floor(i n / out), ceil((i + 1) n / out)) for i < out."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _avg_matrix(n, out, dtype):
    start, end = _bins(n, out)
    pos = np.arange(n)
    m = (pos >= start[:, None]) & (pos < end[:, None])
    return Tensor._make((m / (end - start)[:, None]).astype(dtype), False, None, 0)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """out[n, c, i, j] = mean of x over rows [floor(i H / H_out), ceil((i + 1) H / H_out)) and
    the same for columns. Computed as A_h @ x @ A_w^T with averaging matrices.

    Args:
        output_size: int or (H_out, W_out); None keeps that input size.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> F.adaptive_avg_pool2d(cr.randn(2, 8, 7, 7), 1).shape  # (2, 8, 1, 1)
    """
    x, unbatched = _check(input, 2, "adaptive_avg_pool2d")
    ho, wo = _adaptive_sizes(x, output_size, 2, "adaptive_avg_pool2d")
    h, w = x.shape[-2:]
    dt = x._data.dtype
    out = _avg_matrix(h, ho, dt) @ (x @ _avg_matrix(w, wo, dt).mT)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """out[n, c, i] = mean of x[n, c, floor(i L / L_out) : ceil((i + 1) L / L_out)].

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> F.adaptive_avg_pool1d(cr.randn(2, 3, 10), 4).shape  # (2, 3, 4)
    """
    x, unbatched = _check(input, 1, "adaptive_avg_pool1d")
    (lo,) = _adaptive_sizes(x, output_size, 1, "adaptive_avg_pool1d")
    out = x @ _avg_matrix(x.shape[-1], lo, x._data.dtype).mT
    return out.squeeze(0) if unbatched else out


def _window_index(n, out):
    """(out, K) input positions of each adaptive window; short windows repeat their last
    position (a repeat comes after the original, so the first maximum is unchanged)."""
    start, end = _bins(n, out)
    k = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)


def _adaptive_max(input, output_size, return_indices, nd, op):  # noqa: A002
    x, unbatched = _check(input, nd, op)
    if nd == 1:
        x = x.unsqueeze(2)
    sizes = _adaptive_sizes(x, output_size, nd, op)
    ho, wo = (1,) + sizes if nd == 1 else sizes
    h, w = x.shape[-2:]
    ih, iw = _window_index(h, ho), _window_index(w, wo)
    kh, kw = ih.shape[1], iw.shape[1]
    patches = x._data[..., ih[:, :, None, None], iw[None, None, :, :]]  # (N, C, ho, kh, wo, kw)
    patches = patches.transpose(0, 1, 2, 4, 3, 5).reshape(x.shape[:2] + (ho, wo, kh * kw))
    arg = np.argmax(patches, axis=-1)  # first maximum (and first NaN)
    rows = ih[np.arange(ho)[:, None], arg // kw]
    cols = iw[np.arange(wo), arg % kw]
    flat = (rows * w + cols).astype(np.int64)
    idx = Tensor._make(flat.reshape(x.shape[:2] + (ho * wo,)), False, None, 0)
    out = x.flatten(2).gather(2, idx).reshape(x.shape[:2] + (ho, wo))
    if nd == 1:
        out, flat = out.squeeze(2), flat.reshape(flat.shape[:2] + (wo,))
    if unbatched:
        out, flat = out.squeeze(0), flat[0]
    if return_indices:
        return out, Tensor._make(flat, False, None, 0)
    return out


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """out[n, c, i, j] = max of x over the adaptive window of ``adaptive_avg_pool2d``; the
    gradient goes to its first maximum; indices are flat h * W + w.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> F.adaptive_max_pool2d(cr.randn(1, 2, 5, 7), (2, 3)).shape  # (1, 2, 2, 3)
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """out[n, c, i] = max of x over [floor(i L / L_out), ceil((i + 1) L / L_out)).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> F.adaptive_max_pool1d(cr.randn(1, 2, 9), 4).shape  # (1, 2, 4)
    """
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")
