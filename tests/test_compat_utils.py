"""The small compatibility modules: utils.checkpoint, utils.tensorboard, amp, jit."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_checkpoint_gives_the_same_values_and_gradients():
    from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential

    lin = nn.Linear(3, 3)
    x = cr.randn(4, 3, requires_grad=True)
    y = checkpoint(lambda t: lin(t).tanh(), x, use_reentrant=False)
    y.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    lin(x).tanh().sum().backward()
    np.testing.assert_array_equal(g, x.grad.numpy())
    seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    assert checkpoint_sequential(seq, 2, x).shape == (4, 1)


def test_summary_writer_writes_scalars_as_csv(tmp_path):
    from chainrule.utils.tensorboard import SummaryWriter

    with SummaryWriter(tmp_path / "run") as w:
        for step in range(3):
            w.add_scalar("loss", cr.tensor(1.0 / (step + 1)), step)
        w.add_scalars("acc", {"train": 0.5, "val": 0.25}, 2)
        with pytest.warns(UserWarning, match="add_histogram"):
            w.add_histogram("w", cr.randn(3), 0)
    rows = list(csv.reader(open(tmp_path / "run" / "scalars.csv")))
    assert rows[0] == ["tag", "step", "value", "wall_time"]
    assert [(r[0], r[1], float(r[2])) for r in rows[1:]] == [
        ("loss", "0", 1.0), ("loss", "1", 0.5), ("loss", "2", float(np.float32(1 / 3))),
        ("acc/train", "2", 0.5), ("acc/val", "2", 0.25)]


def test_amp_runs_training_scripts_in_float32():
    from chainrule.cuda.amp import GradScaler, autocast

    model = nn.Linear(2, 1)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(enabled=True)
    with autocast():
        loss = model(cr.ones(4, 2)).pow(2).mean()
    assert loss.dtype == cr.float32
    before = model.weight.detach().clone()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert not cr.equal(before, model.weight.detach()) and scaler.get_scale() == 1.0
    with pytest.warns(UserWarning, match="float32"):
        cr.autocast._warned = False
        with cr.autocast("cpu", dtype=cr.float16):
            pass


def test_jit_script_and_trace_return_eager_objects():
    m = nn.Linear(2, 2)
    assert cr.jit.script(m) is m and cr.jit.trace(m, cr.ones(1, 2)) is m
    assert not cr.jit.is_scripting()
    with pytest.raises(NotImplementedError, match="pickled code"):
        cr.jit.save(m, "m.pt")
