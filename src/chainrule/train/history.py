"""``History``: what ``fit`` returns — one list per quantity, one entry per epoch."""

from __future__ import annotations

import csv
import math

from ._files import write_file

__all__ = ["History"]


class History:
    """Per-epoch records of a training run (Keras' ``History``).

    Attributes:
        history: ``{"loss": [...], "val_loss": [...], "accuracy": [...], "lr": [...],
            "time": [...], ...}``, one value per epoch (``nan`` where a quantity was not
            measured that epoch).
        epoch: the epoch numbers (0-based) recorded.
        stopped_early: True when a callback (e.g. ``EarlyStopping``) ended training.
        interrupted: True when Ctrl-C (SIGINT) ended training.
        terminated_on_nan: True when a NaN/infinite training loss ended training (``fit``
            stops there by itself; ``TerminateOnNaN`` sets it too).
        nonfinite: where and why, when ``fit`` stopped at a non-finite loss: ``{"epoch",
            "batch", "loss", "cause": "data" | "divergence", "update_skipped"}``, else None.
        checkpoint: the path of the checkpoint written on interruption, if any.
        initial_loss: the loss of the first batch, computed before the first update (the
            loss at initialisation; ``check_loss_curve`` compares the curve with it).

    Example::

        h = fit(model, (X, y), loss=nn.MSELoss(), optimizer="adam", epochs=5, verbose=0)
        h.history["loss"][-1], h.best("val_loss")
        h.to_csv("history.csv")
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_early = False
        self.interrupted = False
        self.terminated_on_nan = False
        self.nonfinite: dict | None = None
        self.checkpoint: str | None = None
        self.initial_loss: float | None = None

    def append(self, epoch: int, logs: dict) -> None:
        """Record ``logs`` (name -> number) for ``epoch``; keys seen before but absent now get
        ``nan``, new keys are back-filled with ``nan``."""
        n = len(self.epoch)
        for key in logs:
            if key not in self.history:
                self.history[key] = [math.nan] * n
        for key, values in self.history.items():
            values.append(float(logs.get(key, math.nan)))
        self.epoch.append(int(epoch))

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def last(self) -> dict:
        """The last epoch's values."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def best(self, key: str = "val_loss", mode: str = "min") -> float:
        """The best value of ``key`` over the epochs (``mode`` ``"min"`` or ``"max"``)."""
        values = [v for v in self.history[key] if not math.isnan(v)]
        return (min if mode == "min" else max)(values)

    def to_csv(self, path) -> None:
        """Write ``epoch,<keys...>`` one row per epoch (atomically)."""
        keys = list(self.history)
        lines = [",".join(["epoch"] + keys)]
        for i, e in enumerate(self.epoch):
            lines.append(",".join([str(e)] + [repr(self.history[k][i]) for k in keys]))
        write_file(path, "\n".join(lines) + "\n")

    @classmethod
    def from_csv(cls, path) -> History:
        h = cls()
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                e = int(row.pop("epoch"))
                h.append(e, {k: float(v) for k, v in row.items()})
        return h

    def state_dict(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch), "initial_loss": self.initial_loss}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]
        initial = state.get("initial_loss")
        self.initial_loss = None if initial is None else float(initial)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if k != "time")
        return f"History(epochs={len(self)}{', ' + last if last else ''})"
