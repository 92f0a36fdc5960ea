"""Non-finite numbers in ``fit``, ``evaluate`` and ``predict``: refused or reported, never a
silent "success".

* **Data given as tensors** (``fit(model, (X, y))``, ``evaluate(model, (X, y))``,
  ``predict(model, X)``): a NaN or infinity in a floating-point tensor raises ``ValueError``
  naming the tensor, the count and the first row and column, before any work. One ``inf``
  feature used to make every loss NaN while ``fit`` returned normally. (A float attention
  mask with ``-inf`` among the inputs is refused too: pass a boolean mask, or wrap the data
  in a ``Dataset``, which is not checked up front.)
* **The training loss becomes NaN or infinite** (divergence, or a bad sample coming from a
  ``Dataset``/``DataLoader``): ``fit`` skips that batch's update (so the weights stay those
  of the last finite step; not under data-parallel training, where every rank must step),
  records the epoch, stops, sets ``History.nonfinite`` (and ``terminated_on_nan``) and
  warns with :class:`NonFiniteLossWarning`, saying whether the batch itself held non-finite
  numbers (fix the data) or not (the optimization diverged: lower the learning rate).
* **Outputs that are not finite** in ``evaluate`` (finite data, a broken model) give
  ``nan`` metrics and a :class:`NonFiniteLossWarning`; in ``predict`` the warning only.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["NonFiniteLossWarning", "check_finite", "first_nonfinite", "nonfinite_in",
           "stop_at_nonfinite"]


class NonFiniteLossWarning(RuntimeWarning):
    """``fit`` stopped at a NaN/infinite loss, or ``evaluate``/``predict`` produced
    non-finite outputs (see :mod:`chainrule.train._finite`)."""


def _array(t):
    data = getattr(t, "_data", t)
    return data if isinstance(data, np.ndarray) else None


def first_nonfinite(a: np.ndarray):
    """``(count, value, index tuple)`` of the non-finite entries of a float array, or None."""
    if a is None or a.dtype.kind not in "fc" or a.size == 0:
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    flat = int(np.argmax(bad.reshape(-1)))
    idx = np.unravel_index(flat, a.shape)
    return int(bad.sum()), a.reshape(-1)[flat], tuple(int(i) for i in idx)


def check_finite(tensors, who: str, names=None) -> None:
    """Raise ``ValueError`` when a floating-point tensor of ``tensors`` holds NaN or inf."""
    tensors = list(tensors)
    for k, t in enumerate(tensors):
        found = first_nonfinite(_array(t))
        if found is None:
            continue
        count, value, idx = found
        name = names[k] if names else ("y" if k == len(tensors) - 1 and len(tensors) > 1
                                       else "X" if k == 0 else f"input {k}")
        where = f"row {idx[0]}" + (f", column {idx[1]}" if len(idx) > 1 else "") \
            if idx else "the scalar"
        what = "its outputs" if who == "predict" else "every loss"
        raise ValueError(f"{who}: {name} has {count} non-finite value(s) (first {value} at "
                         f"{where}); {what} would be NaN: remove or impute them first (a "
                         "float mask with -inf among the inputs? pass a boolean mask)")


def nonfinite_in(inputs, y) -> bool:
    """True when a floating-point tensor of a batch holds NaN or inf."""
    return any(first_nonfinite(_array(t)) is not None for t in (*inputs, y))


def message(epoch: int, batch: int, value: float, bad_data: bool, skipped: bool) -> str:
    where = f"fit: the training loss is {value} at epoch {epoch + 1}, batch {batch + 1}"
    kept = ("; training stopped, the weights are those before that batch" if skipped else
            "; training stopped")
    if bad_data:
        return (f"{where}: that batch holds NaN or inf values{kept}. Clean the data (a "
                "Dataset/DataLoader is not checked up front)")
    return (f"{where} with finite inputs and targets: the optimization diverged{kept}. "
            "Lower the learning rate (and check the scale of the inputs and targets)")


def stop_at_nonfinite(run, epoch: int, batch: int, value: float, inputs, y) -> None:
    """A NaN/inf training loss in ``fit``: stop after this batch, record it in the history
    and warn (see the module docstring)."""
    bad_data = nonfinite_in(inputs, y)
    run.stop_training = True
    run.history.terminated_on_nan = True
    run.history.nonfinite = {"epoch": epoch, "batch": batch, "loss": value,
                             "cause": "data" if bad_data else "divergence",
                             "update_skipped": run.skipped}
    warnings.warn(message(epoch, batch, value, bad_data, run.skipped), NonFiniteLossWarning,
                  stacklevel=4)
