"""``ExponentialFamily``: distributions p(x; theta) = h(x) exp(<t(x), theta> - F(theta)).

A subclass gives its natural parameters ``_natural_params``, the log normaliser
``_log_normalizer(*theta)`` and the mean carrier measure E[log h(x)]; the entropy then
follows from the Bregman identity H = F(theta) - <theta, grad F(theta)> - E[log h(x)],
computed with autograd (so it works for any subclass), and ``kl_divergence`` between two
members of the same family uses the Bregman divergence of F.
"""

from __future__ import annotations

from ..autograd import grad as _grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions (see the module docstring)."""

    @property
    def _natural_params(self):
        """The natural parameters theta (a tuple of tensors)."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta), the log normaliser, from the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[log h(x)] under the distribution."""
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[log h(x)] (by autograd)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = _grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for theta, g in zip(nparams, gradients):
            result = result - (theta * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
