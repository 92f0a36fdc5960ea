"""``Bernoulli(probs | logits)``: one coin flip, 1 with probability ``probs``."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..nn._functional_loss import binary_cross_entropy_with_logits as _bce_logits
from ..random import default_generator
from ..tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _wrap, broadcast_all, lazy_property, logits_to_probs, probs_to_logits
from .distribution import expand_params

__all__ = ["Bernoulli"]


def _bernoulli_draw(probs: Tensor, shape) -> Tensor:
    """0/1 draws (probs' dtype) with P(1) = probs, broadcast to ``shape``."""
    p = np.broadcast_to(probs._data, tuple(shape))
    u = default_generator._rng.random(p.shape)
    return _wrap((u < p).astype(probs._data.dtype))


class Bernoulli(ExponentialFamily):
    """P(X = 1) = probs = sigmoid(logits); give exactly one of ``probs`` and ``logits``.

    log p(x) = x log(p) + (1 - x) log(1 - p), computed from the logits as
    -BCEWithLogits(logits, x) (finite for any logit).

    Example::

        d = Bernoulli(logits=cr.tensor([0.0, 2.0]))
        d.sample()                      # tensor([0., 1.]) say
        d.log_prob(cr.tensor([1.0, 1.0]))
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, Bernoulli, batch_shape, _instance, ("probs", "logits"))
        new._param = new.logits if "logits" in self.__dict__ else new.probs
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        mode[self.probs == 0.5] = math.nan
        return mode

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return _bernoulli_draw(self.probs, shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_logits(logits, value, reduction="none")

    def entropy(self):
        return _bce_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return ((self.probs / (1 - self.probs)).log(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
