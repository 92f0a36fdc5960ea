"""Anomaly detection: the first NaN/Inf in a forward output or backward gradient raises.

The error names the primitive and the ranges of its inputs; for backward errors it also
shows where the forward operation was created (recorded while anomaly mode is on).
"""

from __future__ import annotations

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
        with np.errstate(all="ignore"):
            return f"shape {tuple(a.shape)}, range [{np.nanmin(a):.4g}, {np.nanmax(a):.4g}]"
    return repr(a)


def _bad(arr):
    return isinstance(arr, np.ndarray) and arr.dtype.kind == "f" and not np.isfinite(arr).all()


def check_forward(cls, args, out_arrays):
    from ..tensor import Tensor

    for k, arr in enumerate(out_arrays):
        if _bad(arr):
            what = "NaN" if np.isnan(arr).any() else "Inf"
            inputs = "; ".join(f"input {i}: {_range(a)}" for i, a in enumerate(args)
                               if isinstance(a, (Tensor, np.ndarray)))
            raise RuntimeError(
                f"anomaly: {cls.__name__.lstrip('_')} produced {what} in its forward output "
                f"{k} ({inputs})"
            )


def check_backward(node, grads):
    for i, g in enumerate(grads):
        if g is not None and _bad(g._data):
            what = "NaN" if np.isnan(g._data).any() else "Inf"
            trace = getattr(node, "_trace", None)
            where = ""
            if trace:
                where = "\nThe forward operation was created at:\n" + "".join(trace[-3:])
            raise RuntimeError(
                f"anomaly: function '{node.name()}' returned {what} values in its gradient for "
                f"input {i} ({_range(g)}).{where}"
            )
