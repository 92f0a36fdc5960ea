"""More pooling layers (``torch.nn.modules.pooling``): ``MaxPool3d``, ``AvgPool3d``,
``AdaptiveAvgPool3d``, ``AdaptiveMaxPool3d``, ``LPPool1d/2d/3d``, ``MaxUnpool1d/2d/3d`` and
``FractionalMaxPool2d/3d``. Formulas in the functional forms."""

from __future__ import annotations

from ..tensor import Tensor
from ._pooling3d_fn import (
    adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d,
    max_pool3d,
)
from ._spatial import tuple_arg
from ._unpool_fn import (
    fractional_max_pool2d, fractional_max_pool3d, max_unpool1d, max_unpool2d, max_unpool3d,
)
from .module import Module
from .pooling import _AdaptiveAvgPoolNd, _AdaptiveMaxPoolNd, _AvgPoolNd, _check_hparams
from .pooling import _MaxPoolNd

__all__ = [
    "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "FractionalMaxPool2d",
    "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool3d", "MaxUnpool1d",
    "MaxUnpool2d", "MaxUnpool3d",
]


class MaxPool3d(_MaxPoolNd):
    """y[n, c, d, h, w] = max over the (kD, kH, kW) window (gradient to its first maximum).

    Args: kernel_size, stride (default kernel_size), padding (-inf, at most kernel/2),
        dilation, return_indices (flat (d H + h) W + w), ceil_mode.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> nn.MaxPool3d(2)(cr.randn(1, 2, 4, 4, 4)).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool3d(_AvgPoolNd):
    """y = (sum of x over the (kD, kH, kW) window) / divisor.

    Args: kernel_size, stride (default kernel_size), padding (zeros, at most kernel/2),
        ceil_mode, count_include_pad (default True), divisor_override.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> nn.AvgPool3d(2)(cr.ones(1, 1, 4, 4, 4)).shape
        chainrule.Size([1, 1, 2, 2, 2])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_hparams("AvgPool3d", kernel_size=kernel_size, padding=padding,
                       **({} if stride is None else {"stride": stride}))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over adaptive windows [floor(i D / D_out), ceil((i + 1) D / D_out)) per axis.

    Args: output_size: int or (D_out, H_out, W_out); None keeps that input size.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> nn.AdaptiveAvgPool3d(1)(cr.randn(2, 3, 4, 5, 6)).shape
        chainrule.Size([2, 3, 1, 1, 1])
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over the adaptive windows of ``AdaptiveAvgPool3d`` (gradient to the first max).

    Args: output_size, return_indices.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> nn.AdaptiveMaxPool3d((1, 2, 2))(cr.randn(1, 2, 4, 5, 6)).shape
        chainrule.Size([1, 2, 1, 2, 2])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    """Base of the power-average pools (PyTorch's ``_LPPoolNd``)."""

    _fn = None

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """y = (sum over the window of x^p)^(1/p) (p = norm_type; inf is max pooling).

    Shape: (N, C, L) -> (N, C, L_out).

    Example::

        >>> nn.LPPool1d(2, 3, stride=2)(cr.randn(1, 4, 11)).shape
        chainrule.Size([1, 4, 5])
    """

    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """y = (sum over the (kH, kW) window of x^p)^(1/p).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> nn.LPPool2d(2, 2)(cr.randn(1, 4, 6, 6)).shape
        chainrule.Size([1, 4, 3, 3])
    """

    _fn = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """y = (sum over the (kD, kH, kW) window of x^p)^(1/p).

    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example::

        >>> nn.LPPool3d(1, 2)(cr.randn(1, 1, 4, 4, 4)).shape
        chainrule.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(lp_pool3d)


class _MaxUnpoolNd(Module):
    """Base of the max unpools (PyTorch's ``_MaxUnpoolNd``)."""

    _nd = 2
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        self.kernel_size = tuple_arg(kernel_size, nd, "kernel_size", name, 1)
        self.stride = tuple_arg(stride if stride is not None else kernel_size, nd, "stride",
                                name, 1)
        self.padding = tuple_arg(padding, nd, "padding", name, 0)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


_UNPOOL_DOC = """The partial inverse of ``MaxPool{n}d``: each value returns to the position
    its index names (from ``return_indices=True``), zeros elsewhere.

    Args: kernel_size, stride (default kernel_size), padding: as the pool's.
    Forward: (input, indices, output_size=None) ; output_size picks among the sizes that
    pool to the input's.

    Example::

        >>> pool, unpool = nn.MaxPool{n}d(2, return_indices=True), nn.MaxUnpool{n}d(2)
        >>> unpool(*pool(cr.randn({shape}))).shape
        chainrule.Size([{shape}])
    """


class MaxUnpool1d(_MaxUnpoolNd):
    __doc__ = _UNPOOL_DOC.format(n=1, shape="1, 2, 8")
    _nd = 1
    _fn = staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    __doc__ = _UNPOOL_DOC.format(n=2, shape="1, 2, 4, 4")
    _nd = 2
    _fn = staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    __doc__ = _UNPOOL_DOC.format(n=3, shape="1, 2, 4, 4, 4")
    _nd = 3
    _fn = staticmethod(max_unpool3d)


class _FractionalMaxPool(Module):
    _nd = 2
    _fn = None

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        self.kernel_size = tuple_arg(kernel_size, nd, "kernel_size", name, 1)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else tuple_arg(
            output_size, nd, "output_size", name, 1)
        ratio = output_ratio
        if ratio is not None and isinstance(ratio, (int, float)):
            ratio = (ratio,) * nd
        self.output_ratio = None if ratio is None else tuple(ratio)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a "
                             "pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):  # noqa: A002
        return type(self)._fn(input, self.kernel_size, self.output_size, self.output_ratio,
                              self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPool):
    """Fractional max pooling (Graham, 2014): max over (kH, kW) windows at pseudo-random
    starts, to ``output_size`` or ``output_ratio`` of the input (new positions each call
    unless ``_random_samples`` (N, C, 2) is given).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    Example::

        >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(cr.randn(1, 2, 10, 10)).shape
        chainrule.Size([1, 2, 5, 5])
    """

    _nd = 2
    _fn = staticmethod(fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPool):
    """Fractional max pooling over (kT, kH, kW) windows (see ``FractionalMaxPool2d``).

    Shape: (N, C, T, H, W) -> (N, C, T_out, H_out, W_out).

    Example::

        >>> nn.FractionalMaxPool3d(2, output_size=3)(cr.randn(1, 1, 6, 6, 6)).shape
        chainrule.Size([1, 1, 3, 3, 3])
    """

    _nd = 3
    _fn = staticmethod(fractional_max_pool3d)
