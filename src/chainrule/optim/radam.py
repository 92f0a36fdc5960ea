"""RAdam: Adam with a rectified (variance-corrected) adaptive learning rate."""

from __future__ import annotations

import math

import numpy as np

from ._common import lerp, refuse_sparse
from .optimizer import Optimizer, check, check_betas, step_count


class RAdam(Optimizer):
    """RAdam (``torch.optim.RAdam``, Liu et al. 2019).

    Update rule, for each parameter ``w`` with gradient ``g`` at step ``t`` (``m``, ``v``
    start at 0)::

        if maximize: g = -g
        if weight_decay:
            w = w * (1 - lr * weight_decay)   if decoupled_weight_decay   (RAdamW)
            g = g + weight_decay * w          otherwise
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t   = rho_inf - 2 t beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            w = w - lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r
        else:
            w = w - lr * m / (1 - beta1**t)          (plain momentum SGD while rho_t <= 5)

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: ``(beta1, beta2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: decay the weights directly, as AdamW does (default False).
        foreach, capturable, differentiable: accepted and recorded in the groups, as in
            PyTorch (NumPy has one code path).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check("RAdam", "lr", lr, lr >= 0.0, "must be >= 0")
        check("RAdam", "eps", eps, eps >= 0.0, "must be >= 0")
        check_betas("RAdam", betas)
        check("RAdam", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        refuse_sparse("RAdam", group)
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        for p, w, g, state, s1, s2 in self._each(group, wd, group["decoupled_weight_decay"]):
            t = step_count(state)
            m = self._state_tensor(state, "exp_avg", p)
            v = self._state_tensor(state, "exp_avg_sq", p)
            lerp(m, g, 1.0 - beta1, m, s1)
            np.multiply(g, 1.0 - beta2, out=s1)
            s1 *= g
            v *= beta2
            v += s1
            bc1 = 1.0 - beta1**t
            bc2 = 1.0 - beta2**t
            rho_t = rho_inf - 2.0 * t * beta2**t / bc2
            np.divide(m, bc1, out=s1)
            s1 *= lr
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                np.sqrt(v, out=s2)
                s2 += eps
                np.divide(bc2**0.5, s2, out=s2)
                s1 *= s2
                s1 *= rect
            w -= s1
