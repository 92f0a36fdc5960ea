"""Metrics against NumPy formulas written out here (and scikit-learn where installed)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import metrics as M


@pytest.fixture
def binary():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    score = y * 0.8 + rng.normal(0, 0.6, 200)
    score[:20] = np.round(score[:20], 1)  # ties
    return y, (score > 0.4).astype(np.int64), score


def test_binary_counts_formulas(binary):
    y, p, _ = binary
    tp = np.sum((y == 1) & (p == 1))
    fp = np.sum((y == 0) & (p == 1))
    fn = np.sum((y == 1) & (p == 0))
    prec, rec = tp / (tp + fp), tp / (tp + fn)
    assert M.accuracy(y, p) == pytest.approx(np.mean(y == p))
    assert M.precision(y, p) == pytest.approx(prec)
    assert M.recall(y, p) == pytest.approx(rec)
    assert M.f1(y, p) == pytest.approx(2 * prec * rec / (prec + rec))
    cm = M.confusion_matrix(y, p)
    assert cm.tolist() == [[np.sum((y == 0) & (p == 0)), fp], [fn, tp]]


def test_roc_auc_is_pairwise_probability(binary):
    y, _, s = binary
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    expected = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert M.roc_auc(y, s) == pytest.approx(expected)
    assert M.roc_auc(y, -s) == pytest.approx(1 - expected)
    with pytest.raises(ValueError, match="both classes"):
        M.roc_auc(np.ones(5), np.arange(5.0))


def test_macro_metrics_and_tensors():
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    precs, recs, f1s = [], [], []
    for c in range(4):
        tp = np.sum((y == c) & (p == c))
        pr, rc = tp / np.sum(p == c), tp / np.sum(y == c)
        precs.append(pr)
        recs.append(rc)
        f1s.append(2 * pr * rc / (pr + rc))
    yt, pt = cr.tensor(y), cr.tensor(p)
    assert M.precision_macro(yt, pt) == pytest.approx(np.mean(precs))
    assert M.recall_macro(yt, pt) == pytest.approx(np.mean(recs))
    assert M.f1_macro(yt, pt) == pytest.approx(np.mean(f1s))
    assert M.confusion_matrix(yt, pt).sum() == 300


def test_regression_formulas():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(50, 1))
    p = y + rng.normal(0, 0.3, size=(50, 1))
    assert M.mse(y, p) == pytest.approx(np.mean((y - p) ** 2))
    assert M.mae(y, p) == pytest.approx(np.mean(np.abs(y - p)))
    r2 = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    assert M.r2(y, p) == pytest.approx(r2)


def test_against_sklearn(binary):
    skm = pytest.importorskip("sklearn.metrics")
    y, p, s = binary
    assert M.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert M.f1(y, p) == pytest.approx(skm.f1_score(y, p))
    assert M.precision(y, p) == pytest.approx(skm.precision_score(y, p))
    assert M.recall(y, p) == pytest.approx(skm.recall_score(y, p))
    assert M.f1_macro(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))
    assert (M.confusion_matrix(y, p) == skm.confusion_matrix(y, p)).all()
    yr, pr = s, s + 0.1 * y
    assert M.r2(yr, pr) == pytest.approx(skm.r2_score(yr, pr))


def test_errors_name_the_metric():
    with pytest.raises(ValueError, match="accuracy: y_true has shape"):
        M.accuracy([0, 1, 1], [[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]])
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.get_metric("acuracy")
