"""Newton's method with an exact Hessian computed by double backward."""

from __future__ import annotations

import numpy as np

from ..autograd.engine import grad as autograd_grad
from ..tensor import Tensor
from .lbfgs import closure_loss
from .optimizer import Optimizer, check, set_flat


class Newton(Optimizer):
    """Newton's method (the course's second-order method; PyTorch has no equivalent).

    Update rule, with ``g`` and ``H`` the gradient and Hessian of the loss with respect to
    all parameters flattened into one vector ``w``::

        solve (H + damping * I) p = g        (numpy.linalg.solve, in float64)
        w = w - lr * p

    The Hessian is exact: the gradient is computed with ``create_graph=True`` and then
    differentiated once per row (one backward pass per parameter), so this is meant for
    models of up to ``max_params`` (default 10,000) parameters; use :class:`LBFGS` or
    :class:`BFGS` for larger ones. A convex quadratic is solved in one step (lr=1).

    The closure must return the loss **without** calling ``loss.backward()`` (Newton needs
    the graph of the loss), or call ``loss.backward(create_graph=True)``.

    Args:
        params: tensors to optimize.
        lr: step length (default 1.0).
        damping: added to the Hessian's diagonal, keeping the system solvable (default 1e-4).
        max_params: refuse models with more parameters than this (default 10,000).

    Example::

        opt = chainrule.optim.Newton([w])
        opt.step(lambda: ((X @ w - y) ** 2).mean())
    """

    def __init__(self, params, lr: float = 1.0, damping: float = 1e-4,
                 max_params: int = 10_000):
        check("Newton", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Newton", "damping", damping, damping >= 0.0, "must be >= 0")
        super().__init__(params, dict(lr=lr, damping=damping))
        self.max_params = max_params
        self._params = [p for g in self.param_groups for p in g["params"]]
        n = sum(p._data.size for p in self._params)
        if n > max_params:
            raise ValueError(
                f"Newton: the model has {n} parameters, more than max_params={max_params}; "
                f"an exact Hessian needs {n} backward passes and {n}x{n} memory. Use "
                "chainrule.optim.LBFGS (or BFGS) instead, or raise max_params"
            )

    def hessian(self, loss: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The flat gradient and the Hessian (float64) of ``loss`` w.r.t. the parameters."""
        params = self._params
        if all(p.grad is not None and p.grad.requires_grad for p in params):
            grads = [p.grad for p in params]
        else:
            try:
                grads = autograd_grad(loss, params, create_graph=True, allow_unused=True)
            except RuntimeError as e:
                raise RuntimeError(
                    "Newton.step: could not differentiate the loss returned by the closure "
                    f"({e}). Newton needs the graph of the loss: return the loss without "
                    "calling loss.backward(), or call loss.backward(create_graph=True)"
                ) from None
        grads = [Tensor._make(np.zeros_like(p._data), False, None, 0) if g is None else g
                 for p, g in zip(params, grads)]
        sizes = [p._data.size for p in params]
        n = sum(sizes)
        g_flat = np.concatenate([g._data.reshape(-1) for g in grads]).astype(np.float64)
        H = np.zeros((n, n))
        live = [i for i, g in enumerate(grads) if g.requires_grad]
        if live:
            outs = [grads[i] for i in live]
            seeds = [np.zeros_like(o._data) for o in outs]
            row = 0
            for j, size in enumerate(sizes):
                k = live.index(j) if j in live else None
                for pos in range(size):
                    if k is not None:
                        seeds[k].reshape(-1)[pos] = 1.0
                        cols = autograd_grad(
                            outs, params, [Tensor._make(s, False, None, 0) for s in seeds],
                            retain_graph=True, allow_unused=True)
                        seeds[k].reshape(-1)[pos] = 0.0
                        H[row] = np.concatenate([
                            np.zeros(q._data.size) if c is None else c._data.reshape(-1)
                            for q, c in zip(params, cols)])
                    row += 1
        for p, g in zip(params, grads):
            p.grad = Tensor._make(np.array(g._data, copy=True), False, None, 0)
        return g_flat, 0.5 * (H + H.T)

    def step(self, closure=None):
        loss = closure_loss(closure, "Newton")
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise RuntimeError(
                "Newton.step: the closure must return the loss as a tensor that requires "
                "grad (computed from the parameters with grad mode on)"
            )
        group = self.param_groups[0]
        g, H = self.hessian(loss)
        H[np.diag_indices_from(H)] += float(group["damping"])
        try:
            p = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "Newton.step: the damped Hessian H + damping*I is singular; increase damping"
            ) from None
        w = np.concatenate([q._data.reshape(-1) for q in self._params]).astype(np.float64)
        set_flat(self._params, w - float(group["lr"]) * p)
        state = self.state.setdefault(self._params[0], {})
        state["step"] = state.get("step", 0) + 1
        return loss
