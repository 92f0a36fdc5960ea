"""Helpers shared by RAdam, Rprop, ASGD, Adafactor, SparseAdam and Muon: PyTorch's ``lerp``
rounding, the sparse-gradient refusal, and the dtype PyTorch keeps scalar state in."""

from __future__ import annotations

import numpy as np

from .. import _dtype


def lerp(a: np.ndarray, b, weight: float, out: np.ndarray, tmp: np.ndarray | None = None):
    """``a + weight * (b - a)`` written into ``out``, rounded as PyTorch's ``lerp`` is.

    PyTorch evaluates ``a + w (b - a)`` when ``|w| < 0.5`` and ``b - (b - a) (1 - w)``
    otherwise (so ``w = 1`` gives exactly ``b``), with ``w`` in the arrays' dtype. ``out``
    must not be ``b``; when it is ``a`` (an in-place ``lerp_``) a scratch array ``tmp``
    shaped like ``a`` is needed.
    """
    w = out.dtype.type(weight)
    d = out if out is not a else tmp
    np.subtract(b, a, out=d)
    if abs(w) < 0.5:
        d *= w
        np.add(a, d, out=out)
    else:
        d *= out.dtype.type(1) - w
        np.subtract(b, d, out=out)
    return out


def refuse_sparse(name: str, group: dict) -> None:
    """PyTorch's error for a sparse gradient handed to a dense-only optimizer."""
    for p in group["params"]:
        g = p.grad
        if g is not None and g.is_sparse:
            raise RuntimeError(f"{name} does not support sparse gradients")


def refuse_complex_sparse(name: str, params) -> None:
    """PyTorch's errors of Adafactor and Muon, checked before any parameter moves."""
    for p in params:
        if p._data.dtype.kind == "c":
            raise RuntimeError(f"{name} does not support complex parameters")
        if p.grad.is_sparse:
            raise RuntimeError(f"{name} does not support sparse gradients")


def scalar_dtype() -> np.dtype:
    """The dtype PyTorch keeps 0-d optimizer state in (``_get_scalar_dtype``): float64 when
    the default dtype is float64, float32 otherwise."""
    d = _dtype.get_default_dtype()
    return np.dtype(np.float64) if d == _dtype.float64 else np.dtype(np.float32)
