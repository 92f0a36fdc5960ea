"""torch.nn surface: affine_grid, grid_sample (every mode, padding mode and align_corners,
4-D and 5-D) and interpolate's modes (nearest(-exact), linear, bilinear, bicubic, trilinear,
area, antialias) against PyTorch: values, input gradients and grid gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import compare


@pytest.mark.parametrize("mode,pm,ac", list(itertools.product(
    ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"], [True, False])))
def test_grid_sample_2d(torch, mode, pm, ac):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.3, 1.3, (2, 4, 7, 2))
    compare(torch, lambda a, b: F.grid_sample(a, b, mode, pm, ac),
            lambda a, b: torch.nn.functional.grid_sample(a, b, mode, pm, ac), [x, g], tol=1e-9)


@pytest.mark.parametrize("mode,pm,ac", list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [True, False])))
def test_grid_sample_3d(torch, mode, pm, ac):
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 2, 3, 4, 5)), rng.uniform(-1.2, 1.2, (2, 3, 2, 4, 3))
    compare(torch, lambda a, b: F.grid_sample(a, b, mode, pm, ac),
            lambda a, b: torch.nn.functional.grid_sample(a, b, mode, pm, ac), [x, g], tol=1e-9)


@pytest.mark.parametrize("ac", [True, False])
def test_affine_grid_and_spatial_transformer(torch, ac):
    rng = np.random.default_rng(2)
    th, th3 = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4))
    compare(torch, lambda t: F.affine_grid(t, (2, 3, 4, 5), ac),
            lambda t: torch.nn.functional.affine_grid(t, (2, 3, 4, 5), ac), [th])
    compare(torch, lambda t: F.affine_grid(t, (2, 3, 2, 4, 5), ac),
            lambda t: torch.nn.functional.affine_grid(t, (2, 3, 2, 4, 5), ac), [th3])
    x = rng.standard_normal((2, 3, 6, 6))  # the spatial-transformer pattern, end to end

    def stn(F_, theta, img):
        return F_.grid_sample(img, F_.affine_grid(theta, img.shape, align_corners=ac),
                              align_corners=ac)

    compare(torch, lambda t, a: stn(F, t, a), lambda t, a: stn(torch.nn.functional, t, a),
            [th * 0.3, x], tol=1e-9)


def test_grid_errors_and_default_warning():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(cr.eye(2, 3).unsqueeze(0), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(cr.randn(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(cr.randn(1, 1, 2, 2), cr.zeros(1, 1, 1, 2), mode="area")
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(cr.randn(1, 1, 2, 2, 2), cr.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)


def _interp_cases():
    out = []
    for shape in [(2, 3, 7), (2, 3, 6, 5), (1, 2, 4, 5, 3)]:
        nd = len(shape) - 2
        smooth = ["linear", "bilinear", "trilinear"][nd - 1]
        modes = ["nearest", "nearest-exact", "area", smooth] + (["bicubic"] if nd == 2 else [])
        for mode in modes:
            for kw in [dict(size=(9, 4, 7)[:nd]), dict(scale_factor=1.7),
                       dict(scale_factor=0.6, recompute_scale_factor=True)]:
                for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [True, False]):
                    out.append((shape, mode, kw, ac, False))
    for kw in [dict(size=(3, 2)), dict(scale_factor=0.4), dict(size=(9, 8))]:
        for mode in ("bilinear", "bicubic"):
            out.append(((2, 3, 11, 10), mode, kw, False, True))
    return out


@pytest.mark.parametrize("shape,mode,kw,ac,aa", _interp_cases())
def test_interpolate(torch, shape, mode, kw, ac, aa):
    x = np.random.default_rng(3).standard_normal(shape)
    compare(torch, lambda a: F.interpolate(a, mode=mode, align_corners=ac, antialias=aa, **kw),
            lambda a: torch.nn.functional.interpolate(a, mode=mode, align_corners=ac,
                                                      antialias=aa, **kw), [x], tol=1e-9)


def test_upsample_modules_new_modes(torch):
    x = np.random.default_rng(4).standard_normal((1, 2, 3, 4, 3))
    compare(torch, nn.Upsample(scale_factor=2, mode="trilinear"),
            torch.nn.Upsample(scale_factor=2, mode="trilinear"), [x])
    with pytest.raises(NotImplementedError, match="bicubic mode needs 4D input"):
        F.interpolate(cr.randn(1, 1, 4), size=3, mode="bicubic")
