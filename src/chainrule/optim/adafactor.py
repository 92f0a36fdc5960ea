"""Adafactor: Adam-like steps with a factored (row x column) second-moment estimate."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from ._common import lerp, refuse_complex_sparse
from .optimizer import Optimizer, advance_step, check, new_step


class Adafactor(Optimizer):
    """Adafactor (``torch.optim.Adafactor``, Shazeer and Stern 2018, PyTorch's variant:
    no first moment, relative step size).

    Update rule at step ``t``, for a parameter ``w`` with gradient ``g`` (``R``, ``C``, ``V``
    start at 0; ``eps1`` defaults to the machine epsilon of ``w``'s dtype)::

        if maximize: g = -g
        beta = t**beta2_decay                          (the weight of the new statistics)
        rho = min(lr, 1 / sqrt(t))
        a = max(eps2, rms(w)) * rho                    (rms(x) = ||x||_2 / sqrt(numel x))
        if weight_decay: w = w * (1 - lr * weight_decay)
        if w.ndim >= 2:                                 (factored over the last two dims)
            R = R + beta * (mean(g**2, dim=-1) - R)       R: shape (..., rows, 1)
            C = C + beta * (mean(g**2, dim=-2) - C)       C: shape (..., 1, cols)
            V = R @ C / max(mean(R, dim=-2), eps1)
        else:
            V = V + beta * (g**2 - V)                     V: shape of w
        u = g / sqrt(max(V, eps1**2))
        w = w - a / max(1, rms(u) / d) * u

    State keys: ``step`` and ``row_var``/``col_var`` (parameters with two or more dims) or
    ``variance`` (vectors and scalars).

    Args:
        params: tensors to optimize, or parameter-group dicts.
        lr: the cap of the relative step size ``rho`` (default 1e-2).
        beta2_decay: ``<= 0``, the decay exponent of the second-moment weight (default -0.8).
        eps: ``(eps1, eps2)``: ``eps1`` (None: the dtype's epsilon) floors the second
            moment, ``eps2`` the parameter's RMS in the step size (default (None, 1e-3)).
        d: clipping threshold on the RMS of the update (default 1, must be >= 1).
        weight_decay: decoupled weight decay ``w *= 1 - lr * weight_decay`` (default 0).
        foreach: accepted and recorded, as in PyTorch.
        maximize: maximize the objective instead of minimizing it.

    Example::

        opt = chainrule.optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8, eps=(None, 1e-3),
                 d: float = 1.0, weight_decay: float = 0.0, *, foreach=None,
                 maximize: bool = False):
        check("Adafactor", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Adafactor", "beta2_decay", beta2_decay, beta2_decay <= 0.0, "must be <= 0")
        check("Adafactor", "eps[0]", eps[0], eps[0] is None or eps[0] >= 0.0,
              "must be None or >= 0")
        check("Adafactor", "eps[1]", eps[1], eps[1] >= 0.0, "must be >= 0")
        check("Adafactor", "d", d, d >= 1.0, "the clipping threshold must be >= 1")
        check("Adafactor", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        decay = float(group["beta2_decay"])
        eps1, eps2 = group["eps"]
        eps2 = float(eps2)
        d = float(group["d"])
        wd = float(group["weight_decay"])
        maximize = group["maximize"]
        params = [p for p in group["params"] if p.grad is not None]
        refuse_complex_sparse("Adafactor", params)
        for p in params:
            w = p._data
            g = p.grad._data
            s0, s1, _ = self._scratch(w)
            if maximize:
                g = np.negative(g, out=s0)
            if eps1 is None:  # PyTorch: set by the group's first parameter, then kept
                eps1 = float(np.finfo(w.dtype).eps)
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = new_step()
                if g.ndim > 1:
                    state["row_var"] = _zeros(g.shape[:-1] + (1,), w.dtype)
                    state["col_var"] = _zeros(g.shape[:-2] + (1, g.shape[-1]), w.dtype)
                else:
                    state["variance"] = _zeros(g.shape, w.dtype)
            t = advance_step(state)
            beta = float(t) ** decay
            rho = min(lr, 1.0 / math.sqrt(t))
            alpha = max(eps2, _rms(w)) * rho
            if wd:
                w *= 1.0 - lr * wd
            if g.ndim > 1:
                row, col = state["row_var"]._data, state["col_var"]._data
                lerp(row, _mean_square(g, -1), beta, row, np.empty_like(row))
                lerp(col, _mean_square(g, -2), beta, col, np.empty_like(col))
                var = np.matmul(row, col, out=s1)
                var /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
            else:
                v = state["variance"]._data
                np.multiply(g, g, out=s1)
                lerp(v, s1, beta, v, np.empty_like(v))
                np.copyto(s1, v)
            upd = np.maximum(s1, eps1 * eps1, out=s1)
            np.sqrt(upd, out=upd)
            np.divide(1.0, upd, out=upd)
            upd *= g
            denom = max(1.0, _rms(upd) / d)
            upd *= -alpha / denom
            w += upd
            p._version += 1


def _zeros(shape, dtype) -> Tensor:
    return Tensor._make(np.zeros(shape, dtype), False, None, 0)


def _rms(x: np.ndarray) -> float:
    """``||x||_2 / sqrt(numel)`` as a Python float."""
    return float(np.sqrt(np.vdot(x, x))) / math.sqrt(x.size) if x.size else 0.0


def _mean_square(g: np.ndarray, axis: int) -> np.ndarray:
    """``mean(g**2, axis, keepdim=True)`` computed as PyTorch does (a norm, squared)."""
    n = np.sqrt(np.einsum("...i,...i->...", *(np.moveaxis(g, axis, -1),) * 2))
    return np.expand_dims(n * n / g.shape[axis], axis)
