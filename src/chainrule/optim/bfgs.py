"""BFGS: quasi-Newton steps with a dense inverse-Hessian approximation."""

from __future__ import annotations

import numpy as np

from ._line_search import strong_wolfe
from .lbfgs import closure_loss
from .optimizer import Optimizer, check, flat_grad, flat_params, set_flat


class BFGS(Optimizer):
    """BFGS (the course's quasi-Newton method; dense, for models of modest size).

    Update rule, per ``step(closure)`` (``H`` approximates the inverse Hessian)::

        g = gradient at w (from the closure)
        if a previous step exists:  s = w - w_prev,  y = g - g_prev
            if y.s > 1e-10:
                if it is the first pair: H = (y.s / y.y) * I
                rho = 1 / (y.s)
                H = (I - rho s y^T) H (I - rho y s^T) + rho s s^T
        d = -H g            (if g.d >= 0, H is reset to I and d = -g)
        t = min(1, 1 / sum|g|) * lr on the first step, else lr
        if line_search_fn == "strong_wolfe": t = strong Wolfe line search along d from t
        w = w + t d

    ``H`` is kept in float64 (``n x n`` memory for ``n`` parameters).

    Args:
        params: tensors to optimize.
        lr: initial step length (default 1).
        line_search_fn: ``"strong_wolfe"`` (default) or ``None`` (fixed step ``lr``).
        tolerance_grad: no step is taken once ``max|g| <= tolerance_grad`` (default 1e-10).

    Example::

        opt = chainrule.optim.BFGS([w])
        for _ in range(50):
            opt.step(closure)   # closure: zero_grad, loss, backward, return loss
    """

    def __init__(self, params, lr: float = 1.0, line_search_fn: str | None = "strong_wolfe",
                 tolerance_grad: float = 1e-10):
        check("BFGS", "lr", lr, lr > 0.0, "must be > 0")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"BFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        super().__init__(params, dict(lr=lr, line_search_fn=line_search_fn,
                                      tolerance_grad=tolerance_grad))
        self._params = [p for g in self.param_groups for p in g["params"]]

    def _evaluate(self, closure, x, t, d):
        set_flat(self._params, x + t * d)
        loss = float(closure_loss(closure, "BFGS"))
        g = flat_grad(self._params).astype(np.float64)
        set_flat(self._params, x)
        return loss, g

    def step(self, closure=None):
        group = self.param_groups[0]
        params = self._params
        loss0 = closure_loss(closure, "BFGS")
        f = float(loss0)
        g = flat_grad(params).astype(np.float64)
        x = flat_params(params).astype(np.float64)
        state = self.state.setdefault(params[0], {})
        if np.abs(g).max() <= group["tolerance_grad"]:
            return loss0
        H = state.get("H")
        if H is None:
            H = np.eye(g.size)
            state["n_updates"] = 0
        else:
            s, y = x - state["prev_x"], g - state["prev_flat_grad"]
            ys = float(y @ s)
            if ys > 1e-10:
                if state["n_updates"] == 0:
                    H = np.eye(g.size) * (ys / float(y @ y))
                rho = 1.0 / ys
                Hy = H @ y
                H = H - rho * (np.outer(Hy, s) + np.outer(s, Hy))
                H += (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
                state["n_updates"] += 1
        d = -(H @ g)
        gtd = float(g @ d)
        if gtd >= 0:
            H = np.eye(g.size)
            d = -g
            gtd = float(g @ d)
        first = "prev_x" not in state
        t = min(1.0, 1.0 / float(np.abs(g).sum())) * group["lr"] if first else group["lr"]
        if group["line_search_fn"] == "strong_wolfe":
            obj = lambda x0, step, direction: self._evaluate(closure, x0, step, direction)
            _, _, t, _ = strong_wolfe(obj, x, t, d, f, g, gtd)
        set_flat(params, x + t * d)
        state.update(H=H, prev_x=x, prev_flat_grad=g, step=state.get("step", 0) + 1)
        return loss0
