"""The course's output-unit table: which last layer, loss and prediction transform fit a
target.

| task | output units | link (prediction) | loss |
| --- | --- | --- | --- |
| binary | 1 | sigmoid: ``p = 1 / (1 + e^-z)``, class ``p > 0.5`` | ``BCEWithLogitsLoss`` |
| multiclass | K | softmax: ``p_k = e^z_k / sum_j e^z_j``, class ``argmax`` | ``CrossEntropyLoss`` |
| regression | 1 | identity: ``y = z`` | ``MSELoss`` |
| count | 1 | exp: ``lambda = e^z`` | ``PoissonDevianceLoss`` (a ``PoissonNLLLoss(log_input=True)``) |

The network always outputs the pre-activation ``z`` (logits / log-rate); the link is folded
into the loss, which is numerically stabler, and applied again by :meth:`Head.predict`.

The count loss is the **Poisson deviance** ``D = 2 mean(y log(y / lambda) - (y - lambda))``
(``y log y = 0`` at ``y = 0``): ``2 x PoissonNLLLoss(log_input=True)`` plus a term that does
not depend on the model, so the gradients are the same, but it is 0 for a perfect fit and
never negative — PoissonNLLLoss alone omits ``log(y!)`` and is negative for most data, which
reads as nonsense when printed as "loss".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..tensor import Tensor

__all__ = ["TASKS", "Head", "PoissonDevianceLoss", "head_for", "infer_task", "output_kind",
           "row_losses"]

TASKS = ("binary", "multiclass", "regression", "count")


def _np(x) -> np.ndarray:
    return x.detach()._data if isinstance(x, Tensor) else np.asarray(x)


def infer_task(y) -> str:
    """The task of a target array: integer dtype -> ``binary`` (2 classes) or ``multiclass``;
    float values all in {0, 1} -> ``binary``; non-negative integers (3+ values) -> ``count``;
    anything else -> ``regression``."""
    a = _np(y)
    values = np.unique(a)
    if a.dtype.kind in "iub":
        return "binary" if values.size <= 2 else "multiclass"
    if np.isin(values, (0.0, 1.0)).all():
        return "binary"
    if values.size > 2 and values.min() >= 0 and np.all(values == np.round(values)):
        return "count"
    return "regression"


class PoissonDevianceLoss(nn.PoissonNLLLoss):
    """The Poisson deviance of log-rates ``z`` (``lambda = e^z``) against counts ``y``:
    ``2 (e^z - y z + y log y - y)`` per element, reduced by ``reduction``.

    Same gradient as ``2 x PoissonNLLLoss(log_input=True)``; the added ``y log y - y`` makes
    it 0 at ``lambda = y`` and non-negative.

    Shape: ``z`` and ``y`` the same shape, e.g. ``(N, 1)``.

    Example::

        PoissonDevianceLoss()(cr.log(cr.tensor([[2.0]])), cr.tensor([[2.0]]))   # 0
    """

    def __init__(self, reduction: str = "mean"):
        super().__init__(log_input=True, full=False, reduction=reduction)

    def forward(self, log_input, target):
        nll = super().forward(log_input, target)
        y = _np(target).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            const = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y
        if self.reduction == "mean":
            const = const.mean() if const.size else 0.0
        elif self.reduction == "sum":
            const = const.sum()
        c = Tensor._make(np.asarray(const, dtype=_np(nll).dtype), False, None, 0)
        return 2 * (nll + c)


def row_losses(task: str, z, y) -> np.ndarray:
    """The per-row loss of :meth:`Head.loss` in float64 (its mean is the loss):
    binary ``softplus(z) - y z``; multiclass ``logsumexp(z) - z_y``; regression ``(z - y)^2``;
    count the Poisson deviance. ``z`` are network outputs, ``y`` as :meth:`Head.target`."""
    z = _np(z).astype(np.float64)
    y = _np(y)
    if task == "multiclass":
        m = z.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
        return lse - z[np.arange(z.shape[0]), y.reshape(-1).astype(np.int64)]
    z, y = z.reshape(-1), y.reshape(-1).astype(np.float64)
    if task == "binary":
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    if task == "regression":
        return (z - y) ** 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        return 2 * (np.exp(z) - y * z + ylogy - y)


@dataclass
class Head:
    """A task's output unit: ``layer(in_features)``, ``loss()``, ``target(y)`` and
    ``predict(outputs)``.

    Args:
        task: one of ``TASKS``.
        n_classes: classes for ``multiclass`` (2 for ``binary``).

    Example::

        head = head_for("binary")
        model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), head.layer(32))
        loss_fn = head.loss()                      # BCEWithLogitsLoss
        fit(model, (X, head.target(y)), loss=loss_fn, optimizer="adam", epochs=50)
        head.predict(model(X))["classes"]
    """

    task: str
    n_classes: int | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"Head: task must be one of {TASKS}, got {self.task!r}")
        if self.task == "multiclass" and (self.n_classes is None or self.n_classes < 2):
            raise ValueError(f"Head: task='multiclass' needs n_classes >= 2, got "
                             f"{self.n_classes!r}")
        if self.task == "binary":
            self.n_classes = 2

    @property
    def units(self) -> int:
        return self.n_classes if self.task == "multiclass" else 1

    @property
    def link(self) -> str:
        return {"binary": "sigmoid", "multiclass": "softmax", "regression": "identity",
                "count": "exp"}[self.task]

    def layer(self, in_features: int) -> nn.Linear:
        """The last layer: ``nn.Linear(in_features, units)`` producing ``z``."""
        return nn.Linear(in_features, self.units)

    def loss(self) -> nn.Module:
        if self.task == "binary":
            return nn.BCEWithLogitsLoss()
        if self.task == "multiclass":
            return nn.CrossEntropyLoss()
        if self.task == "regression":
            return nn.MSELoss()
        return PoissonDevianceLoss()

    def target(self, y) -> Tensor:
        """``y`` in the form the loss takes: float ``(N, 1)`` for binary/regression/count,
        int64 class indices ``(N,)`` for multiclass."""
        a = _np(y)
        if self.task == "multiclass":
            return Tensor._make(np.ascontiguousarray(a.reshape(-1).astype(np.int64)), False,
                                None, 0)
        return Tensor._make(np.ascontiguousarray(a.reshape(-1, 1).astype(np.float32)), False,
                            None, 0)

    def predict(self, outputs) -> dict:
        """``outputs`` (the network's ``z``) -> ``{"probabilities", "classes"}`` for
        classification or ``{"values"}`` (the mean: ``z`` or ``e^z``)."""
        z = _np(outputs).astype(np.float64)
        if self.task == "binary":
            with np.errstate(over="ignore"):  # exp(-z) = inf for z < -709: p = 0, exactly
                p = 1.0 / (1.0 + np.exp(-z.reshape(-1)))
            return {"probabilities": p, "classes": (p > 0.5).astype(np.int64)}
        if self.task == "multiclass":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            return {"probabilities": p, "classes": p.argmax(axis=1)}
        values = z.reshape(-1)
        if self.task == "count":
            with np.errstate(over="ignore"):  # a rate beyond 1.8e308 is inf: see scoring
                return {"values": np.exp(values)}
        return {"values": values}

    def null_bias(self, y) -> np.ndarray:
        """The last layer's bias of the null model (no inputs) fitted to targets ``y``: the
        base-rate logit ``log(p / (1 - p))`` (binary), centred log class frequencies with
        add-one smoothing (multiclass), ``log(mean y)`` (count), 0 (regression, for a
        standardised target). Starting there, training spends no steps on the intercept.

        Shape: ``y`` ``(N,)`` or ``(N, 1)`` -> ``(units,)`` float32.
        """
        y = _np(y).reshape(-1)
        if self.task == "binary":
            p = float(np.clip(y.astype(np.float64).mean(), 1e-3, 1 - 1e-3))
            out = np.array([np.log(p / (1 - p))])
        elif self.task == "multiclass":
            freq = np.bincount(y.astype(np.int64), minlength=self.units) + 1.0
            out = np.log(freq / freq.sum())
            out = out - out.mean()
        elif self.task == "count":
            out = np.array([np.log(max(float(y.astype(np.float64).mean()), 1e-3))])
        else:
            out = np.zeros(1)
        return out.astype(np.float32)

    def describe(self) -> str:
        """One line for reports: the output-unit choice and why."""
        loss = type(self.loss()).__name__
        if self.task == "count":
            loss += (" (2 x PoissonNLLLoss(log_input=True) + const: the Poisson deviance, 0 "
                     "for a perfect fit)")
        what = {"binary": "two classes", "multiclass": f"{self.n_classes} classes",
                "regression": "a continuous target", "count": "a non-negative count"}[self.task]
        return (f"task {self.task} ({what}): {self.units} output unit(s), {self.link} link, "
                f"loss {loss}")


def head_for(task: str = "auto", y=None, n_classes: int | None = None) -> Head:
    """The :class:`Head` of ``task`` (``"auto"``: :func:`infer_task` on ``y``)."""
    if task == "auto":
        if y is None:
            raise ValueError("head_for: task='auto' needs the target y to infer it from")
        task = infer_task(y)
    if task == "multiclass" and n_classes is None and y is not None:
        n_classes = int(_np(y).max()) + 1
    return Head(task, n_classes)


def output_kind(loss) -> str:
    """How ``fit`` reads a model's outputs, from its loss: ``"logit"`` (BCEWithLogitsLoss:
    class ``z > 0``), ``"prob"`` (BCELoss: class ``p > 0.5``), ``"multi"`` (CrossEntropyLoss
    / NLLLoss: class ``argmax``), ``"log_rate"`` (PoissonNLLLoss with log input: value
    ``e^z``) or ``"value"`` (anything else)."""
    name = type(loss).__name__
    if name == "BCEWithLogitsLoss":
        return "logit"
    if name == "BCELoss":
        return "prob"
    if name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        return "multi"
    if isinstance(loss, nn.PoissonNLLLoss) and getattr(loss, "log_input", True):
        return "log_rate"
    return "value"


def convert(outputs: np.ndarray, kind: str, want: str) -> np.ndarray:
    """Turn raw outputs into ``labels``, ``scores`` (positive-class score) or ``values``."""
    out = outputs
    if kind == "multi" or (kind == "value" and out.ndim == 2 and out.shape[1] > 1):
        if want == "labels":
            return out.argmax(axis=1)
        if want == "scores":
            if out.shape[1] != 2:
                raise ValueError(f"roc_auc is binary; the model has {out.shape[1]} outputs")
            return out[:, 1] - out[:, 0]
        return out
    flat = out.reshape(len(out), -1)[:, 0] if out.ndim > 1 else out
    if want == "labels":
        if kind == "logit":
            return (flat > 0).astype(np.int64)
        if kind == "prob":
            return (flat > 0.5).astype(np.int64)
        return np.round(flat).astype(np.int64)
    if want == "values" and kind == "log_rate":
        return np.exp(flat)
    return flat
