"""Resuming from a checkpoint reaches bit-for-bit the uninterrupted run's weights; Ctrl-C
(SIGINT) mid-fit returns the partial history and writes a loadable checkpoint."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.optim.lr_scheduler import StepLR
from chainrule.train import Callback, EarlyStopping, ModelCheckpoint, fit

EPOCHS = 5


def _data():
    return cr.data.spirals(96, n_classes=3, noise=0.1, seed=1)


def _setup(init_seed=0):
    cr.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = cr.optim.Adam(model.parameters(), lr=0.02)
    return model, opt, StepLR(opt, step_size=2, gamma=0.5)


def _run(epochs, init_seed=0, **kw):
    model, opt, sched = _setup(init_seed)
    X, y = _data()
    h = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=epochs,
            batch_size=10, val=(X, y), metrics=["accuracy"], seed=0, verbose=0,
            scheduler=sched, callbacks=[EarlyStopping(patience=100)] + kw.pop("cbs", []),
            **kw)
    return model, h


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same(a, b):
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_resume_from_epoch_checkpoint_is_bit_for_bit(tmp_path):
    full_model, full_h = _run(EPOCHS)
    ckpt = tmp_path / "ckpt.safetensors"
    _run(2, checkpoint=ckpt)
    # a different initialisation: everything must come from the checkpoint
    resumed, h = _run(EPOCHS, init_seed=123, resume_from=ckpt)
    _assert_same(_weights(full_model), _weights(resumed))
    assert h.epoch == full_h.epoch
    assert h.history["loss"] == full_h.history["loss"]
    assert h.history["lr"] == full_h.history["lr"] == [0.02, 0.02, 0.01, 0.01, 0.005]


class KillAt(Callback):
    def __init__(self, epoch, batch):
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_sigint_mid_epoch_checkpoint_and_resume(tmp_path):
    ckpt = tmp_path / "interrupted.safetensors"
    before = signal.getsignal(signal.SIGINT)
    model, h = _run(EPOCHS, checkpoint=ckpt, cbs=[KillAt(2, 3)])
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    assert h.interrupted and h.checkpoint == str(ckpt)
    assert h.epoch == [0, 1]  # epoch 2 was cut short after 4 batches
    state = cr.load(ckpt)
    assert (state["epoch"], state["batch"]) == (2, 4)
    _assert_same(_weights(model), {k: v.numpy() for k, v in state["model"].items()})
    full_model, full_h = _run(EPOCHS)
    resumed, h2 = _run(EPOCHS, init_seed=7, resume_from=ckpt)
    _assert_same(_weights(full_model), _weights(resumed))
    assert h2.history["loss"] == pytest.approx(full_h.history["loss"], rel=1e-12)
    assert h2.history["accuracy"] == full_h.history["accuracy"]


def test_sigint_without_checkpoint_returns_history(capsys):
    model, h = _run(EPOCHS, cbs=[KillAt(1, 0)])
    assert h.interrupted and h.checkpoint is None and h.epoch == [0]


def test_model_checkpoint_file_resumes(tmp_path):
    path = str(tmp_path / "e{epoch}.safetensors")
    mc = ModelCheckpoint(path, save_best_only=False)
    _run(3, cbs=[mc])
    assert [os.path.basename(p) for p in mc.saved] == ["e1.safetensors", "e2.safetensors",
                                                       "e3.safetensors"]
    full_model, _ = _run(EPOCHS)
    resumed, _ = _run(EPOCHS, init_seed=5, resume_from=mc.saved[1])
    _assert_same(_weights(full_model), _weights(resumed))


def test_resume_rejects_non_checkpoints(tmp_path):
    p = tmp_path / "w.safetensors"
    cr.save(nn.Linear(2, 3).state_dict(), p)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        _run(2, resume_from=p)
