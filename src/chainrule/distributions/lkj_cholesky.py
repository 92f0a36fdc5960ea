"""``LKJCholesky(dim, concentration)``: the LKJ distribution over Cholesky factors of
correlation matrices (Lewandowski, Kurowicka and Joe 2009), sampled by the onion method."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..linalg_ops import diagonal
from ..random import default_generator
from ..functions.shape import cat
from . import constraints
from ._special import lgamma, mvlgamma
from .beta import Beta
from .distribution import Distribution
from .utils import _size, _wrap, broadcast_all, finfo

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """For the Cholesky factor L of a correlation matrix C = L L^T:
    p(L) ∝ prod_{i=2..d} L_ii^(d - i + 2 (eta - 1)), i.e. p(C) ∝ det(C)^(eta - 1)
    (eta = ``concentration``; eta = 1 is uniform over correlation matrices).

    Example::

        LKJCholesky(3, 2.0).sample()        # a 3 x 3 lower-triangular, unit-norm rows
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        # row i >= 1 of the onion: y_i ~ Beta(i/2, eta + (d - 2)/2 - (i - 1)/2) (row 0 unused).
        # PyTorch 2.13 uses Beta(i - 1/2, ...) for i >= 2, which skews the correlations of
        # rows >= 2 (their variance is not 1 / (2 eta + d - 1)); this is the paper's.
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        beta_conc1 = cat([offset.new_ones((1,)) * 0.5,
                          arange(1, self.dim, dtype=self.concentration.dtype) * 0.5])
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, (dim, dim), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = _size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @no_grad()
    def sample(self, sample_shape=()):
        """The onion method: row i is sqrt(y_i) times a uniform direction in its first i
        coordinates, y_i ~ Beta, and the diagonal completes the unit norm."""
        y = self._beta.sample(sample_shape)._data[..., None]
        shape = tuple(self._extended_shape(sample_shape))
        u = np.tril(default_generator._rng.standard_normal(shape), -1).astype(y.dtype)
        norm = np.sqrt((u * u).sum(-1, keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(norm > 0, u / norm, 0.0)
        u[..., 0, :] = 0.0
        w = np.sqrt(y) * u
        diag = np.sqrt(np.maximum(1 - (w * w).sum(-1), finfo(self.concentration.dtype).tiny))
        idx = np.arange(self.dim)
        w[..., idx, idx] += diag
        return _wrap(w.astype(self.concentration._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = diagonal(value, 0, -1, -2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=self.concentration.dtype)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = (0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1)
                     - lgamma(alpha) * dm1)
        return unnormalized - normalize
