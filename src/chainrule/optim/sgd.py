"""Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check, effective_grad


class SGD(Optimizer):
    """Stochastic gradient descent (``torch.optim.SGD``), momentum as PyTorch defines it.

    Update rule, for each parameter ``w`` with gradient ``g`` at step ``t``::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        if momentum:
            b = g                                   if t == 1
            b = momentum * b + (1 - dampening) * g  otherwise
            g = g + momentum * b   if nesterov   else   b
        w = w - lr * g

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        check("SGD", "lr", lr, lr >= 0.0, "must be >= 0")
        check("SGD", "momentum", momentum, momentum >= 0.0, "must be >= 0")
        check("SGD", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov momentum requires momentum > 0 and dampening == 0 "
                f"(got momentum={momentum}, dampening={dampening})"
            )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        mu = float(group["momentum"])
        damp = 1.0 - float(group["dampening"])
        wd = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            s0, s1, _ = self._scratch(w)
            g = effective_grad(p, maximize, wd, s0)
            if mu:
                state = self.state.setdefault(p, {})
                buf_t = state.get("momentum_buffer")
                if buf_t is None:
                    buf = np.array(g, copy=True)
                    state["momentum_buffer"] = Tensor._make(buf, False, None, 0)
                else:
                    buf = buf_t._data
                    buf *= mu
                    if damp != 1.0:
                        np.multiply(g, damp, out=s1)
                        buf += s1
                    else:
                        buf += g
                if nesterov:
                    np.multiply(buf, mu, out=s1)
                    s1 += g
                    g = s1
                else:
                    g = buf
            np.multiply(g, lr, out=s1)
            w -= s1
            p._version += 1
