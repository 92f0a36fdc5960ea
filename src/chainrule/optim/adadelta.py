"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check


class Adadelta(Optimizer):
    """Adadelta (``torch.optim.Adadelta``).

    Update rule (``v``, ``u`` start at 0)::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        v = rho * v + (1 - rho) * g**2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        w = w - lr * delta

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: coefficient scaling delta (default 1.0).
        rho: decay of the running averages (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.Adadelta(model.parameters())
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        check("Adadelta", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Adadelta", "rho", rho, 0.0 <= rho <= 1.0, "must be in [0, 1]")
        check("Adadelta", "eps", eps, eps >= 0.0, "must be >= 0")
        check("Adadelta", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        for p, w, g, state, s1, s2 in self._each(group, wd):
            v = self._state_tensor(state, "square_avg", p)
            u = self._state_tensor(state, "acc_delta", p)
            v *= rho
            np.multiply(g, g, out=s1)
            s1 *= 1.0 - rho
            v += s1
            delta = np.add(u, eps, out=s1)
            np.sqrt(delta, out=delta)
            np.add(v, eps, out=s2)
            np.sqrt(s2, out=s2)
            delta /= s2
            delta *= g
            u *= rho
            np.multiply(delta, delta, out=s2)
            s2 *= 1.0 - rho
            u += s2
            delta *= lr
            w -= delta
