"""``Dirichlet(concentration)``: distributions over the probability simplex."""

from __future__ import annotations

from ..nn._functional_act import one_hot
from ..tensor import Tensor
from . import constraints
from ._gamma import dirichlet_sample
from ._special import digamma, lgamma, xlogy
from .exp_family import ExponentialFamily
from .utils import any_true
from .distribution import expand_params

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """p(x) = Gamma(sum a) / prod Gamma(a_i) * prod x_i^(a_i - 1) on the simplex
    (``event_shape`` = concentration.shape[-1:]).

    ``rsample`` normalises independent reparameterised Gamma(a_i, 1) draws, so gradients
    reach the concentration through each draw's implicit derivative (PyTorch instead
    differentiates the marginal Beta CDFs: both are unbiased pathwise estimators, with
    different per-sample values).

    Example::

        d = Dirichlet(cr.tensor([0.5, 0.5, 2.0]))
        d.sample()          # three non-negative numbers summing to 1
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Dirichlet, batch_shape, _instance, ("concentration",), 1)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return dirichlet_sample(self.concentration.expand(tuple(shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1)
                + lgamma(self.concentration.sum(-1)) - lgamma(self.concentration).sum(-1))

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        if any_true(mask):
            mode[mask] = one_hot(mode[mask].argmax(dim=-1), cm1.shape[-1]).to(mode.dtype)
        return mode

    @property
    def variance(self) -> Tensor:
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (lgamma(self.concentration).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
