"""Interpolation matrices for ``F.interpolate``'s bicubic and antialiased modes. Every mode is
separable: resampling one axis of length n to length out is a product with an (out, n) matrix
whose row d holds the weights of output position d.

* bicubic (PyTorch's upsample_bicubic2d): source position s = d scale (align_corners) or
  (d + 0.5) scale - 0.5, taps floor(s) - 1 .. floor(s) + 2 clamped to the edge, weights of the
  cubic convolution kernel with a = -0.75.
* antialias (PyTorch's _upsample_*_aa, PIL's resampling): the filter (triangle for bilinear,
  cubic with a = -0.5 for bicubic, Lanczos-3) is stretched by the scale when downsampling, so
  every input pixel contributes; weights of a row are normalised to sum 1.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _cubic(x, a):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _scale(n, out, scale, align_corners):
    if align_corners:
        return (n - 1) / (out - 1) if out > 1 else 0.0
    return n / out if scale is None else 1.0 / scale


def cubic_matrix(n, out, scale, align_corners, dtype):
    """(out, n) bicubic interpolation matrix (see the module docstring)."""
    sc = _scale(n, out, scale, align_corners)
    dst = np.arange(out, dtype=np.float64)
    src = dst * sc if align_corners else (dst + 0.5) * sc - 0.5
    base = np.floor(src)
    t = src - base
    m = np.zeros((out, n))
    rows = np.arange(out)
    for k, w in zip(range(-1, 3), (_cubic(t + 1, -0.75), _cubic(t, -0.75), _cubic(1 - t, -0.75),
                                   _cubic(2 - t, -0.75))):
        np.add.at(m, (rows, np.clip(base.astype(np.int64) + k, 0, n - 1)), w)
    return _const(m.astype(dtype))


_AA = {"bilinear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
       "linear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
       "trilinear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
       "bicubic": (2.0, lambda x: _cubic(x, -0.5))}


def antialias_matrix(mode, n, out, scale, align_corners, dtype):
    """(out, n) antialiased resampling matrix (see the module docstring)."""
    half, filt = _AA[mode]
    sc = _scale(n, out, scale, align_corners)
    support = half * sc if sc >= 1.0 else half
    inv = 1.0 / sc if sc >= 1.0 else 1.0
    m = np.zeros((out, n))
    for i in range(out):
        center = sc * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n)
        j = np.arange(lo, hi)
        w = filt((j - center + 0.5) * inv)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return _const(m.astype(dtype))


def along(x: Tensor, dim: int, m: Tensor) -> Tensor:
    """Apply the (out, n) matrix ``m`` along ``dim`` of ``x``."""
    if dim == x.ndim - 1:
        return x @ m.mT
    if dim == x.ndim - 2:
        return m @ x
    return (x.movedim(dim, -1) @ m.mT).movedim(-1, dim)


def check_mode(mode, nd, antialias):
    """PyTorch's mode / rank pairing errors."""
    need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
    if mode in need and need[mode] != nd:
        raise NotImplementedError(f"Got {nd + 2}D input, but {mode} mode needs "
                                  f"{need[mode] + 2}D input")
    if antialias and not (mode in ("bilinear", "bicubic") and nd == 2):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if mode == "lanczos":
        raise NotImplementedError("interpolate: mode 'lanczos' is not supported by chainrule "
                                  "(use 'bicubic' with antialias=True)")

