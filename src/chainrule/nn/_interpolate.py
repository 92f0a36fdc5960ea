"""Functional resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area; antialias)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..ops.shape import Getitem
from ..tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_NEAREST = ("nearest", "nearest-exact")


def _sizes(x, size, scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    if size is not None:
        sizes = (size,) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != nd or any(int(s) < 1 for s in sizes):
            raise ValueError(
                f"interpolate: size must be a positive int or {nd} of them for an input of "
                f"shape {tuple(x.shape)}, got {size!r}"
            )
        return tuple(int(s) for s in sizes), None
    scales = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != nd or any(s <= 0 for s in scales):
        raise ValueError(
            f"interpolate: scale_factor must be positive, one or {nd} values, got {scale_factor!r}"
        )
    out = tuple(int(math.floor(n * float(s))) for n, s in zip(x.shape[2:], scales))
    return out, tuple(float(s) for s in scales)


def _nearest_index(n, out, scale, exact):
    """PyTorch's source index, computed in float32 as its CPU kernel does."""
    sc = np.float32(n / out if scale is None else 1.0 / scale)
    dst = np.arange(out, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    return np.minimum(np.floor(dst * sc).astype(np.int64), n - 1)


def _linear_matrix(n, out, scale, align_corners, dtype):
    """(out, n) interpolation matrix: row d holds the two weights of output position d."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        sc = n / out if scale is None else 1.0 / scale
        src = np.maximum((dst + 0.5) * sc - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    m = np.zeros((out, n))
    rows = np.arange(out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return Tensor._make(m.astype(dtype), False, None, 0)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or
    ``scale_factor``; every mode is separable (one axis at a time).

    nearest: out[d] = x[min(floor(d * scale), n - 1)] (nearest-exact: floor((d + 0.5) * scale));
    linear/bilinear/trilinear: linear in each dim between x[floor(src)] and the next entry, with
    src = d * (n - 1) / (out - 1) if align_corners else max((d + 0.5) * scale - 0.5, 0);
    bicubic: the cubic convolution kernel (a = -0.75) on 4 taps, edges clamped;
    area: adaptive average pooling. scale is n / out, or 1 / scale_factor when scale_factor is
    given (and not recomputed). antialias (bilinear/bicubic, 4-D): a widened, normalised
    filter when downsampling (PIL's resampling).

    Args:
        size: output spatial size;  scale_factor: multiplier(s) (output size is floored);
        mode: "nearest", "nearest-exact", "linear" (3-D), "bilinear"/"bicubic" (4-D),
            "trilinear" (5-D) or "area";
        align_corners: linear and cubic modes only, default False;
        recompute_scale_factor: use n / out instead of 1 / scale_factor;
        antialias: see above.

    Shape: (N, C, *spatial) -> (N, C, *size).

    Example::

        >>> F.interpolate(cr.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape  # (1, 3, 16, 16)
    """
    from ._interpolate_extra import along, antialias_matrix, check_mode, cubic_matrix

    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    nd = input.ndim - 2
    if nd < 1 or nd > 3:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
            f"nearest-exact (got {mode})")
    smooth = ("linear", "bilinear", "bicubic", "trilinear")
    if mode in _NEAREST or mode == "area":
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif mode in smooth or mode == "lanczos":
        check_mode(mode, nd, antialias)
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported (nearest, nearest-exact, linear, "
            "bilinear, bicubic, trilinear, area)"
        )
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    out_size, scales = _sizes(input, size, scale_factor, nd)
    if mode == "area":
        from ._pooling3d_fn import adaptive_avg_pool3d
        from ._pooling_fn import adaptive_avg_pool1d, adaptive_avg_pool2d

        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1]
        return pool(input, out_size)
    if recompute_scale_factor:
        scales = None
    if scales is None:
        scales = (None,) * nd
    x = input
    dt = x._data.dtype
    for i, (n, o, s) in enumerate(zip(input.shape[2:], out_size, scales)):
        dim = 2 + i
        if mode in _NEAREST:
            idx = _nearest_index(n, o, s, mode == "nearest-exact")
            x = Getitem.apply(x, (slice(None),) * dim + (idx,))
            continue
        if antialias:
            m = antialias_matrix(mode, n, o, s, align_corners, dt)
        elif mode == "bicubic":
            m = cubic_matrix(n, o, s, align_corners, dt)
        else:
            m = _linear_matrix(n, o, s, align_corners, dt)
        x = along(x, dim, m)
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """Deprecated alias of ``interpolate`` (as in PyTorch)."""
    warnings.warn("upsample is deprecated, use interpolate", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated alias of ``interpolate(..., mode="nearest")``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated alias of ``interpolate(..., mode="bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
