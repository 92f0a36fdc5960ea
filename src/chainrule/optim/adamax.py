"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check, check_betas, step_count


class Adamax(Optimizer):
    """Adamax (``torch.optim.Adamax``).

    Update rule (``m``, ``u`` start at 0)::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        w = w - lr / (1 - beta1**t) * m / u

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: ``(beta1, beta2)`` (default (0.9, 0.999)).
        eps: added to ``|g|`` (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.Adamax(model.parameters())
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check("Adamax", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Adamax", "eps", eps, eps >= 0.0, "must be >= 0")
        check_betas("Adamax", betas)
        check("Adamax", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        for p, w, g, state, s1, _ in self._each(group, wd):
            t = step_count(state)
            m = self._state_tensor(state, "exp_avg", p)
            u = self._state_tensor(state, "exp_inf", p)
            m *= beta1
            np.multiply(g, 1.0 - beta1, out=s1)
            m += s1
            u *= beta2
            np.abs(g, out=s1)
            s1 += eps
            np.maximum(u, s1, out=u)
            np.divide(m, u, out=s1)
            s1 *= lr / (1.0 - beta1**t)
            w -= s1
