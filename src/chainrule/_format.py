"""PyTorch-like printing of tensors: ``tensor([[1.0000, 2.5000]], requires_grad=True)``."""

from __future__ import annotations

import sys

import numpy as np

from . import _dtype


class PrintOptions:
    """The options ``chainrule.set_printoptions`` sets (PyTorch's ``PRINT_OPTS``)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision, self.threshold, self.edgeitems, self.linewidth = 4, 1000, 3, 80
        self.sci_mode = None  # None: PyTorch's automatic choice; True/False: forced

    def __repr__(self) -> str:
        return ("PrintOptions(" + ", ".join(f"{k}={getattr(self, k)}" for k in self.__slots__)
                + ")")


PRINT_OPTS = PrintOptions()


def _summarized(arr: np.ndarray, edge: int = 3) -> np.ndarray:
    """The values that are printed when a large tensor is summarized (3 at each end)."""
    for axis, n in enumerate(arr.shape):
        if n > 2 * edge:
            arr = np.concatenate([arr.take(range(edge), axis), arr.take(range(n - edge, n), axis)],
                                 axis)
    return arr


def _float_formatter(arr: np.ndarray):
    """PyTorch's rules: integers print as ``2.``, else 4 decimals, else scientific when the
    nonzero magnitudes span more than 1e3 (or exceed 1e8, or go below 1e-4); every value is
    right-aligned to the widest one so that columns line up."""
    vals = arr[np.isfinite(arr) & (arr != 0)].astype(np.float64)
    if vals.size == 0:
        return lambda v: _special(v) or f"{v:.0f}."
    mags = np.abs(vals)
    lo, hi = float(mags.min()), float(mags.max())
    int_mode = bool(np.all(vals == np.ceil(vals)))
    p = PRINT_OPTS.precision
    sci = PRINT_OPTS.sci_mode
    if sci is None:
        sci = hi / lo > 1e3 or hi > 1e8 or (not int_mode and lo < 1e-4)
    if sci:
        fmt = f"{{:.{p}e}}"
    elif int_mode:
        fmt = "{:.0f}."
    else:
        fmt = f"{{:.{p}f}}"
    width = max(len(fmt.format(v)) for v in vals)
    return lambda v: (_special(v) or fmt.format(v)).rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def tensor_repr(t) -> str:
    arr = t._data
    if arr.__class__ is not np.ndarray and hasattr(arr, "_bdim"):
        return arr._tensor_repr(t)  # inside vmap, as torch.func prints it (func/_batched.py)
    if arr.__class__ is not np.ndarray:
        from ._meta import is_meta, meta_repr

        if is_meta(arr):
            return meta_repr(t)
    prefix = "tensor("
    opts = {}
    o = PRINT_OPTS
    shown = _summarized(arr, o.edgeitems) if arr.size > o.threshold else arr
    if arr.dtype.kind == "f":
        opts["formatter"] = {"float_kind": _float_formatter(shown)}
    elif arr.dtype.kind == "b":
        width = 5 if shown.size and not shown.all() else 4
        opts["formatter"] = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    elif shown.size:
        width = max(len(str(v)) for v in (shown.min(), shown.max()))
        opts["formatter"] = {"int": lambda v: str(v).rjust(width)}
    body = np.array2string(
        arr, separator=", ", prefix=prefix, threshold=min(o.threshold, sys.maxsize),
        edgeitems=o.edgeitems, max_line_width=o.linewidth, **opts
    ).replace(", ..., ", ",  ..., ")  # PyTorch's spacing around the ellipsis
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
