"""``check_loss_curve``: read a training history the way an experienced practitioner would."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Finding", "check_loss_curve"]


@dataclass
class Finding:
    """One diagnosis: ``kind`` ("ok", "nan", "divergence", "oscillation", "plateau",
    "overfitting"), what was seen, the suggested change and the epoch where it shows."""

    kind: str
    message: str
    suggestion: str = ""
    epoch: int | None = None

    def __str__(self) -> str:
        at = f" (epoch {self.epoch})" if self.epoch is not None else ""
        tip = f" -> {self.suggestion}" if self.suggestion else ""
        return f"{self.kind}{at}: {self.message}{tip}"


def _losses(history, key):
    h = getattr(history, "history", history)
    if isinstance(h, dict):
        if key not in h:
            raise KeyError(f"check_loss_curve: the history has no {key!r} (has {sorted(h)})")
        values = h[key]
    else:
        values = h
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError("check_loss_curve: expected a History, a dict of per-epoch lists or a "
                        f"list of losses, got {type(history).__name__}") from None


def check_loss_curve(history, *, key: str = "loss", patience: int = 10,
                     plateau_tol: float = 1e-3, diverge_factor: float = 3.0,
                     oscillation_amplitude: float = 0.05,
                     initial: float | None = None) -> list[Finding]:
    """Diagnose a loss curve; returns a list of findings, ``[Finding("ok", ...)]`` if healthy.

    * **nan** — the loss became NaN: lower the learning rate, check the data for NaN/inf.
    * **divergence** — the loss became inf, rose above ``diverge_factor`` x its start (the
      loss at initialisation when known: ``initial``, or ``History.initial_loss``, else the
      first epoch's), or grew by two orders of magnitude or more over its lowest value so
      far (a first epoch that already blew up is caught by the comparison with the
      initial loss): lower the learning rate 10x.
    * **oscillation** — over the last epochs most successive differences change sign and
      their median size exceeds ``oscillation_amplitude`` x the loss: lower the learning
      rate, add momentum, or enlarge the batch.
    * **plateau** — the last ``patience`` epochs improved the best loss by less than
      ``plateau_tol`` (relative) while the loss is still above half its start: increase the
      learning rate or use Adam, check input scaling and initialization.
    * **overfitting** — ``val_loss`` rose for ``patience`` epochs past its best while the
      training loss kept falling: regularize (weight decay, dropout) or stop early.

    Args:
        history: a ``chainrule.train.History``, a dict of per-epoch lists, or a list of losses.
        key: the loss entry to read.
        patience: epochs considered by the plateau and overfitting checks.
        initial: the loss before training (default: ``history.initial_loss`` if present).

    Example::

        for f in check_loss_curve(history):
            print(f)        # e.g. "divergence (epoch 4): ... -> lower the learning rate 10x"
    """
    if patience < 2:
        raise ValueError(f"check_loss_curve: patience must be >= 2, got {patience!r}")
    loss = _losses(history, key)
    findings = []
    if loss.size == 0:
        return [Finding("ok", "no epochs recorded yet")]
    bad = np.flatnonzero(np.isnan(loss))
    if bad.size:
        findings.append(Finding(
            "nan", f"the loss is NaN from epoch {bad[0]} (last finite value "
            f"{_last_finite(loss[:bad[0]])})",
            "lower the learning rate, check the inputs for NaN/inf, and use numerically stable "
            "losses (CrossEntropyLoss / BCEWithLogitsLoss on logits)", int(bad[0])))
        loss = loss[:bad[0]]
    inf = np.flatnonzero(np.isinf(loss))
    if inf.size:
        findings.append(Finding("divergence", f"the loss became infinite at epoch {inf[0]}",
                                "lower the learning rate 10x", int(inf[0])))
        loss = loss[:inf[0]]
    if initial is None:
        initial = getattr(history, "initial_loss", None)
    if not any(f.kind == "divergence" for f in findings):
        found = _divergence(loss, initial, diverge_factor)
        if found is not None:
            findings.append(found)
    if loss.size >= 5 and not findings:
        tail = loss[-max(patience, 5):]
        d = np.diff(tail)
        flips = np.mean(np.sign(d[1:]) * np.sign(d[:-1]) < 0) if d.size > 1 else 0.0
        amplitude = np.median(np.abs(d)) / max(np.median(np.abs(tail)), 1e-12)
        if flips >= 0.6 and amplitude > oscillation_amplitude:
            findings.append(Finding(
                "oscillation", f"the loss goes up and down: {flips:.0%} of the last "
                f"{d.size} changes reverse direction, by {amplitude:.0%} of the loss",
                "lower the learning rate 2-10x, add momentum or use Adam, or use larger "
                "batches", int(loss.size - tail.size)))
    if loss.size > patience and not findings:
        best_before = np.min(loss[:-patience])
        best_recent = np.min(loss[-patience:])
        gain = (best_before - best_recent) / max(abs(best_before), 1e-12)
        if gain < plateau_tol and abs(loss[-1]) > 0.5 * abs(loss[0]) and abs(loss[-1]) > 1e-8:
            findings.append(Finding(
                "plateau", f"no improvement over the last {patience} epochs (relative gain "
                f"{gain:.2g}) while the loss {loss[-1]:.4g} is still above half its start "
                f"{loss[0]:.4g}",
                "increase the learning rate or use Adam; check input scaling (standardize the "
                "features) and the initialization", int(loss.size - patience)))
    findings += _overfitting(history, loss, patience)
    if not findings and loss.size > 1 and not loss[-1] < loss[0]:
        findings.append(Finding(
            "plateau", f"the loss did not fall: it went from {loss[0]:.4g} to {loss[-1]:.4g}",
            "increase the learning rate or use Adam; check input scaling (standardize the "
            "features) and the initialization", 0))
    if not findings:
        findings.append(Finding("ok", f"the loss fell from {loss[0]:.4g} to {loss[-1]:.4g}"
                                if loss.size > 1 else "one epoch recorded"))
    return findings


def _divergence(loss, initial, factor: float) -> Finding | None:
    """Divergence against the start (``initial`` when known) or the lowest loss so far."""
    tip = "lower the learning rate 10x (and check input scaling)"
    if loss.size == 0:
        return None
    known = initial is not None and np.isfinite(initial)
    start = float(initial) if known else loss[0]
    what = "its value at initialisation" if known else "its start"
    scale = max(abs(start), 1e-12)
    above = np.flatnonzero(loss - start > (factor - 1) * scale)
    if above.size and (known or above[0] > 0):
        e = int(above[0])
        return Finding("divergence", f"the loss rose from {start:.4g} ({what}) to "
                       f"{loss[e]:.4g} (over {factor:g}x) at epoch {e}", tip, e)
    low = np.minimum.accumulate(loss)
    if low.min() > 0 and loss.size > 1:
        ratio = loss[1:] / low[:-1]
        grew = np.flatnonzero(ratio >= 100)
        if grew.size:
            e = int(grew[0]) + 1
            return Finding("divergence", f"the loss grew {math.log10(ratio[e - 1]):.0f} "
                           f"orders of magnitude, from {low[e - 1]:.4g} to {loss[e]:.4g}, "
                           f"at epoch {e}", tip, e)
    return None


def _last_finite(values):
    finite = values[np.isfinite(values)]
    return f"{finite[-1]:.4g}" if finite.size else "none"


def _overfitting(history, loss, patience):
    h = getattr(history, "history", history)
    if not isinstance(h, dict) or "val_loss" not in h:
        return []
    val = np.asarray(h["val_loss"], dtype=np.float64)[: loss.size]
    if val.size <= patience or not np.all(np.isfinite(val)):
        return []
    best = int(np.argmin(val))
    if val.size - 1 - best >= patience and loss[-1] < loss[best] and \
            val[-1] > val[best] * (1 + 1e-3):
        return [Finding(
            "overfitting", f"val_loss is lowest at epoch {best} ({val[best]:.4g}) and rose to "
            f"{val[-1]:.4g} while the training loss kept falling",
            "add weight decay or dropout, get more data, or stop early (EarlyStopping with "
            "restore_best_weights=True)", best)]
    return []


