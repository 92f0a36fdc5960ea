"""``Poisson(rate)``: P(k) = rate^k e^-rate / k! on k = 0, 1, 2, ..."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import default_generator
from ..tensor import Size, Tensor
from . import constraints
from ._special import lgamma, xlogy
from .exp_family import ExponentialFamily
from .utils import _wrap, broadcast_all
from .distribution import expand_params

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    """Counts with mean and variance ``rate`` (>= 0); samples are floats of rate's dtype.

    Example::

        Poisson(cr.tensor([4.0])).log_prob(cr.tensor([2.0]))   # log(4^2 e^-4 / 2)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, numbers.Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Poisson, batch_shape, _instance, ("rate",))

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            lam = np.broadcast_to(self.rate._data, shape)
            return _wrap(default_generator._rng.poisson(lam).astype(self.rate._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
