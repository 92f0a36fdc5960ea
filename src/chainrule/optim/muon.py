"""Muon: momentum SGD whose update is orthogonalised by a Newton-Schulz iteration."""

from __future__ import annotations

import math

import numpy as np

from ._common import lerp, refuse_complex_sparse
from .optimizer import Optimizer, check

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Muon (``torch.optim.Muon``, Jordan et al. 2024) for 2-D parameters (hidden layers'
    weight matrices; optimize biases, embeddings and the rest with AdamW).

    Update rule at step ``t`` (``B`` starts at 0)::

        B = momentum * B + (1 - momentum) * g
        U = g + momentum * (B - g)     if nesterov     else     B
        O = NS(U)                      (Newton-Schulz, below)
        w = w * (1 - lr * weight_decay)
        w = w - lr * adjust(A, B_) * O
        adjust = sqrt(max(1, A / B_))  "original" (or None)     for w of shape (A, B_)
                 0.2 * sqrt(max(A, B_)) "match_rms_adamw"

    ``NS`` works in bfloat16 as PyTorch does (chainrule has no bfloat16 dtype: the values are
    rounded to bfloat16 after each operation and the products accumulate in float32, which
    reproduces PyTorch's CPU results): with ``X = U / max(||U||_F, eps)`` (transposed when
    it has more rows than columns), ``ns_steps`` times::

        G = X X^T;   X = a X + (b G + c G G) X          (a, b, c) = ns_coefficients

    which drives the singular values of ``X`` towards 1 (roughly ``U V^T`` of the SVD).

    Args:
        params: 2-D tensors to optimize, or parameter-group dicts.
        lr: learning rate (default 1e-3).
        weight_decay: decoupled weight decay (default 0.1).
        momentum: momentum factor (default 0.95).
        nesterov: use Nesterov momentum (default True).
        ns_coefficients: ``(a, b, c)`` (default (3.4445, -4.7750, 2.0315)).
        eps: floor of the Frobenius norm in the normalisation (default 1e-7).
        ns_steps: Newton-Schulz iterations, fewer than 100 (default 5).
        adjust_lr_fn: None or "original", or "match_rms_adamw" (see above).

    Example::

        hidden = [p for p in model.parameters() if p.ndim == 2]
        opt = chainrule.optim.Muon(hidden, lr=0.02, momentum=0.95)
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps: float = EPS,
                 ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None):
        check("Muon", "lr", lr, lr >= 0.0, "must be >= 0")
        check("Muon", "momentum", momentum, momentum >= 0.0, "must be >= 0")
        check("Muon", "weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Muon: adjust_lr_fn={adjust_lr_fn!r} is not supported (use "
                             "None, 'original' or 'match_rms_adamw')")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                        ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.size()} (optimize it with another optimizer, e.g. AdamW)")

    def _update(self, group: dict) -> None:
        lr = float(group["lr"])
        wd = float(group["weight_decay"])
        mom = float(group["momentum"])
        params = [p for p in group["params"] if p.grad is not None]
        refuse_complex_sparse("Muon", params)
        for p in params:
            self.state.setdefault(p, {})
            self._state_tensor(self.state[p], "momentum_buffer", p)
        for p in params:
            g = p.grad._data
            if g.ndim != 2:
                raise ValueError("Muon: param gradient must be a 2D matrix, got shape "
                                 f"{tuple(g.shape)}")
            w = p._data
            s0, s1, _ = self._scratch(w)
            buf = self.state[p]["momentum_buffer"]._data
            lerp(buf, g, 1.0 - mom, buf, s0)
            upd = lerp(g, buf, mom, s1) if group["nesterov"] else buf
            ortho = zeropower_via_newtonschulz(upd, group["ns_coefficients"],
                                               group["ns_steps"], float(group["eps"]))
            adjusted = _adjust_lr(lr, group["adjust_lr_fn"], w.shape)
            w *= 1.0 - lr * wd
            np.copyto(s0, ortho)  # exact: bfloat16 values fit float32 and float64
            s0 *= -adjusted
            w += s0
            p._version += 1


def zeropower_via_newtonschulz(u: np.ndarray, coefficients, steps: int,
                               eps: float) -> np.ndarray:
    """The Newton-Schulz orthogonalisation of the 2-D array ``u`` in emulated bfloat16
    (a float32 array of bfloat16 values), as ``torch.optim.Muon`` computes it."""
    if steps >= 100:
        raise ValueError("Muon: ns_steps must be less than 100 for computational efficiency, "
                         f"got {steps}")
    if u.ndim != 2:
        raise ValueError(f"Muon: the gradient must be a 2D matrix, got shape {u.shape}")
    if len(coefficients) != 3:
        raise ValueError("Muon: ns_coefficients must be a tuple of exactly 3 values, got "
                         f"{coefficients!r}")
    a, b, c = (float(x) for x in coefficients)
    x = _bf16(u)
    tall = u.shape[0] > u.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.sqrt(np.vdot(x, x)))
    x = _bf16(x / max(norm, _bf16(np.float32(eps))))
    for _ in range(steps):
        gram = _bf16(x @ x.T)
        poly = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + poly @ x)
    return x.T if tall else x


def _bf16(x) -> np.ndarray:
    """Round to bfloat16 (to nearest, ties to even) from float32 or float64 in one rounding;
    the result is float32 holding bfloat16 values."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        u = np.ascontiguousarray(x).view(np.uint64)
        u = (u + np.uint64(0xFFFFFFFFFFF) + ((u >> np.uint64(45)) & np.uint64(1))) \
            & np.uint64(0xFFFFE00000000000)
        out = u.view(np.float64).astype(np.float32)
    else:
        u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
        u = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) \
            & np.uint32(0xFFFF0000)
        out = u.view(np.float32)
    nan = np.isnan(x)
    if nan.any():
        out = np.where(nan, np.float32(np.nan), out)
    return out


def _adjust_lr(lr: float, fn: str | None, shape) -> float:
    rows, cols = shape[:2]
    if fn is None or fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr
