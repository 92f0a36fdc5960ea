"""Metrics on NumPy arrays or tensors: classification (accuracy, precision, recall, F1,
ROC-AUC, confusion matrix) and regression (MSE, MAE, R^2).

Each function takes ``(y_true, y_pred)`` like scikit-learn's: class labels for the
classification metrics, scores (any monotone function of the positive class's probability)
for ``roc_auc``, values for the regression metrics. ``fit(metrics=["accuracy"])`` looks
them up by name in :data:`METRICS` and turns the model's outputs into labels, scores or
values first (see :func:`chainrule.train.tasks.output_kind`).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["METRICS", "accuracy", "confusion_matrix", "f1", "f1_macro", "mae", "mse",
           "precision", "precision_macro", "r2", "recall", "recall_macro", "roc_auc",
           "get_metric"]


def _array(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach()._data
    return np.asarray(x).reshape(len(x), -1) if np.ndim(x) > 1 else np.asarray(x)


def _pair(y_true, y_pred, name: str):
    t, p = _array(y_true, name), _array(y_pred, name)
    if t.ndim > 1 and t.shape[1] == 1:
        t = t[:, 0]
    if p.ndim > 1 and p.shape[1] == 1:
        p = p[:, 0]
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                         "expected the same number of samples (labels, not logits)")
    if t.size == 0:
        raise ValueError(f"{name}: got no samples")
    return t, p


def accuracy(y_true, y_pred) -> float:
    """``mean(y_pred == y_true)`` over labels.

    Example::

        accuracy([0, 1, 1], [0, 1, 0])   # 0.666...
    """
    t, p = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as class ``j``.

    Shape: ``(K, K)`` int64 with ``K = num_classes`` (default: ``max label + 1``).
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    t, p = t.astype(np.int64), p.astype(np.int64)
    k = int(max(t.max(), p.max()) + 1) if num_classes is None else int(num_classes)
    if min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k:
        raise ValueError(f"confusion_matrix: labels must lie in 0..{k - 1}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _prf(y_true, y_pred, name):
    """Per-class precision, recall, F1 from the confusion matrix (0 where undefined)."""
    cm = confusion_matrix(y_true, y_pred).astype(np.float64)
    tp = np.diag(cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(cm.sum(0) > 0, tp / cm.sum(0), 0.0)
        rec = np.where(cm.sum(1) > 0, tp / cm.sum(1), 0.0)
        f = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return prec, rec, f


def _positive(values, name):
    """The binary metrics' entry for class 1 (0 when class 1 never occurs)."""
    return float(values[1]) if values.size > 1 else 0.0


def precision(y_true, y_pred) -> float:
    """Binary precision ``TP / (TP + FP)`` of class 1 (0 when nothing is predicted 1)."""
    return _positive(_prf(y_true, y_pred, "precision")[0], "precision")


def recall(y_true, y_pred) -> float:
    """Binary recall ``TP / (TP + FN)`` of class 1 (0 when class 1 never occurs)."""
    return _positive(_prf(y_true, y_pred, "recall")[1], "recall")


def f1(y_true, y_pred) -> float:
    """Binary F1 ``2 P R / (P + R)`` of class 1."""
    return _positive(_prf(y_true, y_pred, "f1")[2], "f1")


def _present(y_true, y_pred):
    t, p = _pair(y_true, y_pred, "macro")
    return np.union1d(t.astype(np.int64), p.astype(np.int64))


def precision_macro(y_true, y_pred) -> float:
    """Unweighted mean over the classes present (true or predicted) of per-class precision."""
    return float(np.mean(_prf(y_true, y_pred, "precision_macro")[0][_present(y_true, y_pred)]))


def recall_macro(y_true, y_pred) -> float:
    """Unweighted mean over the classes present of per-class recall."""
    return float(np.mean(_prf(y_true, y_pred, "recall_macro")[1][_present(y_true, y_pred)]))


def f1_macro(y_true, y_pred) -> float:
    """Unweighted mean over the classes present of per-class F1."""
    return float(np.mean(_prf(y_true, y_pred, "f1_macro")[2][_present(y_true, y_pred)]))


def roc_auc(y_true, y_score) -> float:
    """Binary ROC-AUC by ranks (Mann-Whitney U): ``AUC = (sum of positive ranks -
    n_pos (n_pos + 1) / 2) / (n_pos n_neg)``, ties sharing their mean rank.

    ``y_score`` is any score increasing with the probability of class 1 (a logit works).
    """
    t, s = _pair(y_true, y_score, "roc_auc")
    t = t.astype(np.int64)
    n_pos = int((t == 1).sum())
    n_neg = t.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc: needs both classes in y_true (got only one)")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(s.size, np.float64)
    # mean rank over each run of tied scores
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, counts)
    return float((ranks[t == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def mse(y_true, y_pred) -> float:
    """Mean squared error ``mean((y_pred - y_true)^2)``."""
    t, p = _pair(y_true, y_pred, "mse")
    return float(np.mean((p.astype(np.float64) - t) ** 2))


def mae(y_true, y_pred) -> float:
    """Mean absolute error ``mean(|y_pred - y_true|)``."""
    t, p = _pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(p.astype(np.float64) - t)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination ``1 - sum((y - y_hat)^2) / sum((y - mean(y))^2)``."""
    t, p = _pair(y_true, y_pred, "r2")
    t = t.astype(np.float64)
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    ss_res = float(np.sum((t - p) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


#: name -> (function, what it takes from the model's outputs: "labels", "scores", "values")
METRICS = {
    "accuracy": (accuracy, "labels"), "acc": (accuracy, "labels"),
    "precision": (precision, "labels"), "recall": (recall, "labels"), "f1": (f1, "labels"),
    "precision_macro": (precision_macro, "labels"), "recall_macro": (recall_macro, "labels"),
    "f1_macro": (f1_macro, "labels"), "roc_auc": (roc_auc, "scores"), "auc": (roc_auc, "scores"),
    "mse": (mse, "values"), "mae": (mae, "values"), "r2": (r2, "values"),
}


def get_metric(metric):
    """``(name, function, kind)`` for a metric name or a callable ``fn(y_true, outputs)``
    (a callable receives the raw model outputs: kind ``"raw"``)."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric, "raw"
    if isinstance(metric, str) and metric.lower() in METRICS:
        fn, kind = METRICS[metric.lower()]
        return metric.lower(), fn, kind
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))} "
                     "(or pass a function fn(y_true, outputs))")
