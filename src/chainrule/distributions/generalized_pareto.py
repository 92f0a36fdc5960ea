"""``GeneralizedPareto(loc, scale, concentration)``: the generalised Pareto distribution
(peaks over thresholds)."""

from __future__ import annotations

import math
import numbers

from ..creation import ones_like, rand, zeros_like
from ..tensor import Size, Tensor
from ..functions.elementwise import isclose, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all
from .distribution import expand_params

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """With z = (x - loc) / scale and shape xi = ``concentration``:
    log p(x) = -log(scale) - (1/xi + 1) log(1 + xi z)  (xi != 0),  -log(scale) - z  (xi = 0);
    support [loc, loc - scale / xi] for xi < 0, [loc, inf) otherwise.

    Example::

        GeneralizedPareto(0.0, 1.0, 0.2).icdf(cr.tensor(0.5))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, numbers.Number) for v in (loc, scale, concentration)):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_params(self, GeneralizedPareto, batch_shape, _instance,
                             ("loc", "scale", "concentration"))

    def rsample(self, sample_shape=()):
        return self.icdf(rand(tuple(self._extended_shape(sample_shape)), dtype=self.loc.dtype))

    def _safe(self):
        eq_zero = isclose(self.concentration, zeros_like(self.concentration))
        return eq_zero, where(eq_zero, ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe()
        y = 1 / safe + ones_like(z)
        nonzero = where(y == 0, y, y * (safe * z).log1p())
        return -self.scale.log() - where(eq_zero, z, nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe()
        return where(eq_zero, -z, -(safe * z).log1p() / safe)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, safe = self._safe()
        logu = (-value).log1p()
        nonzero = self.loc + self.scale / safe * (-safe * logu).expm1()
        return where(eq_zero, self.loc - self.scale * logu, nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        safe = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        safe = where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe) ** 2 * (1 - 2 * safe))
        return where(valid, result, math.nan)

    def entropy(self):
        ans = self.scale.log() + self.concentration + 1
        return ans.expand(tuple(self._batch_shape))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        neg = self.concentration < 0
        safe = where(neg, self.concentration, -ones_like(self.concentration))
        upper = where(neg, lower - self.scale / safe, math.inf)
        return constraints.interval(lower, upper)
