"""Distance modules (``torch.nn.modules.distance``): ``CosineSimilarity``, ``PairwiseDistance``."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_distance import cosine_similarity, pairwise_distance
from .module import Module


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``: x1·x2 / (max(||x1||, eps) · max(||x2||, eps))
    (see ``F.cosine_similarity`` for the gradient at zero vectors).

    Args:
        dim: the vector dimension, removed from the output (default 1).
        eps: the smallest norm divided by (default 1e-8).

    Shape: (*1, D, *2) and a broadcastable input -> (*1, *2).

    Example::

        >>> nn.CosineSimilarity(dim=1)(cr.ones(2, 3), cr.ones(2, 3))
        tensor([1.0000, 1.0000])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension (see ``F.pairwise_distance``).

    Args:
        p: the norm degree, may be negative (default 2).
        eps: added to the difference to keep gradients finite (default 1e-6).
        keepdim: keep the vector dimension (size 1) in the output (default False).

    Shape: (N, D) or (D,) -> (N) or () ((N, 1) or (1) with ``keepdim``).

    Example::

        >>> nn.PairwiseDistance()(cr.zeros(1, 2), cr.tensor([[3.0, 4.0]]))
        tensor([5.0000])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


__all__ = ["CosineSimilarity", "PairwiseDistance"]
