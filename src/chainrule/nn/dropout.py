"""Dropout modules: ``Dropout`` (inverted dropout), ``AlphaDropout`` (for SELU nets) and
``FeatureAlphaDropout``; ``_DropoutNd`` is their base (and that of ``Dropout1d/2d/3d``)."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_layers import alpha_dropout, dropout
from .module import Module


class _DropoutNd(Module):
    """Base of the dropout modules (PyTorch's ``_DropoutNd``): ``p`` and ``inplace``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability p has to be between 0 "
                             f"and 1, but got {p!r}")
        self.p = float(p)
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale the others by 1/(1 - p)
    (so the expected value is unchanged); the identity in eval mode.

    Args:
        p: probability of zeroing an element (0 <= p <= 1, default 0.5).
        inplace: write the result into the input (recorded when it is in a graph).

    Shape: input (*), output (*).
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps zero mean and unit variance for SELU activations: dropped values
    become -1.7581 and an affine map restores the statistics; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (``F.feature_alpha_dropout``): each (sample, channel)
    slice is kept, or set to SELU's saturation value -1.7581, with one draw, then the affine
    map of ``AlphaDropout`` restores zero mean and unit variance; identity in eval mode.

    Args: p: probability of dropping a channel (0.5); inplace: write into the input.
    Shape: (N, C, *) or (C, *), output the same.

    Example::

        >>> nn.FeatureAlphaDropout(0.2)(cr.randn(4, 16, 8, 8)).shape
        chainrule.Size([4, 16, 8, 8])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        from ._functional_layers_extra import feature_alpha_dropout

        return feature_alpha_dropout(input, self.p, self.training)
