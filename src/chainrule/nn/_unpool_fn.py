"""Functional max unpooling and fractional max pooling (``torch.nn.functional``):
``max_unpool1d/2d/3d`` (a scatter of the pooled values back to their indices) and
``fractional_max_pool2d/3d`` (Graham, 2014: pseudo-random overlapping windows)."""

from __future__ import annotations

import numpy as np

from ..creation import zeros
from ..random import _gen
from ..tensor import Tensor
from ._pooling3d_fn import _const, _first_max, _gather
from ._spatial import tuple_arg

__all__ = [
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]


def _unpool_size(x, k, s, p, output_size, nd):
    default = [(x.shape[-nd + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(nd)]
    if output_size is None:
        return tuple(default)
    size = tuple(int(v) for v in output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < size[d] < hi:
            raise ValueError(f'invalid output_size "{size}" (dim {d} must be between {lo} and {hi})')
    return size


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, op):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape "
                         f"{tuple(input.shape)}")
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.shape != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {idx.shape} must match the input's shape "
                         f"{tuple(input.shape)}")
    k = tuple_arg(kernel_size, nd, "kernel_size", op, 1)
    s = k if stride is None else tuple_arg(stride, nd, "stride", op, 1)
    p = tuple_arg(padding, nd, "padding", op, 0)
    size = _unpool_size(input, k, s, p, output_size, nd)
    total = int(np.prod(size))
    x = input.unsqueeze(0) if input.ndim == nd + 1 else input
    flat_idx = idx.reshape(x.shape[0], x.shape[1], -1).astype(np.int64)
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= total):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(flat_idx.max())} (output "
                           f"volumes are of size {'x'.join(map(str, size))})")
    out = zeros(x.shape[0], x.shape[1], total, dtype=x.dtype)
    out = out.scatter(2, _const(flat_idx), x.flatten(2)).reshape(*x.shape[:2], *size)
    return out.squeeze(0) if input.ndim == nd + 1 else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of ``max_pool1d``: every value goes back to the position its
    index names, zeros elsewhere.

    Shape: (N, C, L_in) -> (N, C, L_out), L_out = (L_in - 1) s - 2p + k (or output_size).

    Example::

        >>> x, i = F.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(x, i, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of ``max_pool2d`` (indices flat h * W_out + w).

    Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out), H_out = (H_in - 1) s - 2p + k.

    Example::

        >>> x, i = F.max_pool2d(cr.randn(1, 1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(x, i, 2).shape
        chainrule.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of ``max_pool3d``.

    Shape: (N, C, D_in, H_in, W_in) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> x, i = F.max_pool3d(cr.randn(1, 1, 4, 4, 4), 2, return_indices=True)
        >>> F.max_unpool3d(x, i, 2).shape
        chainrule.Size([1, 1, 4, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       "max_unpool3d")


def _intervals(u, n, out, k, dt):
    """PyTorch's pseudo-random window starts: floor((i + u) alpha) - floor(u alpha) for
    i < out - 1 and n - k last, alpha = (n - k) / (out - 1), in the input's precision."""
    u = u.astype(dt)
    seq = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        alpha = dt.type(n - k) / dt.type(out - 1)
        i = np.arange(out - 1, dtype=dt)
        seq[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - \
            (u * alpha).astype(np.int64)[..., None]
    seq[..., -1] = n - k
    return seq


def _fractional(input, kernel_size, output_size, output_ratio, return_indices, samples, nd,  # noqa: A002
                op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape "
                         f"{tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == nd + 1 else input
    k = tuple_arg(kernel_size, nd, "kernel_size", op, 1)
    sizes = tuple(x.shape[2:])
    if output_size is None:
        if output_ratio is None:
            raise ValueError("fractional_max_pool requires specifying either an output_size "
                             "or an output_ratio")
        ratio = (output_ratio,) * nd if isinstance(output_ratio, (int, float)) else \
            tuple(output_ratio)
        if any(not 0 < r < 1 for r in ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")
        outs = tuple(int(n * r) for n, r in zip(sizes, ratio))
    else:
        outs = tuple_arg(output_size, nd, "output_size", op, 1)
    for n, o, ki in zip(sizes, outs, k):  # PyTorch's checks: <= in 2-D, < in 3-D
        if o + ki - 1 > n or (nd == 3 and o + ki - 1 == n):
            raise RuntimeError(f"{op}(): pool size {ki} too large relative to input size {n} "
                               f"for output size {o}")
    dt = x._data.dtype
    if samples is None:
        u = _gen(None).random((x.shape[0], x.shape[1], nd)).astype(dt)
    else:
        u = samples._data if isinstance(samples, Tensor) else np.asarray(samples)
        if u.shape != (x.shape[0], x.shape[1], nd):
            raise RuntimeError(f"{op}: _random_samples must have shape "
                               f"{(x.shape[0], x.shape[1], nd)}, got {u.shape}")
    # PyTorch: 2-D uses sample 0 for the width and 1 for the height; 3-D 0, 1, 2 for T, H, W
    which = (1, 0) if nd == 2 else (0, 1, 2)
    wins = [_intervals(u[:, :, which[a]], sizes[a], outs[a], k[a], dt)[..., None]
            + np.arange(k[a]) for a in range(nd)]
    flat = _first_max(x._data, wins)
    out = _gather(x, flat, outs)
    if input.ndim == nd + 1:
        out, flat = out.squeeze(0), flat[0]
    return (out, _const(flat)) if return_indices else out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,  # noqa: A002
                          return_indices=False, _random_samples=None):
    """Fractional max pooling (Graham, 2014): max over (kH, kW) windows starting at
    pseudo-random positions that shrink the input to ``output_size`` (or ``output_ratio``
    of it); one random sample in [0, 1) per (sample, channel, axis), or ``_random_samples``.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> F.fractional_max_pool2d(cr.randn(1, 2, 10, 10), 3, output_ratio=0.5).shape
        chainrule.Size([1, 2, 5, 5])
    """
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples, 2, "fractional_max_pool2d")


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,  # noqa: A002
                          return_indices=False, _random_samples=None):
    """Fractional max pooling over (kT, kH, kW) windows (see ``fractional_max_pool2d``).

    Shape: (N, C, T, H, W) -> (N, C, T_out, H_out, W_out).

    Example::

        >>> F.fractional_max_pool3d(cr.randn(1, 1, 8, 8, 8), 2, output_size=4).shape
        chainrule.Size([1, 1, 4, 4, 4])
    """
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples, 3, "fractional_max_pool3d")


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,  # noqa: A002
                                       output_ratio=None, return_indices=True,
                                       _random_samples=None):
    """``fractional_max_pool2d(..., return_indices=True)``."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,  # noqa: A002
                                       output_ratio=None, return_indices=True,
                                       _random_samples=None):
    """``fractional_max_pool3d(..., return_indices=True)``."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)
