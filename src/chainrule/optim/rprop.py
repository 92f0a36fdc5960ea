"""Rprop: resilient backpropagation, per-coordinate step sizes adapted from gradient signs."""

from __future__ import annotations

import numpy as np

from ._common import refuse_sparse
from .optimizer import Optimizer, check


class Rprop(Optimizer):
    """Rprop (``torch.optim.Rprop``, PyTorch's variant: no weight backtracking).

    Update rule, for each coordinate (``prev`` starts at 0, ``step_size`` at ``lr``)::

        if maximize: g = -g
        s = sign(g * prev)
        step_size = clip(step_size * (etaplus if s > 0 else etaminus if s < 0 else 1),
                         step_size_min, step_size_max)
        if s < 0: g = 0                   (the sign flipped: skip this coordinate once)
        w = w - sign(g) * step_size
        prev = g

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: initial step size (default 1e-2).
        etas: ``(etaminus, etaplus)``, the factors that shrink and grow step sizes (default
            (0.5, 1.2)); ``0 < etaminus < 1 < etaplus``.
        step_sizes: ``(step_size_min, step_size_max)`` (default (1e-6, 50)).
        capturable, foreach, differentiable: accepted and recorded, as in PyTorch.
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.Rprop(model.parameters(), lr=0.01)
    """

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check("Rprop", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Rprop", "etas", etas, 0.0 < etas[0] < 1.0 < etas[1],
              "need 0 < etaminus < 1 < etaplus")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        refuse_sparse("Rprop", group)
        etaminus, etaplus = (float(e) for e in group["etas"])
        lo, hi = (float(s) for s in group["step_sizes"])
        lr = float(group["lr"])
        for p, w, g, state, s1, s2 in self._each(group):
            prev = self._state_tensor(state, "prev", p)
            size = self._state_tensor(state, "step_size", p, lr)
            np.multiply(g, prev, out=s1)
            np.sign(s1, out=s1)
            flipped = s1 < 0
            s1[s1 > 0] = etaplus
            s1[flipped] = etaminus
            s1[s1 == 0] = 1.0
            size *= s1
            np.clip(size, lo, hi, out=size)
            np.copyto(prev, g)
            prev[flipped] = 0.0
            np.sign(prev, out=s2)
            s2 *= size
            w -= s2
