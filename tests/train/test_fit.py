"""fit / evaluate / predict on small synthetic data; closure optimizers; verbosity."""

from __future__ import annotations

import io

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import evaluate, fit, predict
from chainrule.train.metrics import accuracy
from chainrule.utils.data import DataLoader, TensorDataset


def _line_data(n=64):
    g = np.random.default_rng(0)
    X = g.normal(size=(n, 3)).astype(np.float32)
    w = np.array([[1.5], [-2.0], [0.5]], np.float32)
    return cr.tensor(X), cr.tensor(X @ w + 0.3)


def test_fit_regression_reduces_loss_and_records_history():
    X, y = _line_data()
    model = nn.Linear(3, 1)
    h = fit(model, (X, y), loss=nn.MSELoss(), optimizer="adam", lr=0.1, epochs=30,
            batch_size=16, val=(X, y), metrics=["mse", "r2"], verbose=0, seed=0)
    assert h.epoch == list(range(30))
    assert set(h.history) >= {"loss", "mse", "r2", "val_loss", "val_mse", "val_r2", "lr",
                              "time"}
    assert h.history["loss"][-1] < 0.05 * h.history["loss"][0]
    # val_loss is the mean squared error of the final model, computed here in NumPy
    err = float(np.mean((model(X).detach().numpy() - y.numpy()) ** 2))
    assert h.history["val_loss"][-1] == pytest.approx(err, rel=1e-5)
    assert h.history["lr"] == [0.1] * 30


def test_fit_accepts_dataset_and_loader_and_evaluate_predict():
    X, y = cr.data.blobs(120, centers=3, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True)
    fit(model, loader, loss=nn.CrossEntropyLoss(), optimizer="adam", lr=0.05, epochs=15,
        verbose=0)
    fit(model, TensorDataset(X, y), loss=nn.CrossEntropyLoss(), optimizer="adam", lr=0.05,
        epochs=2, verbose=0)
    out = predict(model, X, batch_size=7)
    assert out.shape == (120, 3)
    np.testing.assert_allclose(out.numpy(), model(X).detach().numpy(), rtol=1e-5, atol=1e-6)
    res = evaluate(model, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert res["accuracy"] == pytest.approx(accuracy(y.numpy(), out.numpy().argmax(1)))
    assert res["accuracy"] > 0.9
    assert model.training  # predict/evaluate restore the mode


def test_eval_mode_and_no_grad_during_validation():
    X, y = _line_data(32)
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            out = self.lin(x)
            seen.append((self.training, out.requires_grad))
            return out

    fit(Probe(), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=1, batch_size=32,
        val=(X, y), verbose=0)
    assert seen == [(True, True), (False, False)]


@pytest.mark.parametrize("name", ["lbfgs", "newton", "bfgs"])
def test_closure_optimizers(name):
    X, y = _line_data(40)
    model = nn.Linear(3, 1)
    h = fit(model, (X, y), loss=nn.MSELoss(), optimizer=name, epochs=10, batch_size=None,
            verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert evaluate(model, (X, y), loss=nn.MSELoss())["loss"] < 1e-4


def test_binary_logits_metrics_and_roc_auc():
    X, y = cr.data.moons(200, noise=0.1, seed=0)
    yb = y.float().unsqueeze(1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    h = fit(model, (X, yb), loss=nn.BCEWithLogitsLoss(), optimizer="adam", lr=0.05,
            epochs=20, verbose=0, metrics=["accuracy", "roc_auc", "f1"], seed=0)
    z = model(X).detach().numpy()[:, 0]
    res = evaluate(model, (X, yb), loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    assert res["accuracy"] == pytest.approx(np.mean((z > 0) == (y.numpy() == 1)))
    assert h.history["roc_auc"][-1] > 0.9


def test_progress_lines_and_silence(capsys):
    X, y = _line_data(32)
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=3, verbose=0)
    assert capsys.readouterr().out == ""
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=3, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()  # not a TTY: one line per epoch
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3") and "loss:" in lines[0]


def test_long_runs_keep_about_twenty_epoch_lines(capsys):
    from chainrule.train import ProgressBar

    X, y = _line_data(16)
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=45, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [int(ln.split()[1].split("/")[0]) for ln in lines]
    assert epochs == [1] + list(range(3, 46, 3))  # the first, every 3rd, the last
    buf = io.StringIO()
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=45, verbose=0,
        callbacks=[ProgressBar(stream=buf, bars=False, keep=None)])
    assert len(buf.getvalue().strip().splitlines()) == 45


def test_progress_bar_draws_tqdm_bars():
    from chainrule.train import ProgressBar

    X, y = _line_data(32)
    buf = io.StringIO()
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=2, batch_size=8,
        verbose=0, callbacks=[ProgressBar(stream=buf, bars=True)])
    text = buf.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text and "4/4" in text and "loss=" in text


def test_bad_arguments():
    X, y = _line_data(8)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="adamm", epochs=1)
    with pytest.raises(ValueError, match="different numbers of samples"):
        fit(nn.Linear(3, 1), (X, y[:4]), loss=nn.MSELoss(), optimizer="sgd", epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=-1)
