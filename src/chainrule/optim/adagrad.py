"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, advance_step, check, effective_grad, new_step


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``).

    Update rule (``s`` starts at ``initial_accumulator_value``)::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2
        w = w - lr_t * g / (sqrt(s) + eps)

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sum ``s`` (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.Adagrad(model.parameters(), lr=0.1)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None):
        check("Adagrad", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Adagrad", "lr_decay", lr_decay, lr_decay >= 0.0, "must be >= 0")
        check("Adagrad", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        check("Adagrad", "initial_accumulator_value", initial_accumulator_value,
              initial_accumulator_value >= 0.0, "must be >= 0")
        check("Adagrad", "eps", eps, eps >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # like PyTorch, the state exists from construction on
        for group in self.param_groups:
            init = float(group["initial_accumulator_value"])
            for p in group["params"]:
                self.state[p] = {
                    "step": new_step(),
                    "sum": Tensor._make(np.full_like(p._data, init), False, None, 0),
                }

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            s0, s1, _ = self._scratch(w)
            g = effective_grad(p, group["maximize"], wd, s0)
            state = self.state[p]
            t = advance_step(state)
            acc = state["sum"]._data
            np.multiply(g, g, out=s1)
            acc += s1
            np.sqrt(acc, out=s1)
            s1 += eps
            np.divide(g, s1, out=s1)
            s1 *= lr / (1.0 + (t - 1) * lr_decay)
            w -= s1
            p._version += 1
