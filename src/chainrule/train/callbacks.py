"""Callbacks: small objects whose hooks ``fit`` calls around epochs and batches.

Hooks (all optional; ``logs`` is a dict of numbers)::

    on_train_begin(logs)                 on_train_end(logs)
    on_epoch_begin(epoch, logs)          on_epoch_end(epoch, logs)   # logs: loss, val_*, lr
    on_batch_begin(batch, logs)          on_batch_end(batch, logs)   # logs: loss, size

Before training, ``fit`` sets ``callback.run``: the running fit, with ``model``,
``optimizer``, ``history``, ``epochs``, ``steps`` (batches per epoch), ``stop_training``
(set it to True to end training after the current batch) and ``checkpoint_state()`` (the
full resumable state). Callbacks run in the order of their ``order`` attribute (schedulers
0, default 50, checkpoints 80, progress 90), so a checkpoint holds the scheduler's and early
stopping's state of the same epoch.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time

import numpy as np

from ..serialization import save
from ..tensor import Tensor

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LRScheduler", "ModelCheckpoint",
           "ProgressBar", "TerminateOnNaN"]


class Callback:
    """Base class: override the hooks you need. ``state_dict``/``load_state_dict`` make a
    callback's state part of checkpoints (so resumed runs behave as uninterrupted ones)."""

    order = 50
    run = None

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def _mode(mode: str, monitor: str, name: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{name}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    maxed = ("acc", "accuracy", "auc", "roc_auc", "f1", "precision", "recall", "r2")
    base = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if base in maxed or base.startswith(("f1", "precision", "recall")) else "min"


def _monitored(logs, monitor: str, name: str) -> float:
    if monitor not in logs:
        raise KeyError(f"{name}: monitor={monitor!r} is not among the epoch logs "
                       f"{sorted(logs)}; pass val= to fit for val_* quantities")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best_weights`` the model gets its best epoch's weights back when
    training ends, whatever ends it (early stop, last epoch, NaN, Ctrl-C).

    Args:
        monitor: logged quantity (``"val_loss"``, ``"val_accuracy"``, ``"loss"``, ...).
        patience: epochs without improvement before stopping.
        min_delta: smallest change that counts as an improvement.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        restore_best_weights: load the best epoch's weights at the end (default False).

    Example::

        fit(..., val=(Xv, yv), callbacks=[EarlyStopping(patience=10,
                                                         restore_best_weights=True)])
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = _mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: np.array(v._data, copy=True)
                                     for k, v in self.run.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True
            self.run.history.stopped_early = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.run.model.load_state_dict({k: Tensor._make(v.copy(), False, None, 0)
                                            for k, v in self.best_weights.items()})

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        w = state["best_weights"]
        self.best_weights = None if w is None else {
            k: (v._data if isinstance(v, Tensor) else np.asarray(v)) for k, v in w.items()}


class ModelCheckpoint(Callback):
    """Save the training state at the end of epochs (atomically, with ``chainrule.save``:
    safetensors + JSON, no pickle).

    The file holds the model's and optimizer's state dicts, the epoch, the random generators'
    states, the scheduler's and callbacks' states and the history, so
    ``fit(..., resume_from=path)`` continues exactly where it stopped
    (``save_weights_only=True``: just the model's state dict).

    Args:
        path: file path; may contain ``{epoch}`` and log keys, e.g. ``"ckpt-{epoch:03d}.st"``.
        monitor: quantity compared for ``save_best_only``.
        save_best_only: only save when ``monitor`` improves.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_weights_only: save ``model.state_dict()`` only.

    Example::

        fit(..., callbacks=[ModelCheckpoint("best.safetensors", save_best_only=True)])
    """

    order = 80

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = False):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _mode(mode, monitor, "ModelCheckpoint")
        self.save_weights_only = save_weights_only
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **(logs or {}))
        obj = self.run.model.state_dict() if self.save_weights_only \
            else self.run.checkpoint_state()
        save(obj, path)
        self.saved.append(path)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


