"""Dropout modules: ``Dropout`` (inverted dropout) and ``AlphaDropout`` (for SELU nets)."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_layers import alpha_dropout, dropout
from .module import Module


class Dropout(Module):
    """In training, zero each element with probability p and scale the others by 1/(1 - p)
    (so the expected value is unchanged); the identity in eval mode.

    Args:
        p: probability of zeroing an element (0 <= p <= 1, default 0.5).
        inplace: write the result into the input (recorded when it is in a graph).

    Shape: input (*), output (*).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability p has to be between 0 "
                             f"and 1, but got {p!r}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class AlphaDropout(Dropout):
    """Dropout that keeps zero mean and unit variance for SELU activations: dropped values
    become -1.7581 and an affine map restores the statistics; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return alpha_dropout(input, self.p, self.training, self.inplace)
