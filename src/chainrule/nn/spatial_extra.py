"""Spatial extras: ``Dropout1d``/``Dropout2d`` (whole channels), ``Upsample`` layers, the
padding layers (``ZeroPad2d``, ``ReflectionPad2d``, ...) and ``Unfold``/``Fold``.

(BatchNorm2d lives in ``normalization.py`` with the other batch norms.)
"""

from __future__ import annotations

from ..tensor import Tensor
from ._interpolate import interpolate
from ._dropout_nd import dropout1d, dropout2d, dropout3d
from ._spatial import fold, pad, tuple_arg, unfold
from .dropout import _DropoutNd
from .module import Module

__all__ = [
    "Dropout1d", "Dropout2d", "Dropout3d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "Unfold", "Fold", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
    "CircularPad1d", "CircularPad2d", "ZeroPad3d", "ConstantPad3d", "ReflectionPad3d",
    "ReplicationPad3d", "CircularPad3d",
]


class Dropout2d(_DropoutNd):
    """In training, zero each whole channel x[n, c] with probability p and scale the kept
    ones by 1 / (1 - p); the identity in eval mode. (Neighbouring pixels are correlated, so
    dropping single pixels barely regularises convolutional features.)

    Args: p: probability of zeroing a channel (default 0.5); inplace: modify the input.
    Shape: (N, C, H, W), unchanged (other ranks as ``F.dropout2d``: PyTorch's warnings).

    Example::

        >>> drop = nn.Dropout2d(0.2)
        >>> drop(cr.randn(8, 16, 10, 10)).shape
        chainrule.Size([8, 16, 10, 10])
    """

    _fn = staticmethod(dropout2d)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p!r}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout2d):
    """Dropout of whole channels of (N, C, L) or (C, L) inputs (see ``Dropout2d``)."""

    _fn = staticmethod(dropout1d)


class Dropout3d(Dropout2d):
    """Dropout of whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _fn = staticmethod(dropout3d)


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


class Unfold(Module):
    """Sliding blocks (im2col): ``F.unfold``. Shape: (N, C, H, W) -> (N, C kH kW, L).

    Example::

        >>> nn.Unfold(kernel_size=2)(cr.randn(1, 3, 5, 5)).shape
        chainrule.Size([1, 12, 16])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (
            kernel_size, dilation, padding, stride)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    """Blocks back into an image, overlaps summed (col2im): ``F.fold``.
    Shape: (N, C kH kW, L) -> (N, C, *output_size).

    Example::

        >>> nn.Fold((5, 5), kernel_size=2)(cr.randn(1, 12, 16)).shape
        chainrule.Size([1, 3, 5, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()


class _PadNd(Module):
    _mode = "constant"
    _nd = 2

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        name = type(self).__name__
        self.padding = tuple_arg(padding, 2 * self._nd, "padding", name)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        if self._mode == "constant" and type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Base of the constant padding layers (PyTorch's ``_ConstantPadNd``)."""

    _mode = "constant"


class _ReflectionPadNd(_PadNd):
    """Base of the reflection padding layers (PyTorch's ``_ReflectionPadNd``)."""

    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    """Base of the replication padding layers (PyTorch's ``_ReplicationPadNd``)."""

    _mode = "replicate"


class _CircularPadNd(_PadNd):
    """Base of the circular padding layers (PyTorch's ``_CircularPadNd``)."""

    _mode = "circular"


_SIDES = {1: "", 2: ", top, bottom", 3: ", top, bottom, front, back"}


def _pad_layer(name, base, nd, what):
    doc = (f"Pad the last {nd} dim(s) {what}: ``F.pad(x, padding, {base._mode!r})``; padding "
           f"is an int or a {2 * nd}-tuple (left, right{_SIDES[nd]}).")
    if name.startswith("Constant"):
        def init(self, padding, value):
            _PadNd.__init__(self, padding, value)
    else:
        def init(self, padding):
            _PadNd.__init__(self, padding)
    return type(name, (base,), {"__doc__": doc, "_nd": nd, "__init__": init,
                                "__module__": __name__})


ConstantPad1d = _pad_layer("ConstantPad1d", _ConstantPadNd, 1, "with a constant value")
ConstantPad2d = _pad_layer("ConstantPad2d", _ConstantPadNd, 2, "with a constant value")
ConstantPad3d = _pad_layer("ConstantPad3d", _ConstantPadNd, 3, "with a constant value")
ZeroPad1d = _pad_layer("ZeroPad1d", ConstantPad1d, 1, "with zeros")
ZeroPad2d = _pad_layer("ZeroPad2d", ConstantPad2d, 2, "with zeros")
ZeroPad3d = _pad_layer("ZeroPad3d", ConstantPad3d, 3, "with zeros")
ReflectionPad1d = _pad_layer("ReflectionPad1d", _ReflectionPadNd, 1, "by reflection (edge not repeated)")
ReflectionPad2d = _pad_layer("ReflectionPad2d", _ReflectionPadNd, 2, "by reflection (edge not repeated)")
ReflectionPad3d = _pad_layer("ReflectionPad3d", _ReflectionPadNd, 3, "by reflection (edge not repeated)")
ReplicationPad1d = _pad_layer("ReplicationPad1d", _ReplicationPadNd, 1, "by repeating the edge")
ReplicationPad2d = _pad_layer("ReplicationPad2d", _ReplicationPadNd, 2, "by repeating the edge")
ReplicationPad3d = _pad_layer("ReplicationPad3d", _ReplicationPadNd, 3, "by repeating the edge")
CircularPad1d = _pad_layer("CircularPad1d", _CircularPadNd, 1, "by wrapping around")
CircularPad2d = _pad_layer("CircularPad2d", _CircularPadNd, 2, "by wrapping around")
CircularPad3d = _pad_layer("CircularPad3d", _CircularPadNd, 3, "by wrapping around")
