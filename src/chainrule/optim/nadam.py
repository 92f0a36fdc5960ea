"""NAdam: Adam with Nesterov momentum (Dozat's momentum schedule)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check, check_betas, new_step, step_count


class NAdam(Optimizer):
    """NAdam (``torch.optim.NAdam``).

    Update rule (``m``, ``v`` start at 0, ``mu_prod`` at 1, ``psi = momentum_decay``)::

        if maximize: g = -g
        if weight_decay:
            w = w * (1 - lr * weight_decay)   if decoupled_weight_decay
            g = g + weight_decay * w          otherwise
        mu_t      = beta1 * (1 - 0.5 * 0.96**(t * psi))
        mu_next   = beta1 * (1 - 0.5 * 0.96**((t + 1) * psi))
        mu_prod   = mu_prod * mu_t
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        denom = sqrt(v / (1 - beta2**t)) + eps
        w = w - lr * (1 - mu_t) / (1 - mu_prod) * g / denom
        w = w - lr * mu_next / (1 - mu_prod * mu_next) * m / denom

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: ``(beta1, beta2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: ``psi`` (default 4e-3).
        decoupled_weight_decay: decay the weights directly (NAdamW).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.NAdam(model.parameters())
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check("NAdam", "lr", lr, lr >= 0.0, "must be >= 0")
        check("NAdam", "eps", eps, eps >= 0.0, "must be >= 0")
        check_betas("NAdam", betas)
        check("NAdam", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        check("NAdam", "momentum_decay", momentum_decay, momentum_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        psi = float(group["momentum_decay"])
        decoupled = group["decoupled_weight_decay"]
        for p, w, g, state, s1, s2 in self._each(group, wd, decoupled):
            t = step_count(state)
            mp = state.get("mu_product")  # state keys in PyTorch's order: step, mu_product, ...
            if not isinstance(mp, Tensor):  # a 0-d tensor of the scalar dtype, as PyTorch's
                mp = state["mu_product"] = new_step(1.0 if mp is None else mp)
            m = self._state_tensor(state, "exp_avg", p)
            v = self._state_tensor(state, "exp_avg_sq", p)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            mp._data *= mu  # in that dtype, as PyTorch's mu_product *= mu
            mu_prod = float(mp._data)
            m *= beta1
            np.multiply(g, 1.0 - beta1, out=s1)
            m += s1
            v *= beta2
            np.multiply(g, g, out=s1)
            s1 *= 1.0 - beta2
            v += s1
            denom = np.divide(v, 1.0 - beta2**t, out=s1)
            np.sqrt(denom, out=denom)
            denom += eps
            np.divide(g, denom, out=s2)
            s2 *= lr * (1.0 - mu) / (1.0 - mu_prod)
            w -= s2
            np.divide(m, denom, out=s2)
            s2 *= lr * mu_next / (1.0 - mu_prod * mu_next)
            w -= s2
