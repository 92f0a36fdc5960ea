"""The output-unit table: task inference, heads, losses and prediction transforms."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import head_for, infer_task
from chainrule.train.tasks import Head, convert, output_kind


def test_infer_task():
    assert infer_task(cr.tensor([0, 1, 1])) == "binary"
    assert infer_task(cr.tensor([0, 1, 2, 2])) == "multiclass"
    assert infer_task(cr.tensor([[0.0], [1.0]])) == "binary"
    assert infer_task(cr.tensor([0.0, 3.0, 7.0, 1.0])) == "count"
    assert infer_task(cr.tensor([0.5, -1.2, 3.0])) == "regression"


@pytest.mark.parametrize("task,units,loss,link", [
    ("binary", 1, nn.BCEWithLogitsLoss, "sigmoid"),
    ("multiclass", 3, nn.CrossEntropyLoss, "softmax"),
    ("regression", 1, nn.MSELoss, "identity"),
    ("count", 1, nn.PoissonNLLLoss, "exp"),
])
def test_heads(task, units, loss, link):
    head = Head(task, 3 if task == "multiclass" else None)
    assert head.units == units and head.link == link
    assert isinstance(head.loss(), loss)
    assert head.layer(5).weight.shape == (units, 5)
    assert task in head.describe() and loss.__name__ in head.describe()


def test_predict_transforms():
    z = np.array([[-2.0], [0.5]])
    p = Head("binary").predict(cr.tensor(z))
    np.testing.assert_allclose(p["probabilities"], 1 / (1 + np.exp(-z[:, 0])))
    assert p["classes"].tolist() == [0, 1]
    z3 = np.array([[1.0, 2.0, 0.0], [3.0, -1.0, 0.5]])
    p3 = Head("multiclass", 3).predict(z3)
    e = np.exp(z3)
    np.testing.assert_allclose(p3["probabilities"], e / e.sum(1, keepdims=True))
    assert p3["classes"].tolist() == [1, 0]
    np.testing.assert_allclose(Head("count").predict(z)["values"], np.exp(z[:, 0]))
    np.testing.assert_allclose(Head("regression").predict(z)["values"], z[:, 0])


def test_targets_and_kinds():
    y = cr.tensor([0, 1, 1])
    assert Head("binary").target(y).shape == (3, 1)
    assert Head("binary").target(y).dtype == cr.float32
    assert Head("multiclass", 2).target(y).dtype == cr.int64
    assert head_for("auto", y).task == "binary"
    assert head_for("auto", cr.tensor([0, 2, 1])).n_classes == 3
    assert output_kind(nn.BCEWithLogitsLoss()) == "logit"
    assert output_kind(nn.PoissonNLLLoss()) == "log_rate"
    assert convert(np.array([[-1.0], [2.0]]), "logit", "labels").tolist() == [0, 1]
    with pytest.raises(ValueError, match="n_classes"):
        Head("multiclass")
