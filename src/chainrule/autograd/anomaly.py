"""Anomaly detection: the first NaN/Inf in a forward output or backward gradient raises.

The error names the primitive and the ranges of its inputs; for backward errors it also
shows where the forward operation was created (recorded while anomaly mode is on).
"""

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np

from .grad_mode import STATE


class detect_anomaly:  # noqa: N801
    """Context manager (and decorator) turning anomaly detection on (``check_nan=True``)."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = STATE.anomaly
        STATE.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801
    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = STATE.anomaly
        STATE.anomaly = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self._prev
        return False


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


def _range(a):
    from ..tensor import Tensor

    if isinstance(a, Tensor):
        a = a._data
    if isinstance(a, np.ndarray):
        if a.size == 0 or a.dtype.kind not in "fiub":
            return f"shape {tuple(a.shape)}"
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN arrays
            return f"shape {tuple(a.shape)}, range [{np.nanmin(a):.4g}, {np.nanmax(a):.4g}]"
    return repr(a)


def _bad(arr):
    return isinstance(arr, np.ndarray) and arr.dtype.kind == "f" and not np.isfinite(arr).all()


def _inputs(args):
    from ..tensor import Tensor

    return "; ".join(f"input {i}: {_range(a)}" for i, a in enumerate(args)
                     if isinstance(a, (Tensor, np.ndarray)))


def _primitive(cls):
    return cls.__name__.lstrip("_")


def check_forward(cls, args, out_arrays):
    for k, arr in enumerate(out_arrays):
        if _bad(arr):
            what = "NaN" if np.isnan(arr).any() else "Inf"
            raise RuntimeError(
                f"anomaly: {_primitive(cls)} produced {what} in its forward output {k} "
                f"({_inputs(args)})"
            )


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def record_creation(ctx, args):
    """Remember where (outside chainrule) a recorded operation was created, and its inputs."""
    frames = traceback.extract_stack()[:-2]
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE)]
    frame = (user or frames)[-1]
    ctx._trace = (frame, _inputs(args))


def backward_unchecked(node, out_grads):
    """Run a node's backward rule without checking the rule's own operations as forward
    operations (a NaN there is reported once, for the node, by ``check_backward``)."""
    STATE.anomaly = False
    try:
        return type(node).backward(node, *out_grads)
    finally:
        STATE.anomaly = True


def check_backward(node, grads):
    for i, g in enumerate(grads):
        if g is not None and _bad(g._data):
            what = "NaN" if np.isnan(g._data).any() else "Inf"
            msg = (f"anomaly: {node.name()} returned {what} in the gradient for input {i} "
                   f"({_range(g)})")
            if node._trace is not None:
                frame, inputs = node._trace
                msg += (f"; the forward {_primitive(type(node))} had {inputs}. It was created "
                        f"at:\n  File \"{frame.filename}\", line {frame.lineno}, in "
                        f"{frame.name}\n    {frame.line}")
            raise RuntimeError(msg)
