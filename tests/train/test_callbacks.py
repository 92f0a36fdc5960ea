"""Each callback: EarlyStopping (restore_best_weights), ModelCheckpoint (best only, atomic),
LRScheduler (incl. ReduceLROnPlateau), CSVLogger, TerminateOnNaN, user callbacks."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.optim.lr_scheduler import ExponentialLR, ReduceLROnPlateau
from chainrule.train import (CSVLogger, Callback, EarlyStopping, LRScheduler, ModelCheckpoint,
                             TerminateOnNaN, fit)


def _data(n=32):
    g = np.random.default_rng(0)
    X = g.normal(size=(n, 2)).astype(np.float32)
    return cr.tensor(X), cr.tensor(X @ np.array([[2.0], [-1.0]], np.float32))


class ScriptedVal(Callback):
    """Overwrites val_loss with a scripted sequence and records weights per epoch."""

    order = -1  # before LRScheduler (0), EarlyStopping (50), ModelCheckpoint (80) read it

    def __init__(self, values):
        self.values, self.weights = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append(self.run.model.weight.detach().numpy().copy())


def test_early_stopping_stops_and_restores_best():
    X, y = _data()
    model = nn.Linear(2, 1)
    script = ScriptedVal([5.0, 3.0, 1.0, 2.0, 4.0, 0.5, 0.1, 0.1])
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = fit(model, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.05, epochs=8,
            callbacks=[script, es], verbose=0)
    assert h.epoch == [0, 1, 2, 3, 4] and h.stopped_early and es.stopped_epoch == 4
    assert es.best_epoch == 2
    assert np.array_equal(model.weight.detach().numpy(), script.weights[2])


def test_early_stopping_restores_even_when_epochs_run_out():
    X, y = _data()
    model = nn.Linear(2, 1)
    script = ScriptedVal([3.0, 1.0, 2.0, 2.5])
    fit(model, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.05, epochs=4, verbose=0,
        callbacks=[script, EarlyStopping(patience=10, restore_best_weights=True)])
    assert np.array_equal(model.weight.detach().numpy(), script.weights[1])


def test_early_stopping_min_delta_and_mode():
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.1)
    assert es.mode == "max"
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    X, y = _data()
    with pytest.raises(KeyError, match="val_loss"):
        fit(nn.Linear(2, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=1, verbose=0,
            callbacks=[EarlyStopping()])


def test_model_checkpoint_best_only(tmp_path, monkeypatch):
    X, y = _data()
    model = nn.Linear(2, 1)
    path = tmp_path / "best.safetensors"
    script = ScriptedVal([3.0, 1.0, 2.0, 0.5, 0.7])
    mc = ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    writes = []
    import chainrule.serialization as ser

    real = ser._atomic_write
    monkeypatch.setattr(ser, "_atomic_write", lambda p, d: (writes.append(p), real(p, d)))
    fit(model, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.05, epochs=5, verbose=0,
        callbacks=[script, mc])
    assert len(mc.saved) == 3  # epochs 0, 1, 3 improved
    assert writes == [str(path)] * 3  # every save went through the atomic writer
    saved = cr.load(path)
    assert np.array_equal(saved["weight"].numpy(), script.weights[3])
    assert [p.name for p in tmp_path.iterdir()] == ["best.safetensors"]  # no temp files left


def test_lr_scheduler_steps_per_epoch():
    X, y = _data()
    model = nn.Linear(2, 1)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, (X, y), loss=nn.MSELoss(), optimizer=opt, epochs=4, batch_size=8,
            verbose=0, callbacks=[LRScheduler(ExponentialLR(opt, gamma=0.5))])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.00625)


def test_reduce_on_plateau_gets_the_monitored_value():
    X, y = _data()
    model = nn.Linear(2, 1)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    script = ScriptedVal([1.0, 2.0, 2.0, 2.0, 2.0])
    fit(model, (X, y), loss=nn.MSELoss(), optimizer=opt, epochs=5, verbose=0,
        callbacks=[script, LRScheduler(ReduceLROnPlateau(opt, patience=1, factor=0.5))])
    # ReduceLROnPlateau rule: epochs 1, 2 bad -> reduce after epoch 2; 3, 4 bad -> again
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)


def test_csv_logger(tmp_path):
    X, y = _data()
    path = tmp_path / "log.csv"
    h = fit(nn.Linear(2, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=3,
            val=(X, y), verbose=0, callbacks=[CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["val_loss"]) for r in rows] == h.history["val_loss"]
    h.to_csv(tmp_path / "h.csv")
    assert type(h).from_csv(tmp_path / "h.csv").history["loss"] == h.history["loss"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan(capsys):
    X, y = _data()
    y = y * 1e30
    h = fit(nn.Linear(2, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=10.0, epochs=50,
            batch_size=4, verbose=0, callbacks=[TerminateOnNaN()])
    assert h.terminated_on_nan and len(h.epoch) < 50
    assert not math.isfinite(h.history["loss"][-1])
    assert "terminating" in capsys.readouterr().err


def test_user_callback_hook_order():
    X, y = _data(8)
    calls = []

    class Rec(Callback):
        def on_train_begin(self, logs=None): calls.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): calls.append(f"epoch_begin{epoch}")
        def on_batch_begin(self, batch, logs=None): calls.append(f"b{batch}")
        def on_batch_end(self, batch, logs=None): calls.append(f"e{batch}")
        def on_epoch_end(self, epoch, logs=None): calls.append(f"epoch_end{epoch}")
        def on_train_end(self, logs=None): calls.append("train_end")

    fit(nn.Linear(2, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=2, batch_size=4,
        verbose=0, callbacks=[Rec()])
    assert calls == ["train_begin", "epoch_begin0", "b0", "e0", "b1", "e1", "epoch_end0",
                     "epoch_begin1", "b0", "e0", "b1", "e1", "epoch_end1", "train_end"]
