"""Plain gradient descent (the course's GD)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check


class GD(Optimizer):
    """Plain (full-batch or minibatch) gradient descent, no momentum.

    Update rule::

        w = w - lr * g

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3).

    Example::

        opt = chainrule.optim.GD([w], lr=0.1)
    """

    def __init__(self, params, lr: float = 1e-3):
        check("GD", "lr", lr, lr >= 0.0, "must be >= 0")
        super().__init__(params, dict(lr=lr))

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        for p in group["params"]:
            if p.grad is not None:
                s0 = self._scratch(p._data)[0]
                np.multiply(p.grad._data, lr, out=s0)
                p._data -= s0
                p._version += 1

