"""``evaluate`` and ``predict``: a model's loss, metrics and outputs on data, in eval mode
under no_grad, a batch at a time; and the loss/metric accumulator ``fit`` shares."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._finite import NonFiniteLossWarning, check_finite
from ._setup import as_loader, loss_module, split_batch
from .metrics import get_metric
from .tasks import convert, output_kind

__all__ = ["evaluate", "predict"]


def _np(t) -> np.ndarray:
    return t.detach()._data if isinstance(t, Tensor) else np.asarray(t)


def compute_metrics(metrics, kind: str, outputs: np.ndarray, targets: np.ndarray,
                    prefix: str = "") -> dict:
    """``{prefix + name: value}``; a metric undefined on this data (e.g. ROC-AUC with one
    class present) gives ``nan``."""
    logs = {}
    for name, fn, want in metrics:
        try:
            value = fn(targets, outputs if want == "raw" else convert(outputs, kind, want))
        except ValueError:
            value = math.nan
        logs[prefix + name] = float(value)
    return logs


class _Accumulator:
    """Loss (weighted by batch size) and, when metrics need them, outputs and targets."""

    def __init__(self, keep: bool, state: dict | None = None):
        self.keep = keep
        self.loss_sum, self.count, self.outs, self.ys = 0.0, 0, [], []
        if state:
            self.loss_sum, self.count = float(state["loss_sum"]), int(state["count"])
            if state.get("outputs") is not None:
                self.outs, self.ys = [_np(state["outputs"])], [_np(state["targets"])]

    def add(self, loss: float, out, y) -> None:
        n = int(_np(y).shape[0])
        self.loss_sum += loss * n
        self.count += n
        if self.keep:
            self.outs.append(_np(out))
            self.ys.append(_np(y))

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else math.nan

    def arrays(self):
        return np.concatenate(self.outs), np.concatenate(self.ys)

    def state(self) -> dict:
        outs, ys = self.arrays() if self.keep and self.outs else (None, None)
        return {"loss_sum": self.loss_sum, "count": self.count, "outputs": outs, "targets": ys}


def _batches(model, data, batch_size):
    if isinstance(data, Tensor):
        for i in range(0, data.shape[0], batch_size):
            yield (data[i:i + batch_size],), None
        return
    for batch in as_loader(data, batch_size, False, None, "data"):
        yield split_batch(batch)


def evaluate(model, data, loss=None, metrics=(), batch_size: int = 1024, *, output=None,
             _kind=None) -> dict:
    """The mean loss and ``metrics`` of ``model`` on ``data`` (eval mode, no_grad).

    Args:
        data: a ``Dataset``, ``DataLoader`` or ``(X, y)`` tuple of tensors.
        loss: the loss (needed for ``"loss"``; also tells how to read the outputs).
        metrics: names or callables, as in ``fit``.
        output: how to read outputs when ``loss`` does not say: ``"logit"``, ``"prob"``,
            ``"multi"``, ``"log_rate"`` or ``"value"``.

    Returns: ``{"loss": ..., "accuracy": ..., ...}``.

    Example::

        evaluate(model, (X_test, y_test), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    """
    if isinstance(data, Tensor):
        raise TypeError("evaluate: data must be (X, y), a Dataset or a DataLoader, got a single "
                        "tensor (use predict(model, X) for outputs)")
    specs = [m if isinstance(m, tuple) else get_metric(m) for m in metrics]
    loss_fn = None if loss is None else loss_module(loss)
    kind = _kind or output or (output_kind(loss_fn) if loss_fn is not None else None)
    was = model.training
    model.eval()
    acc = _Accumulator(True)
    try:
        with no_grad():
            for inputs, y in _batches(model, data, batch_size):
                out = model(*inputs)
                acc.add(float(loss_fn(out, y).item()) if loss_fn is not None else 0.0, out, y)
    finally:
        model.train(was)
    outs, ys = acc.arrays()
    if kind is None:
        kind = "multi" if outs.ndim == 2 and outs.shape[1] > 1 else "value"
    logs = {"loss": acc.loss} if loss_fn is not None else {}
    bad = ~np.isfinite(outs.reshape(len(outs), -1)).all(axis=1) \
        if outs.dtype.kind in "fc" and len(outs) else np.zeros(0, bool)
    if bad.any():  # a NaN output read as class 0 would still count as a prediction
        warnings.warn(f"evaluate: the model's output is not finite for {int(bad.sum())} of "
                      f"{len(bad)} rows; the metrics are nan", NonFiniteLossWarning,
                      stacklevel=2)
        logs.update({name: math.nan for name, _, _ in specs})
        return logs
    logs.update(compute_metrics(specs, kind, outs, ys))
    return logs


def predict(model, X, batch_size: int = 1024) -> Tensor:
    """``model(X)`` in eval mode under no_grad, computed ``batch_size`` rows at a time.

    Shape: ``X (N, *)`` -> the model's output ``(N, *)``.

    Example::

        logits = predict(model, X_test)
    """
    if not isinstance(X, Tensor):
        X = Tensor._make(np.ascontiguousarray(np.asarray(X, dtype=np.float32)), False, None, 0)
    check_finite([X], "predict", ["X"])
    was = model.training
    model.eval()
    try:
        with no_grad():
            outs = [_np(model(*inputs)) for inputs, _ in _batches(model, X, batch_size)]
    finally:
        model.train(was)
    if not outs:
        raise ValueError("predict: X has no rows")
    out = np.concatenate(outs)
    if out.dtype.kind in "fc" and not np.isfinite(out).all():
        rows = int((~np.isfinite(out.reshape(len(out), -1))).any(axis=1).sum())
        warnings.warn(f"predict: the model's output is not finite for {rows} of {len(out)} "
                      "rows (its weights may be NaN: did training diverge?)",
                      NonFiniteLossWarning, stacklevel=2)
    return Tensor._make(out, False, None, 0)
