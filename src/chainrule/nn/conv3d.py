"""3-D convolution layers: ``Conv3d`` and ``ConvTranspose3d`` (``torch.nn.modules.conv``)."""

from __future__ import annotations

from ..tensor import Tensor
from ._conv3d_fn import conv3d, conv_transpose3d
from .conv import _ConvNd, _ConvTransposeNd

__all__ = ["Conv3d", "ConvTranspose3d"]


class Conv3d(_ConvNd):
    """y[n, o] = b[o] + sum_{c, i, j, l} W[o, c, i, j, l] x[n, c, d sD + i dD - pD,
    h sH + j dH - pH, w sW + l dW - pW] (cross-correlation over each channel group).

    Args:
        in_channels, out_channels: C_in, C_out (both divisible by groups).
        kernel_size, stride, dilation: int or (d, h, w).
        padding: int, triple, "same" (stride 1) or "valid".
        groups, bias, padding_mode ("zeros", "reflect", "replicate", "circular").

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = floor((D + 2 pD - dD (kD - 1) - 1) / sD) + 1 (likewise H_out, W_out).

    Weight (C_out, C_in / groups, kD, kH, kW) and bias start as PyTorch's:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in / groups * kD * kH * kW.

    Example::

        >>> nn.Conv3d(2, 4, 3, padding=1)(cr.randn(1, 2, 5, 6, 6)).shape
        chainrule.Size([1, 4, 5, 6, 6])
    """

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(input, conv3d)


class ConvTranspose3d(_ConvTransposeNd):
    """The adjoint of Conv3d in its input (it upsamples by the stride):
    <conv3d(x, W), y> = <x, conv_transpose3d(y, W)>, plus the bias.

    Args: in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
        bias, dilation, padding_mode ("zeros" only).

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
        D_out = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1.

    Weight (C_in, C_out / groups, kD, kH, kW).

    Example::

        >>> nn.ConvTranspose3d(4, 2, 2, stride=2)(cr.randn(1, 4, 3, 3, 3)).shape
        chainrule.Size([1, 2, 6, 6, 6])
    """

    _nd = 3

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)
