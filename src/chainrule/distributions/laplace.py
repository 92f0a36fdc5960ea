"""``Laplace(loc, scale)``: p(x) = exp(-|x - loc| / scale) / (2 scale)."""

from __future__ import annotations

import numbers

import numpy as np

from ..random import default_generator
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _wrap, broadcast_all
from .distribution import expand_params

__all__ = ["Laplace"]


class Laplace(Distribution):
    """The Laplace (double exponential) distribution.

    Example::

        Laplace(0.0, 1.0).log_prob(cr.tensor(0.5))   # -log 2 - 0.5
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        eps = float(np.finfo(self.loc._data.dtype).eps)
        u = default_generator._rng.random(shape) * (2.0 - eps) + (eps - 1.0)  # U[eps-1, 1)
        u = _wrap(u.astype(self.loc._data.dtype))
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
