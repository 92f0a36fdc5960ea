"""Non-finite numbers in the Python API: refused up front when the data are tensors, a NaN
loss stops ``fit`` with a warning and the last finite weights, non-finite outputs never give
metrics that look real."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import evaluate, fit, predict
from chainrule.train import NonFiniteLossWarning
from chainrule.utils.data import TensorDataset


def _data():
    cr.manual_seed(0)
    X = cr.randn(64, 3)
    return X, (X[:, 0] > 0).long()


@pytest.mark.parametrize("where", ["X", "y"])
def test_fit_refuses_non_finite_tensors(where):
    X, y = _data()
    yr = X[:, :1].clone()
    if where == "X":
        X = X.clone()
        X[5, 1] = float("inf")
    else:
        yr[7, 0] = float("nan")
    with pytest.raises(ValueError, match=rf"fit \(train data\): {where} has 1 non-finite "
                                         rf"value\(s\) \(first (inf|nan) at row (5|7)"):
        fit(cr.models.mlp([3, 4, 1]), (X, yr), loss="mse", optimizer="adam", epochs=1,
            verbose=0)


def test_fit_refuses_non_finite_validation_data():
    X, y = _data()
    Xv = X.clone()
    Xv[0, 0] = float("-inf")
    with pytest.raises(ValueError, match=r"fit \(val data\): X has 1 non-finite"):
        fit(cr.models.mlp([3, 2]), (X, y), loss=nn.CrossEntropyLoss(), optimizer="adam",
            epochs=1, verbose=0, val=(Xv, y))


def test_evaluate_and_predict_refuse_non_finite_inputs():
    X, y = _data()
    X = X.clone()
    X[3, 2] = float("nan")
    model = cr.models.mlp([3, 2])
    with pytest.raises(ValueError, match=r"evaluate: X has 1 non-finite value\(s\) \(first "
                                         r"nan at row 3, column 2\)"):
        evaluate(model, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    with pytest.raises(ValueError, match=r"predict: X has 1 non-finite.*its outputs"):
        predict(model, X)


def test_divergence_stops_fit_with_a_warning_and_finite_weights():
    X, y = _data()
    model = cr.models.mlp([3, 8, 2])
    with pytest.warns(NonFiniteLossWarning, match="the optimization diverged; training "
                                                  "stopped, the weights are those before"):
        h = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer="sgd", lr=1e10,
                epochs=50, batch_size=16, verbose=0)
    assert len(h) < 50 and h.terminated_on_nan
    assert h.nonfinite["cause"] == "divergence" and h.nonfinite["update_skipped"]
    assert not math.isfinite(h.history["loss"][-1])  # the history shows it
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_bad_sample_from_a_dataset_is_named_as_data():
    X, y = _data()
    X = X.clone()
    X[20, 0] = float("nan")
    model = cr.models.mlp([3, 2])
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.warns(NonFiniteLossWarning, match="epoch 1, batch 2: that batch holds NaN"):
        h = fit(model, TensorDataset(X, y), loss=nn.CrossEntropyLoss(), optimizer="adam",
                lr=1e-2, epochs=3, batch_size=16, shuffle=False, verbose=0)
    assert h.nonfinite == {"epoch": 0, "batch": 1, "loss": h.nonfinite["loss"],
                           "cause": "data", "update_skipped": True}
    after = [p.detach().numpy() for p in model.parameters()]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))  # batch 1 trained
    assert all(np.isfinite(a).all() for a in after)


def test_nan_outputs_give_nan_metrics_not_plausible_ones():
    X, y = _data()
    model = cr.models.mlp([3, 2])
    with cr.no_grad():
        model[0].weight.fill_(float("nan"))
    with pytest.warns(NonFiniteLossWarning, match="not finite for 64 of 64 rows"):
        logs = evaluate(model, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert math.isnan(logs["accuracy"])  # was 0.5: NaN logits read as class 0
    with pytest.warns(NonFiniteLossWarning, match="did training diverge"):
        predict(model, X)


def test_finite_runs_warn_nothing():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = fit(cr.models.mlp([3, 4, 2]), (X, y), loss=nn.CrossEntropyLoss(),
                optimizer="adam", epochs=2, verbose=0)
    assert h.nonfinite is None and not h.terminated_on_nan


def test_cli_diverging_run_exits_1_naming_it(tmp_path, capsys):
    from chainrule.cli import main

    g = np.random.default_rng(0)
    X = g.normal(size=(60, 2))
    rows = [f"{a:.3f},{b:.3f},{int(a - b > 0)}" for a, b in X]
    (tmp_path / "d.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    code = main(["train", str(tmp_path / "d.csv"), "--target", "y", "--lr", "1e10",
                 "--optimizer", "sgd", "--hidden", "8", "--out", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "the training loss became nan" in out
    assert err.strip().startswith("chainrule: error: training diverged (the training loss of "
                                  "the kept candidate became NaN or infinite")
    assert "NonFiniteLossWarning" not in err
