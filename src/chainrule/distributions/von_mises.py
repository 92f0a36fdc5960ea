"""``VonMises(loc, concentration)``: the circular normal distribution on angles."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import default_generator
from ..tensor import Tensor
from . import constraints
from ._bessel import log_bessel_i
from .distribution import Distribution
from .utils import _wrap, broadcast_all, lazy_property

__all__ = ["VonMises"]


class VonMises(Distribution):
    """p(x) = exp(kappa cos(x - loc)) / (2 pi I_0(kappa)) for angles x (``loc`` the mean
    direction, ``concentration`` kappa > 0). Samples lie in [-pi, pi); not reparameterised
    (as PyTorch).

    Example::

        VonMises(cr.tensor(0.0), cr.tensor(4.0)).log_prob(cr.tensor(0.3))
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return log_prob - math.log(2 * math.pi) - log_bessel_i(self.concentration, 0)

    @no_grad()
    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc._data, shape).astype(np.float64)
        kappa = np.broadcast_to(self.concentration._data, shape).astype(np.float64)
        x = default_generator._rng.vonmises(loc, kappa)
        x = np.mod(x + math.pi, 2 * math.pi) - math.pi  # into [-pi, pi), as PyTorch
        return _wrap(x.astype(self.loc._data.dtype))

    def expand(self, batch_shape, _instance=None):
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(self.loc.expand(tuple(batch_shape)),
                          self.concentration.expand(tuple(batch_shape)),
                          validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """The circular variance 1 - I_1(kappa) / I_0(kappa)."""
        k = self.concentration
        return 1 - (log_bessel_i(k, 1) - log_bessel_i(k, 0)).exp()
