"""Gradient descent with a backtracking (Armijo) line search over the step size."""

from __future__ import annotations

import numpy as np

from ._line_search import armijo_backtracking
from .lbfgs import closure_loss
from .optimizer import Optimizer, check, flat_grad, flat_params, set_flat


class LineSearchGD(Optimizer):
    """Gradient descent whose step size is chosen by backtracking (the course's line search).

    Update rule, per ``step(closure)`` (``w`` all parameters as one vector)::

        f0, g = loss and gradient at w
        t = lr
        while f(w - t g) > f0 - c1 * t * |g|^2  (at most max_backtracks times):
            t = shrink * t
        w = w - t g         (w unchanged if no t decreased the loss enough)

    The accepted step always satisfies the Armijo condition, so the loss decreases
    monotonically. After ``step`` the ``.grad`` fields hold the gradient of the last trial
    point evaluated, which may not be the accepted one.

    Args:
        params: tensors to optimize.
        lr: initial (largest) step size tried at every step (default 1.0).
        c1: sufficient-decrease constant, in (0, 1) (default 1e-4).
        shrink: factor applied to the step after each rejection, in (0, 1) (default 0.5).
        max_backtracks: trial steps per ``step`` (default 50).

    Example::

        opt = chainrule.optim.LineSearchGD(model.parameters(), lr=1.0)
        opt.step(closure)   # closure: zero_grad, loss, backward, return loss
    """

    def __init__(self, params, lr: float = 1.0, c1: float = 1e-4, shrink: float = 0.5,
                 max_backtracks: int = 50):
        check("LineSearchGD", "lr", lr, lr > 0.0, "must be > 0")
        check("LineSearchGD", "c1", c1, 0.0 < c1 < 1.0, "must be in (0, 1)")
        check("LineSearchGD", "shrink", shrink, 0.0 < shrink < 1.0, "must be in (0, 1)")
        check("LineSearchGD", "max_backtracks", max_backtracks, max_backtracks >= 1,
              "must be >= 1")
        super().__init__(params, dict(lr=lr, c1=c1, shrink=shrink,
                                      max_backtracks=max_backtracks))
        self._params = [p for g in self.param_groups for p in g["params"]]

    def step(self, closure=None):
        group = self.param_groups[0]
        params = self._params
        loss0 = closure_loss(closure, "LineSearchGD")
        g = flat_grad(params)
        x = flat_params(params)

        def trial(t):
            set_flat(params, x - t * g)
            return float(closure_loss(closure, "LineSearchGD"))

        gtd = -float(np.dot(g.astype(np.float64), g))
        t, _, _ = armijo_backtracking(trial, float(group["lr"]), float(loss0), gtd,
                                      group["c1"], group["shrink"], group["max_backtracks"])
        set_flat(params, x - t * g)
        state = self.state.setdefault(params[0], {})
        state["step"] = state.get("step", 0) + 1
        state["last_step_size"] = t
        return loss0
