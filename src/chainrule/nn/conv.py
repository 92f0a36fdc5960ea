"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``."""

from __future__ import annotations

import math

from .. import _dtype
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._spatial import conv1d, conv2d, conv_transpose1d, conv_transpose2d, pad, tuple_arg
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        for v, what in ((in_channels, "in_channels"), (out_channels, "out_channels"),
                        (groups, "groups")):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = tuple_arg(kernel_size, nd, "kernel_size", name, minimum=1)
        self.stride = tuple_arg(stride, nd, "stride", name, minimum=1)
        self.dilation = tuple_arg(dilation, nd, "dilation", name, minimum=1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid' or ints, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            if self._transposed:
                raise ValueError(f"{name}: padding must be ints for a transposed convolution")
            self.padding = padding
        else:
            self.padding = tuple_arg(padding, nd, "padding", name, minimum=0)
        self.output_padding = tuple_arg(output_padding, nd, "output_padding", name, minimum=0)
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding_mode is supported, got {padding_mode!r}")
        self.padding_mode = padding_mode
        # F.pad order (last dim first), for the non-zero padding modes
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in total]
        elif self.padding == "valid":
            pairs = [(0, 0)] * nd
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(a for pr in reversed(pairs) for a in pr)
        dt = dtype or _dtype.get_default_dtype()
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's init: kaiming_uniform_(a=sqrt(5)) for the weight (bound 1/sqrt(fan_in)),
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias; fan_in = weight.shape[1] * prod(k)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input, fn):  # noqa: A002
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                  self.groups)


class Conv2d(_ConvNd):
    """y[n, o] = b[o] + sum_{c, i, j} W[o, c, i, j] * x[n, c, h*s + i*d - p, w*s + j*d - p]
    (cross-correlation over each group of C_in / groups channels).

    Args:
        in_channels, out_channels: C_in, C_out (both divisible by groups).
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (pH, pW), "same" (stride 1) or "valid".
        groups: number of independent channel groups.
        bias: learn a per-channel bias (default True).
        padding_mode: "zeros", "reflect", "replicate" or "circular".

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1.

    Weight (C_out, C_in / groups, kH, kW) and bias start as in PyTorch:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in / groups * kH * kW.

    Example::

        >>> conv = nn.Conv2d(1, 16, 3, padding=1)
        >>> conv(cr.randn(64, 1, 28, 28)).shape
        chainrule.Size([64, 16, 28, 28])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(input, conv2d)


class Conv1d(_ConvNd):
    """y[n, o, l] = b[o] + sum_{c, i} W[o, c, i] * x[n, c, l*s + i*d - p].

    Args: as ``Conv2d`` with one spatial dim.
    Shape: (N, C_in, L) -> (N, C_out, L_out), L_out = floor((L + 2p - d (k - 1) - 1) / s) + 1.

    Example::

        >>> nn.Conv1d(2, 8, 5, padding="same")(cr.randn(4, 2, 100)).shape
        chainrule.Size([4, 8, 100])
    """

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(input, conv1d)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype)

    def _output_padding(self, input, output_size):  # noqa: A002
        """output_padding, or the one that gives ``output_size`` (PyTorch's forward arg)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = tuple(output_size)[-nd:]
        result = []
        for i in range(nd):
            n = input.shape[-nd + i]
            low = (n - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            if not low <= size[i] < low + self.stride[i]:
                raise ValueError(
                    f"{type(self).__name__}: requested output size {size} is not between "
                    f"{low} and {low + self.stride[i] - 1} for dim {i} (input {tuple(input.shape)})"
                )
            result.append(size[i] - low)
        return tuple(result)


class ConvTranspose2d(_ConvTransposeNd):
    """y = conv_transpose2d(x, W) + b: the adjoint (gradient) of Conv2d in its input,
    <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>; it upsamples by the stride.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias:
            as the Conv2d(out_channels -> in_channels) this is the transpose of.
        output_padding: extra size added to one side of the output (< stride or dilation).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1.

    Weight (C_in, C_out / groups, kH, kW); fan_in for the init is weight.shape[1] * kH * kW.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        >>> up(cr.randn(2, 16, 7, 7)).shape
        chainrule.Size([2, 8, 14, 14])
    """

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of Conv1d in its input (see ``ConvTranspose2d``).

    Shape: (N, C_in, L) -> (N, C_out, (L - 1) s - 2p + d (k - 1) + output_padding + 1).

    Example::

        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(cr.randn(1, 4, 10)).shape
        chainrule.Size([1, 2, 21])
    """

    _nd = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)
