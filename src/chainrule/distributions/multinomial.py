"""``Multinomial(total_count, probs | logits)``: counts of ``total_count`` categorical draws."""

from __future__ import annotations

import numpy as np

from ..creation import tensor as _tensor
from ..random import default_generator
from ..tensor import Size, Tensor
from . import constraints
from ._special import lgamma
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import _size, _wrap, broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """P(x) = n! / prod x_i! * prod p_i^x_i for count vectors x summing to n =
    ``total_count`` (an int, as PyTorch requires); ``event_shape`` = (K,).

    Example::

        Multinomial(10, probs=cr.tensor([0.2, 0.8])).sample()    # e.g. tensor([2., 8.])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = _size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        probs = np.broadcast_to(self.probs._data, shape).astype(np.float64)
        flat = probs.reshape(-1, shape[-1])
        flat = flat / flat.sum(-1, keepdims=True)
        counts = default_generator._rng.multinomial(self.total_count, flat)
        return _wrap(counts.reshape(shape).astype(self.probs._data.dtype))

    def entropy(self):
        n = _tensor(float(self.total_count), dtype=self.probs.dtype)
        term1 = n * self._categorical.entropy() - lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum(0).sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone()
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        logits[(value == 0) & (logits == -np.inf)] = 0  # 0 * log(0) = 0
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