class LRScheduler(Callback):
    """Step a learning-rate scheduler once per epoch (``ReduceLROnPlateau`` gets the
    ``monitor`` value, or the training ``loss`` when there is no validation data).
    ``fit(scheduler=s)`` adds one of these.

    Example::

        sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        fit(..., callbacks=[LRScheduler(sched)])
    """

    order = 0

    def __init__(self, scheduler, monitor: str = "val_loss"):
        self.scheduler = scheduler
        self.monitor = monitor

    def on_epoch_end(self, epoch, logs=None):
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            monitor = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(_monitored(logs, monitor, "LRScheduler"))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        s = self.scheduler
        if hasattr(s, "state_dict"):
            return {"scheduler": s.state_dict()}
        return {"scheduler": {k: v for k, v in vars(s).items() if k != "optimizer"}}

    def load_state_dict(self, state: dict) -> None:
        s = self.scheduler
        if hasattr(s, "load_state_dict"):
            s.load_state_dict(state["scheduler"])
        else:
            vars(s).update(state["scheduler"])


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` and the logs) to a CSV file, flushed each epoch.

    Example::

        fit(..., callbacks=[CSVLogger("log.csv")])
    """

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self.keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.path) and os.path.getsize(self.path)
        self._fh = open(self.path, "a" if self.append else "w", encoding="utf-8")
        if exists:
            with open(self.path, encoding="utf-8") as f:
                self.keys = f.readline().strip().split(self.separator)[1:]

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None:
            self.keys = list(logs)
            self._fh.write(self.separator.join(["epoch"] + self.keys) + "\n")
        row = [str(epoch)] + [repr(float(logs.get(k, math.nan))) for k in self.keys]
        self._fh.write(self.separator.join(row) + "\n")
        self._fh.flush()

    def on_train_end(self, logs=None):
        self._fh.close()


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    order = 10

    def on_batch_end(self, batch, logs=None):
        loss = float(logs.get("loss", 0.0))
        if not math.isfinite(loss):
            print(f"chainrule.train: batch {batch}: loss is {loss}; terminating training "
                  "(try a smaller learning rate)", file=sys.stderr)
            self.run.stop_training = True
            self.run.history.terminated_on_nan = True


def _fmt(logs: dict) -> dict:
    return {k: f"{v:.4g}" for k, v in logs.items() if k not in ("time", "size")}


class ProgressBar(Callback):
    """Progress of ``fit``: a tqdm bar per epoch (loss and metrics in the postfix, ETA) when
    ``stream`` is a terminal, otherwise one plain line per epoch. ``fit(verbose=1)`` adds it.

    A long run keeps about ``keep`` epochs on screen: the first, the last and every
    ``ceil(epochs / keep)``-th (a 150-epoch run leaves 21 lines, not 150); on a terminal
    the other epochs' bars are drawn and then cleared.

    Args:
        stream: where to write (default ``sys.stdout``).
        bars: force bars (True) or lines (False); default: bars on a terminal.
        keep: about how many epoch lines a run leaves (``None``: every epoch).
    """

    order = 90

    def __init__(self, stream=None, bars: bool | None = None, keep: int | None = 20):
        self.stream = stream
        self.bars = bars
        self.keep = keep
        self._bar = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _kept(self, epoch) -> bool:
        total = self.run.epochs
        if not self.keep or total <= self.keep:
            return True
        every = -(-total // self.keep)
        return epoch == 0 or epoch == total - 1 or (epoch + 1) % every == 0

    def on_train_begin(self, logs=None):
        out = self._out()
        if self.bars is None:
            self.bars = bool(getattr(out, "isatty", lambda: False)())

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self.bars:
            from tqdm.auto import tqdm

            width = shutil.get_terminal_size((100, 20)).columns or 100
            self._bar = tqdm(total=self.run.steps, desc=f"Epoch {epoch + 1}/{self.run.epochs}",
                             file=self._out(), leave=self._kept(epoch), ncols=width,
                             unit="batch")

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix({"loss": f"{self.run.running_loss:.4g}"}, refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix(_fmt(logs), refresh=True)
            self._bar.close()
            self._bar = None
            return
        if not self._kept(epoch):
            return
        parts = [f"Epoch {epoch + 1}/{self.run.epochs}",
                 f"{time.perf_counter() - self._t0:.2f}s"]
        parts += [f"{k}: {v}" for k, v in _fmt(logs).items()]
        print(" - ".join(parts), file=self._out(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
