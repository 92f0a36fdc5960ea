"""More normalisation layers: ``InstanceNorm1d/2d/3d`` (``torch.nn.modules.instancenorm``),
``LocalResponseNorm``, ``CrossMapLRN2d`` and ``RMSNorm`` (``torch.nn.modules.normalization``).
"""

from __future__ import annotations

import warnings

from .. import _dtype
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._functional_norm import cross_map_lrn2d, instance_norm, local_response_norm, rms_norm
from .module import Module
from .normalization import _NormBase
from .parameter import Parameter

__all__ = ["CrossMapLRN2d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LocalResponseNorm", "RMSNorm"]


class _InstanceNorm(_NormBase):
    """Instance norm (PyTorch's ``_InstanceNorm``): no affine parameters and no running
    statistics by default; an input without batch dimension is accepted."""

    _no_batch_dim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input):  # noqa: A002
        nd = self._no_batch_dim
        if input.ndim not in (nd, nd + 1):
            raise ValueError(f"expected {nd}D or {nd + 1}D input (got {input.ndim}D input)")

    def _apply_instance_norm(self, input):  # noqa: A002
        return instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats,
                             self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can "
                "silence this warning by not passing in num_features, which is not used "
                "because affine=False", stacklevel=2)
        if input.ndim == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


_INSTANCE_DOC = """Instance normalisation over the {what} of each (sample, channel):
    y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta (Ulyanov et al., 2016), statistics
    per instance and channel (biased variance). With ``track_running_stats`` the running
    estimates are updated in training (batch average of the instance statistics, unbiased
    variance) and used in eval mode.

    Args:
        num_features: C.  eps: added to the variance (1e-5).  momentum: running-statistics
            update rate (0.1).  affine: learn per-channel gamma and beta (default False).
        track_running_stats: keep running estimates (default False).  bias: with affine,
            learn beta too (default True).

    Shape: {shape} (or without the batch dimension), output the same.

    Example::

        >>> m = nn.{name}(4, affine=True)
        >>> m(cr.randn({example})).shape
        chainrule.Size([{example}])
    """


class InstanceNorm1d(_InstanceNorm):
    __doc__ = _INSTANCE_DOC.format(what="length", shape="(N, C, L)", name="InstanceNorm1d",
                                   example="2, 4, 10")
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    __doc__ = _INSTANCE_DOC.format(what="height and width", shape="(N, C, H, W)",
                                   name="InstanceNorm2d", example="2, 4, 6, 6")
    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    __doc__ = _INSTANCE_DOC.format(what="depth, height and width", shape="(N, C, D, H, W)",
                                   name="InstanceNorm3d", example="2, 4, 3, 3, 3")
    _no_batch_dim = 4


class LocalResponseNorm(Module):
    """Local response normalisation across channels: b_c = a_c (k + alpha / n
    sum_{c' = c - n/2}^{c + (n-1)/2} a_{c'}^2)^-beta, n = ``size`` (AlexNet's LRN).

    Args: size: channels in the window.  alpha (1e-4), beta (0.75), k (1.0).
    Shape: (N, C, *), output the same.

    Example::

        >>> nn.LocalResponseNorm(2)(cr.randn(2, 8, 4, 4)).shape
        chainrule.Size([2, 8, 4, 4])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    """PyTorch's legacy cross-map LRN: y = x (k + alpha / size * sum_window x^2)^-beta over
    a window of channels, reproducing that module's forward (its window always includes
    channel 0; see ``_functional_norm._cross_map_window``). The gradient is the exact
    derivative of that forward.

    Args: size, alpha (1e-4), beta (0.75), k (1).
    Shape: (N, C, H, W), output the same.

    Example::

        >>> nn.CrossMapLRN2d(3)(cr.randn(1, 5, 2, 2)).shape
        chainrule.Size([1, 5, 2, 2])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """Root-mean-square layer normalisation (Zhang & Sennrich, 2019) over the trailing
    dims: y = x / sqrt(mean(x^2) + eps) * gamma.

    Args:
        normalized_shape: the trailing shape (int or tuple).
        eps: added to the mean square; None (default) means the input dtype's machine eps.
        elementwise_affine: learn gamma (ones at start; default True).

    Shape: (*, *normalized_shape), output the same.

    Example::

        >>> nn.RMSNorm(8)(cr.randn(2, 5, 8)).shape
        chainrule.Size([2, 5, 8])
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*ns, dtype=dtype or _dtype.get_default_dtype()))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
