"""ASGD: averaged stochastic gradient descent (Polyak-Ruppert averaging, Bottou's schedule)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._common import refuse_sparse, scalar_dtype
from .optimizer import Optimizer, check, step_count


class ASGD(Optimizer):
    """Averaged SGD (``torch.optim.ASGD``).

    Update rule at step ``t`` (``eta`` starts at ``lr``, ``mu`` at 1, ``ax`` at 0)::

        if maximize:     g = -g
        if weight_decay: g = g + weight_decay * w
        w  = w * (1 - lambd * eta) - eta * g
        ax = w                   if mu == 1
        ax = ax + mu * (w - ax)  otherwise           (the running average of the iterates)
        eta = lr / (1 + lambd * lr * t)**alpha
        mu  = 1 / max(1, t - t0)

    ``ax`` (``optimizer.state[p]["ax"]``) is the averaged parameter; averaging starts after
    ``t0`` steps. ``eta`` and ``mu`` are 0-d tensors of PyTorch's scalar dtype (float32 unless
    the default dtype is float64), so their values are rounded as PyTorch's are.

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the eta schedule (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        foreach, differentiable, capturable: accepted and recorded, as in PyTorch.
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.ASGD(model.parameters(), lr=0.01, t0=100)
        ...                                   # train; then evaluate with the averages:
        avg = [opt.state[p]["ax"] for p in model.parameters()]
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        check("ASGD", "lr", lr, lr >= 0.0, "must be >= 0")
        check("ASGD", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        refuse_sparse("ASGD", group)
        lr = float(group["lr"])
        lambd = float(group["lambd"])
        alpha = float(group["alpha"])
        t0 = float(group["t0"])
        wd = float(group["weight_decay"])
        for p, w, g, state, s1, _ in self._each(group, wd):
            if "eta" not in state:
                dt = scalar_dtype()
                state["eta"] = Tensor._make(np.array(lr, dt), False, None, 0)
                state["mu"] = Tensor._make(np.ones((), dt), False, None, 0)
            ax = self._state_tensor(state, "ax", p)
            eta_arr, mu_arr = state["eta"]._data, state["mu"]._data
            eta = float(eta_arr)
            t = step_count(state)
            w *= 1.0 - lambd * eta
            np.multiply(g, -eta, out=s1)
            w += s1
            if float(mu_arr) != 1.0:
                np.subtract(w, ax, out=s1)
                s1 *= mu_arr
                ax += s1
            else:
                np.copyto(ax, w)
            # PyTorch rounds the new values to its scalar dtype (then stores them in the
            # state's dtype, the parameter's after a load_state_dict)
            sd = scalar_dtype().type
            eta_arr[...] = sd(lr / ((1.0 + lambd * lr * t) ** alpha))
            mu_arr[...] = sd(1.0 / max(1.0, t - t0))
