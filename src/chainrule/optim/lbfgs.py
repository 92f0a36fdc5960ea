"""L-BFGS: limited-memory quasi-Newton steps from the last ``history_size`` (s, y) pairs."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import enable_grad
from ._line_search import strong_wolfe
from .optimizer import Optimizer, check, flat_grad, flat_params, set_flat


def closure_loss(closure, name: str) -> float:
    """Call the closure with grad mode on; return its loss as a float."""
    if closure is None:
        raise RuntimeError(
            f"{name}.step: a closure is required (a function that zeroes the gradients, "
            "computes the loss, calls loss.backward() and returns the loss)"
        )
    with enable_grad():
        return closure()


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``); ``step(closure)`` runs up to ``max_iter`` iterations.

    Update rule, per iteration (``g`` the flat gradient, ``(s_i, y_i)`` the stored pairs,
    ``rho_i = 1 / (y_i . s_i)``, pairs kept only when ``y . s > 1e-10``)::

        if first iteration: d = -g
        else:   two-loop recursion, d = -H g:
            q = -g
            for i newest..oldest: a_i = rho_i s_i.q;  q = q - a_i y_i
            r = (s.y / y.y of the newest pair) * q
            for i oldest..newest: b = rho_i y_i.r;    r = r + (a_i - b) s_i
            d = r
        t = min(1, 1 / sum|g|) * lr   on the very first iteration, else lr
        stop if g.d > -tolerance_change
        if line_search_fn == "strong_wolfe": t = strong Wolfe line search along d from t
        w = w + t d
        stop when max|g| <= tolerance_grad, max|t d| <= tolerance_change,
            |loss change| < tolerance_change, or max_iter / max_eval is reached

    Args:
        params: tensors to optimize (one parameter group only).
        lr: step size (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: first-order optimality tolerance (default 1e-7).
        tolerance_change: tolerance on changes of the loss and the parameters (default 1e-9).
        history_size: number of stored pairs (default 100).
        line_search_fn: ``None`` (fixed step) or ``"strong_wolfe"``.

    Example::

        opt = chainrule.optim.LBFGS([w], line_search_fn="strong_wolfe")
        def closure():
            opt.zero_grad(); loss = f(w); loss.backward(); return loss
        opt.step(closure)
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        check("LBFGS", "lr", lr, lr >= 0.0, "must be >= 0")
        check("LBFGS", "max_iter", max_iter, max_iter >= 1, "must be >= 1")
        check("LBFGS", "history_size", history_size, history_size >= 1, "must be >= 1")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _evaluate(self, closure, x, t, d):
        """Loss and flat gradient at ``x + t d``; the parameters are restored to ``x``."""
        set_flat(self._params, x + t * d)
        loss = float(closure_loss(closure, "LBFGS"))
        g = flat_grad(self._params)
        set_flat(self._params, x)
        return loss, g

    def step(self, closure=None):
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        params = self._params
        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure_loss(closure, "LBFGS")
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = flat_grad(params)
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_g, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = g - prev_g
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == history:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                d = _two_loop(g, old_dirs, old_stps, ro, h_diag)
            prev_g = g.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:
                break
            if group["line_search_fn"] == "strong_wolfe":
                x0 = flat_params(params)
                obj = lambda x, step, direction: self._evaluate(closure, x, step, direction)
                loss, g, t, ls_evals = strong_wolfe(obj, x0, t, d, loss, g, gtd)
                set_flat(params, x0 + t * d)
                opt_cond = np.abs(g).max() <= tol_grad
            else:
                set_flat(params, flat_params(params) + t * d)
                ls_evals = 0
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(closure_loss(closure, "LBFGS"))
                    g = flat_grad(params)
                    opt_cond = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_g, prev_loss=prev_loss)
        return orig_loss


def _two_loop(g, dirs, stps, ro, h_diag):
    """``-H g`` for the L-BFGS inverse-Hessian approximation (two-loop recursion)."""
    q = -g
    al = [0.0] * len(dirs)
    for i in range(len(dirs) - 1, -1, -1):
        al[i] = float(stps[i] @ q) * ro[i]
        q = q - al[i] * dirs[i]
    r = q * h_diag
    for i in range(len(dirs)):
        be = float(dirs[i] @ r) * ro[i]
        r = r + (al[i] - be) * stps[i]
    return r
