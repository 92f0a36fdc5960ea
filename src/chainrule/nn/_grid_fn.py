"""Spatial transformers (``torch.nn.functional``): ``affine_grid`` and ``grid_sample``
(Jaderberg et al., 2015), composed from matmul, gather and elementwise primitives.

grid_sample reads input at continuous positions: a grid coordinate g in [-1, 1] maps to the
pixel position p = (g + 1) / 2 (size - 1) (align_corners) or ((g + 1) size - 1) / 2; the
padding mode clips ("border") or reflects ("reflection") p; "zeros" reads 0 outside.
bilinear (trilinear for 5-D input) weights the 2^d neighbours by (1 - |p - corner|) per axis,
nearest rounds half to even, bicubic uses the cubic convolution kernel (a = -0.75) on the 4x4
neighbours. The weights are tensor functions of the grid, so both input and grid receive
PyTorch's gradients (zero where a coordinate was clipped or rounded).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from ..tensor import Tensor
from ..functions.elementwise import where

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _base_coords(n, align_corners, dt):
    if n <= 1:
        return np.zeros(max(n, 1), dt)
    lin = np.linspace(-1.0, 1.0, n)
    return (lin if align_corners else lin * (n - 1) / n).astype(dt)


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The sampling grid of an affine transform: grid[n, h, w] = theta[n] @ (x_w, y_h, 1) with
    (x, y) the normalised coordinates of output pixel (h, w) (pixel centres unless
    align_corners); 3-D: theta (N, 3, 4) and (x, y, z, 1).

    Args:
        theta: (N, 2, 3) or (N, 3, 4) affine matrices (floating).
        size: the output size (N, C, H, W) or (N, C, D, H, W).
        align_corners: -1 and 1 are the corner pixels' centres (True) or edges (False).

    Shape: (N, H, W, 2) or (N, D, H, W, 3).

    Example::

        >>> F.affine_grid(cr.eye(2, 3).unsqueeze(0), (1, 1, 2, 2), align_corners=False)[0, 0]
        tensor([[-0.5000, -0.5000],
                [ 0.5000, -0.5000]])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor) or theta._data.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"{getattr(theta, 'dtype', type(theta).__name__)}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta has {theta.shape[0]} matrices for a batch of "
                         f"{size[0]}")
    dt = theta._data.dtype
    axes = [_base_coords(n, align_corners, dt) for n in spatial]  # (D,) H, W order
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack(list(reversed(mesh)) + [np.ones_like(mesh[0])], -1)  # (x, y[, z], 1)
    flat = _const(base.reshape(-1, base.shape[-1]))
    grid = flat @ theta.mT  # (N, P, d)
    return grid.reshape(size[0], *spatial, len(spatial))


def _unnormalize(g, n, align_corners):
    if align_corners:
        return (g + 1) * ((n - 1) / 2)
    return ((g + 1) * n - 1) * 0.5


def _reflect(p, twice_low, twice_high):
    if twice_low == twice_high:
        return p * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (p - low).abs()
    flips = np.floor(dist._data / span)
    extra = dist - _const(flips * span)
    even = _const((flips % 2) == 0)
    return where(even, extra + low, (-extra) + (span + low))


def _source_index(g, n, padding_mode, align_corners):
    p = _unnormalize(g, n, align_corners)
    if padding_mode == "border":
        p = p.clamp(0, n - 1)
    elif padding_mode == "reflection":
        p = _reflect(p, 0, 2 * (n - 1)) if align_corners else _reflect(p, -1, 2 * n - 1)
        p = p.clamp(0, n - 1)
    return p


def _read(flat_input, idx_axes, sizes, valid):
    """flat_input (N, C, S) at integer positions idx_axes (each (N, P)) -> (N, C, P); entries
    with ``valid`` False read 0."""
    n, c = flat_input.shape[:2]
    flat = np.zeros(idx_axes[0].shape, np.int64)
    for idx, size in zip(idx_axes, sizes):
        flat = flat * size + np.clip(idx, 0, size - 1)
    p = flat.shape[1]
    index = np.broadcast_to(flat[:, None, :], (n, c, p))
    vals = flat_input.gather(2, _const(np.ascontiguousarray(index)))
    if valid is not None and not valid.all():
        vals = vals * _const(valid[:, None, :].astype(vals._data.dtype))
    return vals


def _inside(idx_axes, sizes):
    ok = np.ones(idx_axes[0].shape, bool)
    for idx, size in zip(idx_axes, sizes):
        ok &= (idx >= 0) & (idx < size)
    return ok


def _cubic_weights(t):
    """The cubic convolution kernel's 4 weights at offsets -1, 0, 1, 2 (a = -0.75)."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bounded_index(i, n, padding_mode, align_corners):
    """Integer tap positions mapped by the padding mode (bicubic), as NumPy arrays."""
    if padding_mode == "border":
        return np.clip(i, 0, n - 1)
    if padding_mode == "reflection":
        p = _reflect(_const(i.astype(np.float64)), 0, 2 * (n - 1)) if align_corners else \
            _reflect(_const(i.astype(np.float64)), -1, 2 * n - 1)
        return np.clip(p._data, 0, n - 1).astype(np.int64)
    return i


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners=None) -> Tensor:
    """Sample ``input`` at the normalised positions of ``grid`` (see the module docstring).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        grid: (N, H_out, W_out, 2) of (x, y) in [-1, 1] (or (N, D_out, H_out, W_out, 3)).
        mode: "bilinear" (trilinear for 5-D), "nearest" or "bicubic" (4-D only).
        padding_mode: "zeros", "border" or "reflection".
        align_corners: -1 and 1 are the corner pixels' centres (True) or edges (False).

    Shape: (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    Example::

        >>> x = cr.arange(4.0).reshape(1, 1, 2, 2)
        >>> F.grid_sample(x, cr.zeros(1, 1, 1, 2), align_corners=True)  # the centre
        tensor([[[[1.5000]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    nd = input.ndim - 2
    if nd not in (2, 3) or grid.ndim != nd + 2 or grid.shape[-1] != nd or \
            grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with the same "
                           f"batch size and last dim {nd}, but got input of shape "
                           f"{list(input.shape)} and grid of shape {list(grid.shape)}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])  # (D,) H, W
    out_sp = tuple(grid.shape[1:-1])
    g = grid.reshape(n, -1, nd)
    coords = [g[..., nd - 1 - a] for a in range(nd)]  # per input axis (D,) H, W
    flat_input = input.reshape(n, c, -1)
    if mode == "bicubic":
        out = _bicubic(flat_input, coords, sizes, padding_mode, align_corners)
    else:
        pos = [_source_index(coords[a], sizes[a], padding_mode, align_corners)
               for a in range(nd)]
        if mode == "nearest":
            idx = [np.rint(p._data).astype(np.int64) for p in pos]
            out = _read(flat_input, idx, sizes, _inside(idx, sizes))
            if g.requires_grad:  # PyTorch gives the grid a zero gradient (not None)
                out = out + g.sum() * 0.0
        else:
            lows = [np.floor(p._data) for p in pos]
            fracs = [p - _const(lo) for p, lo in zip(pos, lows)]
            out = None
            for corner in itertools.product((0, 1), repeat=nd):
                idx = [lo.astype(np.int64) + k for lo, k in zip(lows, corner)]
                w = None
                for f, k in zip(fracs, corner):
                    wk = f if k else 1 - f
                    w = wk if w is None else w * wk
                term = _read(flat_input, idx, sizes, _inside(idx, sizes)) * w.unsqueeze(1)
                out = term if out is None else out + term
    return out.reshape(n, c, *out_sp)


def _bicubic(flat_input, coords, sizes, padding_mode, align_corners):
    (h, w), (cy, cx) = sizes, coords
    py, px = _unnormalize(cy, h, align_corners), _unnormalize(cx, w, align_corners)
    y0, x0 = np.floor(py._data), np.floor(px._data)
    wy = _cubic_weights(py - _const(y0))
    wx = _cubic_weights(px - _const(x0))
    out = None
    for i in range(4):
        iy = y0.astype(np.int64) - 1 + i
        by = _bounded_index(iy, h, padding_mode, align_corners)
        for j in range(4):
            ix = x0.astype(np.int64) - 1 + j
            bx = _bounded_index(ix, w, padding_mode, align_corners)
            vals = _read(flat_input, [by, bx], sizes, _inside([by, bx], sizes))
            term = vals * (wy[i] * wx[j]).unsqueeze(1)
            out = term if out is None else out + term
    return out
