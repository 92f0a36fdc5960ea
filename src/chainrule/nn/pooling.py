"""Pooling layers: max, average and adaptive pooling in 1 and 2 dimensions."""

from __future__ import annotations

from ..tensor import Tensor
from ._pooling_fn import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
)
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
]


def _check_hparams(owner, **values):
    for name, v in values.items():
        items = v if isinstance(v, (tuple, list)) else (v,)
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
            raise TypeError(f"{owner}: {name} must be an int or a tuple of ints, got {v!r}")
        low = 0 if name == "padding" else 1
        if any(a < low for a in items):
            raise ValueError(f"{owner}: {name} must be >= {low}, got {v!r}")


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        _check_hparams(type(self).__name__, kernel_size=kernel_size, padding=padding,
                       dilation=dilation, **({} if stride is None else {"stride": stride}))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """y[n, c, h, w] = max over the (kH, kW) window at (h sH - pH, w sW - pW), dilated by d;
    the gradient goes to the first maximum of each window.

    Args: kernel_size, stride (default kernel_size), padding (-inf, at most kernel/2),
        dilation, return_indices (also return flat h * W + w indices), ceil_mode.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - d (k - 1) - 1) / s) + 1
        (ceil with ceil_mode).

    Example::

        >>> nn.MaxPool2d(2)(cr.randn(64, 16, 28, 28)).shape
        chainrule.Size([64, 16, 14, 14])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """y[n, c, l] = max of x[n, c, l s + i d - p] over i < k (see ``MaxPool2d``).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> nn.MaxPool1d(3, stride=2)(cr.randn(2, 4, 11)).shape
        chainrule.Size([2, 4, 5])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class _AvgPoolNd(Module):
    """Base of the average pools (PyTorch's ``_AvgPoolNd``)."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """y[n, c, h, w] = sum of the (kH, kW) window at (h sH - pH, w sW - pW) / divisor.

    Args: kernel_size, stride (default kernel_size), padding (zeros, at most kernel/2),
        ceil_mode, count_include_pad (count padding in the divisor, default True),
        divisor_override (use this divisor for every window).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out) (as MaxPool2d with dilation 1).

    Example::

        >>> nn.AvgPool2d(2)(cr.ones(1, 1, 4, 4))  # all ones, (1, 1, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_hparams("AvgPool2d", kernel_size=kernel_size, padding=padding,
                       **({} if stride is None else {"stride": stride}))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """y[n, c, l] = mean of x[n, c, l s + i - p] over i < k (see ``AvgPool2d``).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> nn.AvgPool1d(2)(cr.randn(2, 3, 8)).shape
        chainrule.Size([2, 3, 4])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        _check_hparams("AvgPool1d", kernel_size=kernel_size, padding=padding,
                       **({} if stride is None else {"stride": stride}))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class _AdaptiveNd(Module):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptiveNd):
    """Base of the adaptive average pools (PyTorch's ``_AdaptiveAvgPoolNd``)."""


class _AdaptiveMaxPoolNd(_AdaptiveNd):
    """Base of the adaptive max pools (PyTorch's ``_AdaptiveMaxPoolNd``)."""


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """y[n, c, i, j] = mean of x over rows [floor(i H / H_out), ceil((i + 1) H / H_out)) and the
    matching columns.

    Args: output_size: int or (H_out, W_out); None keeps that input size.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> nn.AdaptiveAvgPool2d(1)(cr.randn(2, 8, 7, 7)).shape
        chainrule.Size([2, 8, 1, 1])
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """y[n, c, i] = mean of x[n, c, floor(i L / L_out) : ceil((i + 1) L / L_out)].

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> nn.AdaptiveAvgPool1d(4)(cr.randn(2, 3, 10)).shape
        chainrule.Size([2, 3, 4])
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """y[n, c, i, j] = max of x over the adaptive window of AdaptiveAvgPool2d (gradient to its
    first maximum); with return_indices also the flat h * W + w indices.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> nn.AdaptiveMaxPool2d((2, 3))(cr.randn(1, 2, 5, 7)).shape
        chainrule.Size([1, 2, 2, 3])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """y[n, c, i] = max of x[n, c, floor(i L / L_out) : ceil((i + 1) L / L_out)].

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> nn.AdaptiveMaxPool1d(4)(cr.randn(1, 2, 9)).shape
        chainrule.Size([1, 2, 4])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)
