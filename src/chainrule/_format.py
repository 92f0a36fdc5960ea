"""PyTorch-like printing of tensors: ``tensor([[1.0000, 2.5000]], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import _dtype


def _float_formatter(arr: np.ndarray):
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absmax = float(np.abs(finite).max())
    nonzero = np.abs(finite[finite != 0])
    absmin = float(nonzero.min()) if nonzero.size else 0.0
    if np.all(finite == np.round(finite)) and absmax < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    if absmax >= 1e8 or (absmin > 0 and (absmax / absmin > 1e3 or absmin < 1e-4)):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def tensor_repr(t) -> str:
    arr = t._data
    prefix = "tensor("
    opts = {}
    if arr.dtype.kind == "f":
        opts["formatter"] = {"float_kind": _float_formatter(arr)}
    elif arr.dtype.kind == "b":
        opts["formatter"] = {"bool": lambda v: "True" if v else "False"}
    body = np.array2string(
        arr, separator=", ", prefix=prefix, threshold=1000, edgeitems=3, max_line_width=80, **opts
    )
    if arr.size == 0:
        body = "[]" if arr.ndim == 1 else body
    suffix = []
    default = {_dtype.get_default_dtype().np, np.dtype(np.int64), np.dtype(np.bool_)}
    if arr.size == 0 and arr.ndim != 1:
        suffix.append(f"size={tuple(arr.shape)}")
    if arr.dtype not in default:
        suffix.append(f"dtype={_dtype.from_np(arr.dtype)}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    tail = "".join(", " + s for s in suffix)
    return prefix + body + tail + ")"
