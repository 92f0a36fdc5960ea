"""Numbers shown to users: a diverging run is called divergence (never "ok: the loss fell"),
huge values print in scientific notation, a count target's loss is the Poisson deviance
(never negative), a large-valued regression target trains on its standardised scale, and
the report says which task was inferred and why."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.diagnostics import check_loss_curve
from chainrule.train.report import fmt_number, metrics_table
from chainrule.train.tasks import PoissonDevianceLoss, row_losses


def _csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows])
                    + "\n")
    return str(path)


def test_fmt_number_and_table():
    assert fmt_number(1.2e31) == "1.2000e+31" and fmt_number(0.5) == "0.5000"
    assert fmt_number(3e-7) == "3.0000e-07" and fmt_number(0) == "0.0000"
    assert fmt_number(float("nan")) == "nan" and fmt_number(float("inf")) == "inf"
    table = metrics_table({"train": {"loss": 1.8e30, "accuracy": 0.5}})
    assert "1.8000e+30" in table and max(len(w) for w in table.split()) <= 12


def test_divergence_against_the_initial_loss():
    class H:  # a first epoch that already blew up, then "improved"
        history = {"loss": [1.2e31, 5e30, 2e30, 1e30]}
        initial_loss = 0.69

    (f,) = check_loss_curve(H())
    assert f.kind == "divergence" and "1.2e+31" in f.message
    (f,) = check_loss_curve([10.0, 0.01, 0.005, 2.0])  # below its start, 400x its low
    assert f.kind == "divergence" and "orders of magnitude" in f.message
    (f,) = check_loss_curve([0.5, 0.6, 0.7])
    assert f.kind != "ok"


def test_huge_learning_rate_is_reported_as_divergence(tmp_path, capsys):
    g = np.random.default_rng(0)
    X = g.normal(size=(100, 3))
    rows = [[f"{a:.3f}", f"{b:.3f}", f"{c:.3f}", int(a > 0)] for a, b, c in X]
    path = _csv(tmp_path / "d.csv", ["a", "b", "c", "y"], rows)
    code = main(["train", path, "--target", "y", "--lr", "1e10", "--hidden", "32",
                 "--dropout", "0", "--weight-decay", "0", "--epochs", "5", "--out",
                 str(tmp_path / "r")])
    out = capsys.readouterr()
    assert code in (0, 1)
    report = (tmp_path / "r" / "report.md").read_text()
    assert "divergence" in report and "ok: the loss fell" not in report
    assert "warning: divergence" in out.out
    assert all(len(w) <= 12 for w in out.out.split() if w[:1].isdigit())


def test_poisson_deviance_is_the_loss_and_never_negative(tmp_path, capsys):
    z = cr.tensor([[0.1], [1.0], [2.0]])
    y = cr.tensor([[0.0], [3.0], [7.0]])
    d = PoissonDevianceLoss()(z, y).item()
    nll = cr.nn.PoissonNLLLoss(log_input=True)(z, y).item()
    assert d >= 0 and nll < 0
    rows = np.array([[0.0], [3.0], [7.0]])
    assert d == pytest.approx(row_losses("count", z.numpy(), rows).mean(), rel=1e-6)
    g = np.random.default_rng(1)
    X = g.normal(size=(200, 2))
    counts = g.poisson(np.exp(1.0 + 0.7 * X[:, 0]))
    path = _csv(tmp_path / "c.csv", ["a", "b", "n"],
                [[f"{a:.3f}", f"{b:.3f}", int(c)] for (a, b), c in zip(X, counts)])
    assert main(["train", path, "--target", "n", "--task", "count", "--hidden", "8",
                 "--dropout", "0", "--weight-decay", "0", "--lr", "0.01", "--epochs", "20",
                 "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    hist = (tmp_path / "r" / "history.csv").read_text().splitlines()
    cols = hist[0].split(",")
    losses = [float(r.split(",")[cols.index("loss")]) for r in hist[1:]]
    assert min(losses) >= 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert all(m["loss"] >= 0 for m in metrics.values())
    assert "Poisson deviances" in (tmp_path / "r" / "report.md").read_text()


def test_large_regression_target_trains_on_its_standard_scale(tmp_path, capsys):
    g = np.random.default_rng(2)
    X = g.normal(size=(300, 3))
    price = 40_000 + 9_000 * X[:, 0] - 4_000 * X[:, 1] + 500 * g.normal(size=300)
    path = _csv(tmp_path / "p.csv", ["a", "b", "c", "price"],
                [[f"{a:.3f}", f"{b:.3f}", f"{c:.3f}", f"{p:.2f}"]
                 for (a, b, c), p in zip(X, price)])
    assert main(["train", path, "--target", "price", "--out", str(tmp_path / "r"),
                 "--hidden", "0", "--epochs", "40", "--quiet"]) == 0
    capsys.readouterr()
    hist = (tmp_path / "r" / "search" / "c0.history.csv").read_text().splitlines()
    cols = hist[0].split(",")
    assert float(hist[1].split(",")[cols.index("val_loss")]) < 10  # not 1e9 or 1e34
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["test"]["r2"] > 0.95  # in the target's units, after folding the scale
    report = (tmp_path / "r" / "report.md").read_text()
    assert "Task: " in report and "regression" in report
