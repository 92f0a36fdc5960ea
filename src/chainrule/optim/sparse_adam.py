"""SparseAdam: Adam's update applied only where a sparse gradient has entries."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check, check_betas


class SparseAdam(Optimizer):
    """SparseAdam (``torch.optim.SparseAdam``): a masked Adam for dense parameters whose
    gradients are sparse COO tensors (``chainrule.sparse.SparseTensor``).

    Update rule at step ``t``, on the entries ``i`` present in the (coalesced) gradient
    only; ``m``, ``v`` elsewhere and the other coordinates of ``w`` are left alone::

        if maximize: g = -g
        m[i] = m[i] + (1 - beta1) * (g[i] - m[i])
        v[i] = v[i] + (1 - beta2) * (g[i]**2 - v[i])
        w[i] = w[i] - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m[i] / (sqrt(v[i]) + eps)

    ``t`` (``state["step"]``, a Python int as in PyTorch) counts every step that found a
    gradient, even an empty one (which changes nothing else).

    chainrule's autograd does not produce sparse gradients (``nn.Embedding(sparse=True)``
    raises NotImplementedError), so the gradient is assigned by hand::

        p.grad = chainrule.sparse_coo_tensor(rows[None], row_grads, p.shape)

    A dense gradient raises RuntimeError, as in PyTorch.

    Args:
        params: dense tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3, must be > 0).
        betas: ``(beta1, beta2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8, must be > 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.SparseAdam([emb_weight], lr=0.01)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False):
        check("SparseAdam", "lr", lr, lr > 0.0, "must be > 0")
        check("SparseAdam", "eps", eps, eps > 0.0, "must be > 0")
        check_betas("SparseAdam", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        sparse, complex_ = [], []
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse.append([i, j])
                if p._data.dtype.kind == "c":
                    complex_.append([i, j])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")
        if complex_:
            raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not "
                             "support complex parameters")

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        maximize = group.get("maximize", False)
        work = []
        for p in group["params"]:
            if p.grad is None:
                continue
            if not p.grad.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = 0
                self._state_tensor(state, "exp_avg", p)
                self._state_tensor(state, "exp_avg_sq", p)
            state["step"] += 1
            work.append((p, state))
        for p, state in work:
            grad = p.grad.coalesce()
            vals = grad._vals._data
            if vals.size == 0:
                continue
            if maximize:
                vals = -vals
            at = tuple(grad._idx)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            t = state["step"]
            old_m = m[at]
            upd_m = np.subtract(vals, old_m)
            upd_m *= 1.0 - beta1
            m[at] += upd_m
            old_v = v[at]
            upd_v = np.multiply(vals, vals)
            upd_v -= old_v
            upd_v *= 1.0 - beta2
            v[at] += upd_v
            upd_m += old_m
            upd_v += old_v
            np.sqrt(upd_v, out=upd_v)
            upd_v += eps
            step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
            upd_m /= upd_v
            upd_m *= -step_size
            p._data[at] += upd_m
            p._version += 1
