"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check, decayed, maybe_negate


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
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
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
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            g = decayed(maybe_negate(p.grad._data, group["maximize"]), w, wd)
            state = self.state.setdefault(p, {})
            state["step"] = state.get("step", 0) + 1
            v = self._state_tensor(state, "square_avg", p)
            if mu > 0:
                self._state_tensor(state, "momentum_buffer", p)
            if group["centered"]:
                self._state_tensor(state, "grad_avg", p)
            v *= alpha
            v += (1.0 - alpha) * (g * g)
            if group["centered"]:
                g_avg = state["grad_avg"]._data
                g_avg *= alpha
                g_avg += (1.0 - alpha) * g
                denom = v - g_avg * g_avg
                np.sqrt(denom, out=denom)
            else:
                denom = np.sqrt(v)
            denom += eps
            if mu > 0:
                b = state["momentum_buffer"]._data
                b *= mu
                b += g / denom
                w -= lr * b
            else:
                w -= lr * (g / denom)
            p._version += 1
