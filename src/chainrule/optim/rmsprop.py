"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``).

    Update rule (``v``, ``g_avg``, ``b`` start at 0)::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g**2
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            denom = sqrt(v - g_avg**2) + eps
        else:
            denom = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / denom
            w = w - lr * b
        else:
            w = w - lr * g / denom

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance instead of its
            second moment.
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.RMSprop(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check("RMSprop", "lr", lr, lr >= 0.0, "must be >= 0")
        check("RMSprop", "eps", eps, eps >= 0.0, "must be >= 0")
        check("RMSprop", "momentum", momentum, momentum >= 0.0, "must be >= 0")
        check("RMSprop", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        check("RMSprop", "alpha", alpha, alpha >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        mu = float(group["momentum"])
        wd = float(group["weight_decay"])
        centered = group["centered"]
        for p, w, g, state, s1, _ in self._each(group, wd):
            v = self._state_tensor(state, "square_avg", p)
            if mu > 0:
                self._state_tensor(state, "momentum_buffer", p)
            if centered:
                self._state_tensor(state, "grad_avg", p)
            v *= alpha
            np.multiply(g, g, out=s1)
            s1 *= 1.0 - alpha
            v += s1
            if centered:
                g_avg = state["grad_avg"]._data
                g_avg *= alpha
                np.multiply(g, 1.0 - alpha, out=s1)
                g_avg += s1
                np.multiply(g_avg, g_avg, out=s1)
                np.subtract(v, s1, out=s1)
                np.sqrt(s1, out=s1)
            else:
                np.sqrt(v, out=s1)
            s1 += eps
            np.divide(g, s1, out=s1)
            if mu > 0:
                b = state["momentum_buffer"]._data
                b *= mu
                b += s1
                np.multiply(b, lr, out=s1)
            else:
                s1 *= lr
            w -= s1
