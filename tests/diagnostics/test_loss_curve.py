"""check_loss_curve on synthetic histories of each kind."""

import math

import numpy as np
import pytest

from chainrule.diagnostics import check_loss_curve


def kinds(history, **kw):
    return [f.kind for f in check_loss_curve(history, **kw)]


def test_healthy_curve_is_ok():
    loss = list(2.0 * np.exp(-0.2 * np.arange(30)) + 0.01)
    found = check_loss_curve({"loss": loss, "val_loss": [v * 1.1 for v in loss]})
    assert [f.kind for f in found] == ["ok"]


def test_divergence_and_infinite_loss():
    loss = [1.0, 0.9, 1.5, 3.0, 8.0, 30.0]
    (f,) = check_loss_curve(loss)
    assert f.kind == "divergence" and f.epoch == 4  # first epoch above 3x the start
    assert "10x" in f.suggestion
    (f,) = check_loss_curve([1.0, 2.0, math.inf])
    assert f.kind == "divergence" and f.epoch == 2


def test_nan():
    found = check_loss_curve({"loss": [1.0, 0.8, float("nan"), float("nan")]})
    assert found[0].kind == "nan" and found[0].epoch == 2
    assert "learning rate" in found[0].suggestion


def test_oscillation():
    loss = [1.0 + 0.3 * (-1) ** i for i in range(20)]  # up, down, up, down...
    found = check_loss_curve(loss)
    assert [f.kind for f in found] == ["oscillation"]
    assert "learning rate" in found[0].suggestion
    # small wiggles around a decreasing trend are not oscillation
    smooth = [1.0 / (i + 1) + 1e-4 * (-1) ** i for i in range(20)]
    assert kinds(smooth) == ["ok"]


def test_plateau():
    loss = [2.30] + [2.29 + 1e-6 * i % 3e-6 for i in range(25)]
    found = check_loss_curve(loss, patience=10)
    assert [f.kind for f in found] == ["plateau"]
    assert "Adam" in found[0].suggestion and "scaling" in found[0].suggestion
    # flat near zero after real progress is convergence, not a plateau
    converged = list(np.exp(-np.arange(15))) + [np.exp(-15)] * 15
    assert kinds(converged) == ["ok"]


def test_overfitting():
    loss = list(1.0 / (1 + np.arange(40)))
    val = [1.0 / (1 + i) if i < 10 else 0.1 + 0.01 * (i - 10) for i in range(40)]
    assert kinds({"loss": loss, "val_loss": val}) == ["overfitting"]


def test_history_object_and_errors():
    class H:
        history = {"loss": [1.0, 0.5]}

    assert kinds(H()) == ["ok"]
    with pytest.raises(KeyError, match="loss"):
        check_loss_curve({"acc": [1.0]})
    with pytest.raises(ValueError, match="patience"):
        check_loss_curve([1.0], patience=1)
