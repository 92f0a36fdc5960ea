"""Adam (adaptive moment estimation), optionally AMSGrad."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check, check_betas, step_count


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``).

    Update rule, for each parameter ``w`` with gradient ``g`` at step ``t`` (``m``, ``v``,
    ``v_max`` start at 0)::

        if maximize: g = -g
        if weight_decay:
            w = w * (1 - lr * weight_decay)   if decoupled_weight_decay   (AdamW)
            g = g + weight_decay * w          otherwise
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        if amsgrad: v_max = max(v_max, v);  denom = sqrt(v_max) / sqrt(1 - beta2**t) + eps
        else:                               denom = sqrt(v)     / sqrt(1 - beta2**t) + eps
        w = w - lr / (1 - beta1**t) * m / denom

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: decay rates ``(beta1, beta2)`` of the two moment estimates (default
            (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the running maximum of ``v`` (AMSGrad).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly, as AdamW does.

    Example::

        opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
    """

    _name = "Adam"
    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None,
                 decoupled_weight_decay: bool | None = None):
        name = self._name
        check(name, "lr", lr, lr >= 0.0, "must be >= 0")
        check(name, "eps", eps, eps >= 0.0, "must be >= 0")
        check_betas(name, betas)
        check(name, "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        decoupled = group.get("decoupled_weight_decay", self._decoupled)
        amsgrad = group["amsgrad"]
        for p, w, g, state, s1, _ in self._each(group, wd, decoupled):
            t = step_count(state)
            m = self._state_tensor(state, "exp_avg", p)
            v = self._state_tensor(state, "exp_avg_sq", p)
            m *= beta1
            np.multiply(g, 1.0 - beta1, out=s1)
            m += s1
            v *= beta2
            np.multiply(g, g, out=s1)
            s1 *= 1.0 - beta2
            v += s1
            if amsgrad:
                v_max = self._state_tensor(state, "max_exp_avg_sq", p)
                np.maximum(v_max, v, out=v_max)
                v = v_max
            denom = np.sqrt(v, out=s1)
            denom /= math.sqrt(1.0 - beta2**t)
            denom += eps
            np.divide(m, denom, out=s1)
            s1 *= lr / (1.0 - beta1**t)
            w -= s1


