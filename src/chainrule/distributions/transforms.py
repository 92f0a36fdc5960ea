"""Transforms: invertible maps y = f(x) with log|det J| (``torch.distributions.transforms``).

A ``Transform`` is called on x (``t(x)``), inverted by ``t.inv(y)``, and gives
``log_abs_det_jacobian(x, y)`` for the change of variables
log p_Y(y) = log p_X(x) - log|det df/dx|, which ``TransformedDistribution`` uses.
``domain``/``codomain`` are constraints; ``cache_size=1`` remembers the last (x, y) pair so
that ``t.inv(t(x))`` returns x itself (exactly, and without recomputation).

Example (a tanh-squashed Gaussian policy, as in SAC)::

    base = Normal(mu, std)
    pi = TransformedDistribution(base, [TanhTransform(cache_size=1)])
    a = pi.rsample()
    pi.log_prob(a)        # includes -log(1 - tanh(u)^2), computed stably
"""
from __future__ import annotations

from ._transform_base import (  # noqa: F401
    ComposeTransform, IndependentTransform, ReshapeTransform, Transform, _InverseTransform,
    identity_transform,
)
from ._transforms_elementwise import (  # noqa: F401
    AbsTransform, AffineTransform, ExpTransform, PowerTransform, SigmoidTransform,
    SoftplusTransform, TanhTransform, _clipped_sigmoid,
)
from ._transforms_more import (  # noqa: F401
    CatTransform, CorrCholeskyTransform, CumulativeDistributionTransform,
    LowerCholeskyTransform, PositiveDefiniteTransform, SoftmaxTransform, StackTransform,
    StickBreakingTransform,
)

__all__ = [
    "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
    "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
    "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
    "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftplusTransform",
    "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
    "Transform", "identity_transform",
]
