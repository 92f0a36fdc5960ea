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
from .fit import evaluate, fit
from ._finish import plot_history_safe


def demo_model():
    """2 -> 64 -> 64 -> 3 with ReLU hidden units."""
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 3))


def run_demo(out="runs/demo", *, epochs: int = 150, seed: int = 0, verbose: int = 1,
             print_fn=print) -> dict:
    """Train ``demo_model`` on 3-class spirals (600 points) with Adam (lr 0.01, cosine
    annealing to 0 over the epochs; reaches ~98% training accuracy) and write
    ``out/``: model.safetensors, history.csv, metrics.json, loss_curve.png,
    decision_boundary.png. Returns ``{"accuracy", "history", "dir", "files"}``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = spirals(600, n_classes=3, noise=0.05, seed=seed)
    manual_seed(seed)
    model = demo_model()
    opt = Adam(model.parameters(), lr=0.01)
    print_fn(f"chainrule demo: 3-class spirals ({X.shape[0]} points), MLP 2-64-64-3 (ReLU), "
             f"Adam lr 0.01 with cosine annealing, {epochs} epochs")
    t0 = time.perf_counter()
    history = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=epochs,
                  batch_size=32, metrics=["accuracy"], seed=seed, verbose=verbose,
                  scheduler=CosineAnnealingLR(opt, T_max=max(epochs, 1)))
    seconds = time.perf_counter() - t0
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
    print_fn(f"training accuracy {res['accuracy']:.4f}, loss {res['loss']:.4f} "
             f"({seconds:.1f} s)")
    for n in notes:
        print_fn(f"note: {n}")
    print_fn(f"wrote {out}/ ({', '.join(files)})")
    return {"accuracy": res["accuracy"], "history": history, "dir": out, "files": files,
            "notes": notes}
