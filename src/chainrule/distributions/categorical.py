"""``Categorical(probs | logits)``: one of K categories (integer samples 0 .. K-1)."""

from __future__ import annotations

import math

import numpy as np

from ..creation import arange, full
from ..random import default_generator
from ..functions.shape import broadcast_tensors
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _wrap, _size, finfo, lazy_property, logits_to_probs, probs_to_logits
from .distribution import expand_params

__all__ = ["Categorical"]


def _draw_categories(probs: np.ndarray, n: int) -> np.ndarray:
    """``n`` category indices per row of ``probs`` (B, K) as an int64 array (n, B), by
    inverse-CDF sampling: u ~ U[0, 1) falls in category k when cdf[k-1] <= u < cdf[k]
    (so a zero-probability category is never drawn). Small problems compare u with every
    cdf entry; large ones do one sorted search for all rows (row b's CDF shifted by b)."""
    b, k = probs.shape
    cdf = np.cumsum(probs.astype(np.float64), axis=-1)
    total = cdf[:, -1:]
    if np.any(~(total > 0)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    cdf /= total  # the last entry is exactly 1, so u < 1 never falls past it
    u = default_generator._rng.random((n, b))
    if n * b * k <= 65536:
        return (u[:, :, None] >= cdf[None, :, :-1]).sum(-1)
    offsets = np.arange(b, dtype=np.float64)
    flat = (cdf + offsets[:, None]).ravel()
    idx = np.searchsorted(flat, u + offsets, side="right") - (offsets * k).astype(np.int64)
    return np.minimum(idx, k - 1)


class Categorical(Distribution):
    """K categories with probabilities ``probs`` (normalised over the last dim) or
    ``logits`` (unnormalised log-probabilities); give exactly one.

    ``batch_shape`` is ``probs.shape[:-1]``; samples are int64 category indices.

    Example::

        d = Categorical(logits=policy_net(state))   # (N, n_actions)
        action = d.sample()                         # (N,)
        loss = -(d.log_prob(action) * returns).mean()
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = expand_params(self, Categorical, batch_shape, _instance, ("probs", "logits"), 1)
        new._param = new.logits if "logits" in self.__dict__ else new.probs
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=()):
        sample_shape = _size(sample_shape)
        probs_2d = self.probs._data.reshape(-1, self._num_events)
        draws = _draw_categories(probs_2d, sample_shape.numel())
        return _wrap(draws.reshape(tuple(self._extended_shape(sample_shape))))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events).view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
