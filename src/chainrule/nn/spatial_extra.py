"""Spatial extras: ``Dropout1d``/``Dropout2d`` (whole channels) and ``Upsample`` layers.

(BatchNorm2d lives in ``normalization.py`` with the other batch norms.)
"""

from __future__ import annotations

import warnings

import numpy as np

from ..random import _gen
from ..tensor import Tensor
from ._interpolate import interpolate
from .module import Module

__all__ = ["Dropout1d", "Dropout2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


def _channel_dropout(input, p, training, nd, op, generator=None):  # noqa: A002
    if not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    if not isinstance(input, Tensor) or input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D input, got "
            f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    if nd == 2 and input.ndim == 3:  # PyTorch's (deprecated) reading: (N, C, L), not (C, H, W)
        warnings.warn(
            f"{op}: a 3-D input is treated as (N, C, L) and whole (n, c) rows are dropped, as "
            "PyTorch does; use dropout1d for that, or add a batch dimension",
            stacklevel=3,
        )
        shape = input.shape[:2] + (1,)
    else:
        shape = input.shape[: input.ndim - nd] + (1,) * nd  # one draw per (sample, channel)
    keep = _gen(generator).random(shape) >= p
    dt = input._data.dtype
    mask = keep.astype(dt) * np.asarray(1.0 / (1.0 - p), dt)
    return input * Tensor._make(mask, False, None, 0)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels: y[n, c] = x[n, c] * m[n, c] / (1 - p), m ~ Bernoulli(1 - p).

    Shape: (N, C, H, W), unchanged. (A 3-D input is read as (N, C, L), with a warning, as
    PyTorch does.)

    Example::

        >>> F.dropout2d(cr.ones(2, 4, 3, 3), 0.5)  # each (n, c) plane all 0 or all 2
    """
    return _channel_dropout(input, p, training, 2, "dropout2d")


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) inputs (see ``dropout2d``)."""
    return _channel_dropout(input, p, training, 1, "dropout1d")


class Dropout2d(Module):
    """In training, zero each whole channel x[n, c] with probability p and scale the kept
    ones by 1 / (1 - p); the identity in eval mode. (Neighbouring pixels are correlated, so
    dropping single pixels barely regularises convolutional features.)

    Args: p: probability of zeroing a channel (default 0.5); inplace: accepted, ignored.
    Shape: (N, C, H, W), unchanged (a 3-D input is read as (N, C, L), as PyTorch does).

    Example::

        >>> drop = nn.Dropout2d(0.2)
        >>> drop(cr.randn(8, 16, 10, 10)).shape
        chainrule.Size([8, 16, 10, 10])
    """

    _nd = 2

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return _channel_dropout(input, self.p, self.training, self._nd, type(self).__name__)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout2d):
    """Dropout of whole channels of (N, C, L) inputs (see ``Dropout2d``)."""

    _nd = 1


class Upsample(Module):
    """Resample to ``size`` or by ``scale_factor`` with ``F.interpolate``.

    Args: size, scale_factor, mode ("nearest", "nearest-exact", "linear", "bilinear"),
        align_corners (linear modes), recompute_scale_factor.
    Shape: (N, C, *spatial) -> (N, C, *size).

    Example::

        >>> nn.Upsample(scale_factor=2)(cr.randn(1, 3, 4, 4)).shape
        chainrule.Size([1, 3, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if isinstance(scale_factor, (tuple, list)):
            scale_factor = tuple(float(f) for f in scale_factor)
        elif scale_factor:
            scale_factor = float(scale_factor)
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode="nearest")`` for 4-D inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode="bilinear", align_corners=True)`` for 4-D inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
