"""``Gamma(concentration, rate)``: p(x) = rate^a x^(a-1) e^(-rate x) / Gamma(a)."""

from __future__ import annotations

import numbers

import numpy as np

from ..creation import as_tensor
from ..tensor import Size, Tensor
from . import constraints
from ._gamma import gammainc, standard_gamma
from ._special import digamma, lgamma, xlogy
from .exp_family import ExponentialFamily
from .utils import broadcast_all
from .distribution import expand_params

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """The Gamma distribution with shape ``concentration`` (a) and ``rate`` (mean a / rate).

    ``rsample`` is reparameterised through the implicit derivative of the sample with
    respect to the concentration (see ``chainrule.distributions._gamma``).

    Example::

        a = cr.tensor(2.0, requires_grad=True)
        Gamma(a, 1.0).rsample((1000,)).mean().backward()   # a.grad ~ 1
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=float(np.finfo(value._data.dtype).tiny))

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - self.rate.log() + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

