"""plot_history and plot_decision_boundary: files written, curves and regions as asked."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("matplotlib")
from chainrule.viz import plot_decision_boundary, plot_history  # noqa: E402


def _history(n=15):
    loss = list(2.0 * np.exp(-0.4 * np.arange(n)))
    return {"loss": loss, "val_loss": [v * 1.2 for v in loss],
            "accuracy": list(np.linspace(0.4, 0.95, n)),
            "val_accuracy": list(np.linspace(0.35, 0.9, n)), "lr": [0.1] * n}


def test_plot_history_png(tmp_path):
    path = tmp_path / "h.png"
    fig = plot_history(_history(), path)
    assert path.stat().st_size > 5000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_ax, metric_ax = fig.axes[:2]
    lines = {ln.get_label(): ln.get_ydata() for ln in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["training"], _history()["loss"])
    np.testing.assert_allclose(lines["validation"], _history()["val_loss"])
    assert loss_ax.get_yscale() == "log"  # loss spans > 2 decades
    labels = [ln.get_label() for ln in metric_ax.get_lines()]
    assert labels == ["accuracy", "val_accuracy"]  # lr is not a metric


def test_plot_history_object_linear_scale_and_no_metrics(tmp_path):
    class History:
        history = {"loss": [1.0, 0.8, 0.7]}

    fig = plot_history(History(), tmp_path / "h.svg", log_scale="auto")
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "linear"
    assert (tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
    fig = plot_history({"loss": [1.0, 0.5]}, None, log_scale=True)
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(KeyError, match="loss"):
        plot_history({"acc": [1.0]}, None)
    with pytest.raises(TypeError, match="History"):
        plot_history(3, None)


def _xor_model():
    # a hand-set network whose decision regions are known: class 1 iff x1 > 0.5
    model = nn.Sequential(nn.Linear(2, 1))
    with cr.no_grad():
        model[0].weight.copy_(cr.tensor([[10.0, 0.0]]))
        model[0].bias.copy_(cr.tensor([-5.0]))
    return model


def test_decision_boundary_binary(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (40, 2)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(np.int64)
    model = _xor_model().train()
    fig = plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=50)
    assert model.training  # mode restored
    assert (tmp_path / "b.png").stat().st_size > 5000
    ax = fig.axes[0]
    # the 0.5 contour of P(class 1) = sigmoid(10 x1 - 5) is the line x1 = 0.5
    (line,) = [c for c in ax.collections if getattr(c, "filled", True) is False]
    assert list(line.levels) == [0.5]
    xs = np.concatenate([p.vertices[:, 0] for p in line.get_paths()])
    assert xs.size > 10
    np.testing.assert_allclose(xs, 0.5, atol=0.02)


def test_decision_boundary_multiclass_and_estimator(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 2))
    y = np.argmax(X @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]]), axis=1)

    class Linear3:  # predict_proba interface (scikit-learn style)
        def predict_proba(self, Z):
            z = Z @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
            e = np.exp(z - z.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

    fig = plot_decision_boundary(Linear3(), X, y, tmp_path / "m.png", resolution=60)
    img = fig.axes[0].get_images()[0].get_array()
    assert img.shape == (60, 60, 4)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(Linear3(), np.ones((5, 3)), np.zeros(5), None)
    with pytest.raises(ValueError, match="rows"):
        plot_decision_boundary(Linear3(), np.ones((5, 2)), np.zeros(4), None)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"chainrule\[plot\]"):
        plot_history({"loss": [1.0, 0.5]}, None)


def test_plot_history_of_no_epochs(tmp_path):
    """Training interrupted in its first epoch (or epochs=0) leaves an empty history: the
    plot says so instead of raising KeyError."""
    from chainrule.train import History

    fig = plot_history(History(), tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 1000
    assert "no epochs recorded yet" in [t.get_text() for t in fig.axes[0].texts]
    with pytest.raises(KeyError, match="no 'loss'"):
        plot_history({"acc": [0.5]})
