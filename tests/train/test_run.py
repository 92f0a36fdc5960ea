"""Run directories for the other tasks: regression, count (Poisson) and multiclass CSVs
through train_csv -> load_run -> evaluate_csv / predict_csv."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.train.run import load_run, train_csv
from chainrule.train.scoring import evaluate_csv, predict_csv


def _write(path, X, y):
    lines = ["a,b,c,y"] + [f"{r[0]:.4f},{r[1]:.4f},{'uv'[int(r[2] > 0)]},{t}"
                           for r, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("kind,task,loss,metric", [
    ("regression", "regression", "MSELoss", "r2"),
    ("count", "count", "PoissonDevianceLoss", "r2"),
    ("multiclass", "multiclass", "CrossEntropyLoss", "accuracy"),
])
def test_train_load_evaluate_predict(tmp_path, kind, task, loss, metric):
    g = np.random.default_rng(0)
    X = g.normal(size=(200, 3))
    s = X[:, 0] - 0.5 * X[:, 1] + 0.5 * (X[:, 2] > 0)
    if kind == "regression":
        y = [f"{v:.4f}" for v in 2 * s + 0.1 * g.normal(size=200)]
    elif kind == "count":
        y = [str(v) for v in g.poisson(np.exp(0.8 * s + 1.0))]
    else:
        y = [("lo", "mid", "hi")[i] for i in np.digitize(s, [-0.5, 0.5])]
    csv = tmp_path / "d.csv"
    _write(csv, X, y)
    res = train_csv(csv, "y", out=tmp_path / "run", verbose=0, epochs=60, patience=0,
                    dropout=0.0, weight_decay=0.0, lr=0.01, hidden=(16,))
    assert res["head"].task == task
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["output"]["loss"] == loss and config["task"] == task
    run = load_run(tmp_path / "run")
    assert [type(m).__name__ for m in run.model] == ["Linear", "ReLU", "Linear"]
    res = evaluate_csv(tmp_path / "run", csv)
    metrics = res["metrics"]
    assert res["excluded"] == 0 and res["scored"] == 200
    if metric == "r2":
        assert metrics["r2"] > 0.7
    else:
        assert metrics["accuracy"] > 0.8
    res = predict_csv(tmp_path / "run", csv, tmp_path / "p.csv")
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert res["scored"] == 200 and len(rows) == 201
    if kind == "multiclass":
        assert rows[0] == "row,prediction,p_hi,p_lo,p_mid,reason"
    else:
        pred = np.array([float(r.split(",")[1]) for r in rows[1:]])
        if kind == "count":
            assert (pred > 0).all()  # exp link
