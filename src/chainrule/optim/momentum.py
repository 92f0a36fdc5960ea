"""Momentum as an exponential moving average with bias correction (the course's variant)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check, required


class Momentum(Optimizer):
    """Momentum as an exponential moving average of gradients, with bias correction (the
    course's definition; PyTorch's ``SGD(momentum=...)`` is the heavy-ball variant).

    Update rule, at step ``t`` (starting at 1, ``v`` starting at 0)::

        v = beta * v + (1 - beta) * g
        w = w - lr * v / (1 - beta**t)    if bias_correction
        w = w - lr * v                    otherwise

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (required).
        beta: decay of the moving average, in [0, 1) (default 0.9).
        bias_correction: divide by ``1 - beta**t`` to undo the zero start (default True).

    Example::

        opt = chainrule.optim.Momentum(model.parameters(), lr=0.1, beta=0.9)
    """

    def __init__(self, params, lr: float = required, beta: float = 0.9,
                 bias_correction: bool = True):
        if lr is not required:
            check("Momentum", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Momentum", "beta", beta, 0.0 <= beta < 1.0, "must be in [0, 1)")
        super().__init__(params, dict(lr=lr, beta=beta, bias_correction=bias_correction))

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        beta = float(group["beta"])
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state.setdefault(p, {})
            t = state["step"] = state.get("step", 0) + 1
            v = self._state_tensor(state, "velocity", p)
            s0 = self._scratch(p._data)[0]
            v *= beta
            np.multiply(p.grad._data, 1.0 - beta, out=s0)
            v += s0
            np.multiply(v, lr / (1.0 - beta**t) if group["bias_correction"] else lr, out=s0)
            p._data -= s0
            p._version += 1
