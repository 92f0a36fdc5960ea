"""``chainrule demo``: an MLP learns the built-in spirals in seconds; writes the pictures."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .. import nn
from ..data import spirals
from ..optim import Adam
from ..optim.lr_scheduler import CosineAnnealingLR
from ..random import manual_seed
from ..serialization import save
from ._files import write_file
from ._finish import plot_history_safe
from ._interrupt import SigintGuard
from ._trainer import PAUSE_ENV, pause_point
from .callbacks import Callback
from .fit import fit
from ._evaluate import evaluate


def demo_model():
    """2 -> 64 -> 64 -> 3 with ReLU hidden units."""
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 3))


def run_demo(out="runs/demo", *, epochs: int = 150, seed: int = 0, verbose: int = 1,
             print_fn=print) -> dict:
    """Train ``demo_model`` on 3-class spirals (600 points) with Adam (lr 0.01, cosine
    annealing to 0 over the epochs; reaches ~98% training accuracy) and write
    ``out/``: model.safetensors, history.csv, metrics.json, loss_curve.png,
    decision_boundary.png. Returns ``{"accuracy", "history", "dir", "files", "notes",
    "interrupted"}``.

    Ctrl-C: before training it raises ``KeyboardInterrupt`` (nothing written); during
    training the first one ends it after the current batch and the model so far is written
    as usual (``interrupted`` True; a second one raises); while the files are written it is
    held until they are complete."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with SigintGuard("raise") as guard:  # Ctrl-C before training: nothing to keep
        X, y = spirals(600, n_classes=3, noise=0.05, seed=seed)
        manual_seed(seed)
        model = demo_model()
        opt = Adam(model.parameters(), lr=0.01)
        print_fn(f"chainrule demo: 3-class spirals ({X.shape[0]} points), MLP 2-64-64-3 "
                 f"(ReLU), Adam lr 0.01 with cosine annealing, {epochs} epochs")
        t0 = time.perf_counter()
        with guard.mode("flag"):  # the first Ctrl-C ends training after the current batch
            history = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer=opt,
                          epochs=epochs, batch_size=32, metrics=["accuracy"], seed=seed,
                          verbose=verbose, callbacks=_pause_callbacks(guard),
                          scheduler=CosineAnnealingLR(opt, T_max=max(epochs, 1)))
        seconds = time.perf_counter() - t0
        with guard.mode("defer"):  # the model trained so far is written whole, whatever comes
            files, notes, res = _write(out, model, history, X, y, seconds)
        interrupted = bool(history.interrupted or guard.flag)
    if not interrupted:  # (the command says what an interrupted demo wrote)
        print_fn(f"training accuracy {res['accuracy']:.4f}, loss {res['loss']:.4f} "
                 f"({seconds:.1f} s)")
        for n in notes:
            print_fn(f"note: {n}")
        print_fn(f"wrote {out}/ ({', '.join(files)})")
    return {"accuracy": res["accuracy"], "history": history, "dir": out, "files": files,
            "notes": notes, "interrupted": interrupted}


def _pause_callbacks(guard) -> list:
    """Testing hook: ``CHAINRULE_PAUSE_AT=demo-batch:E:B`` pauses before batch B of epoch E
    (0-based) until a Ctrl-C arrives."""
    if not os.environ.get(PAUSE_ENV, "").startswith("demo-batch:"):
        return []

    class Pause(Callback):
        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_batch_begin(self, batch, logs=None):
            pause_point(f"demo-batch:{self.epoch}:{batch}", guard)

    return [Pause()]


def _write(out: Path, model, history, X, y, seconds: float):
    """Metrics, weights, history and pictures of the demo model: (files, notes, metrics)."""
    res = evaluate(model, (X, y), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    save(model.state_dict(), out / "model.safetensors")
    history.to_csv(out / "history.csv")
    write_file(out / "metrics.json", json.dumps({"train": res, "seconds": seconds}, indent=2)
               + "\n")
    files = ["model.safetensors", "history.csv", "metrics.json"]
    notes = []
    note = plot_history_safe(history, out / "loss_curve.png")
    if note:  # one note for both pictures: they need the same thing
        notes.append(note)
    else:
        from ..viz import plot_decision_boundary

        files.append("loss_curve.png")
        plot_decision_boundary(model, X, y, os.fspath(out / "decision_boundary.png"))
        files.append("decision_boundary.png")
    return files, notes, res
