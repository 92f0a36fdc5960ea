"""The model search of ``chainrule train`` and the files it keeps up to date (see
:mod:`chainrule.train.run`)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from ..serialization import save
from ._interrupt import SigintGuard
from ._setup import make_optimizer
from .callbacks import Callback, EarlyStopping
from .fit import fit
from ._evaluate import predict
from .history import History
from ._memory import check_fits
from ._resume_check import read_history
from .rundir import build_mlp, write_file
from .select import Candidate, candidates, choose, mean_and_se, plan
from .tasks import Head, row_losses

ADAM_LIKE = ("adam", "adamw")
DECAYING = ("adam", "adamw", "sgd", "rmsprop")
#: environment variable naming a moment at which ``train`` pauses until SIGINT (for tests)
PAUSE_ENV = "CHAINRULE_PAUSE_AT"


def metric_names(task: str) -> list[str]:
    if task == "binary":
        return ["accuracy", "precision", "recall", "f1", "roc_auc"]
    if task == "multiclass":
        return ["accuracy", "f1_macro"]
    return ["mse", "mae", "r2"]


def pause_point(name: str, guard: SigintGuard | None = None) -> None:
    """Testing hook: when ``$CHAINRULE_PAUSE_AT`` equals ``name``, say so on stderr and wait
    (at most 60 s) for a SIGINT, so a test can interrupt at a known moment."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    print(f"chainrule-test: paused at {name}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and not (guard is not None and guard.flag):
        time.sleep(0.005)


class _PauseAt(Callback):
    """Calls :func:`pause_point` with ``batch:K:E:B`` (candidate, epoch, batch; 0-based)."""

    def __init__(self, k: int, guard):
        self.k, self.guard, self.epoch = k, guard, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_begin(self, batch, logs=None):
        pause_point(f"batch:{self.k}:{self.epoch}:{batch}", self.guard)


class _EpochBar(Callback):
    """One progress bar per candidate, over its epochs, with the validation loss (terminal
    only: a bar per epoch for several candidates would flood the screen)."""

    order = 90

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.run.epochs, initial=len(self.run.history),
                        desc=f"candidate {self.label}", unit="epoch", leave=False)

    def on_epoch_end(self, epoch, logs=None):
        post = {k: f"{logs[k]:.4g}" for k in ("loss", "val_loss") if k in logs}
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()


def _fold_target_scale(state: dict, mean: float, std: float) -> dict:
    """``z * std + mean`` folded into the last Linear layer of an MLP state_dict."""
    keys = [k for k in state if k.endswith(".weight")]
    last = max(keys, key=lambda k: int(k.split(".")[0]))
    prefix = last[: -len("weight")]
    out = dict(state)
    from ..tensor import Tensor

    w, b = state[prefix + "weight"], state[prefix + "bias"]
    out[prefix + "weight"] = Tensor._make((w._data * np.float32(std)).astype(np.float32),
                                          False, None, 0)
    out[prefix + "bias"] = Tensor._make((b._data * np.float32(std) + np.float32(mean))
                                        .astype(np.float32), False, None, 0)
    return out


class _Trainer:
    """The state of one ``chainrule train`` run: data, candidates, results, files."""

    def __init__(self, ds, head: Head, out: Path, config: dict, o: dict, guard, verbose,
                 print_fn):
        self.ds, self.head, self.out, self.config, self.o = ds, head, out, config, o
        self.guard, self.verbose, self.print = guard, verbose, print_fn
        self.search_dir = out / "search"
        n_train = ds.X_train.shape[0]
        self.plan = plan(n_train, epochs=o["epochs"], batch_size=o["batch_size"],
                         patience=o["patience"])
        self.has_val = ds.X_val.shape[0] > 0
        fixed = {k: o[k] for k in ("hidden", "dropout", "weight_decay", "lr")}
        if o["optimizer"] not in ADAM_LIKE:  # the grid's rates are Adam's
            from ._setup import DEFAULT_LR

            fixed["lr"] = fixed["lr"] or DEFAULT_LR[o["optimizer"]]
            if o["optimizer"] not in DECAYING:
                fixed["weight_decay"] = 0.0
        if not self.has_val:  # nothing to choose with: the user's values or the MLP default
            cands = [c for c in candidates(n_train, fixed) if c.hidden] or \
                candidates(n_train, fixed)
            self.cands = cands[-1:] if o["hidden"] is None else cands[:1]
        else:
            self.cands = candidates(n_train, fixed)
        for c in self.cands:  # before anything is built: a model too big is refused, not killed
            check_fits(c.label, ds.n_features, c.hidden, head.units,
                       min(self.plan["batch_size"], n_train))
        y = ds.y_train._data.astype(np.float64).reshape(-1)
        self.scale = (float(y.mean()), float(y.std()) or 1.0) if head.task == "regression" \
            else (0.0, 1.0)
        self.results: list[dict] = []
        self.histories: list[History] = []
        self.chosen: int | None = None
        self.reason = ""
        self.partial = None  # (k, state_dict, history) of an interrupted candidate

    def lr(self, c: Candidate) -> float:
        """The candidate's learning rate: the grid's Adam rates are scaled by
        ``sqrt(batch / 32)``; a rate the user gave (``--lr``) is used as given."""
        if self.o["optimizer"] in ADAM_LIKE and self.o["lr"] is None:
            return c.lr * self.plan["lr_scale"]
        return c.lr

    # -- data in the form the losses take ------------------------------------------------
    def _target(self, y):
        y = self.head.target(y)
        if self.head.task == "regression":
            m, s = self.scale
            y = self.head.target((y._data - m) / s)
        return y

    def split(self, name):
        return getattr(self.ds, f"X_{name}"), self._target(getattr(self.ds, f"y_{name}"))

    def build(self, c: Candidate):
        import chainrule as cr

        cr.manual_seed(self.o["seed"])
        model = build_mlp(self.ds.n_features, c.hidden, self.o["activation"], c.dropout,
                          self.head)
        model[len(model) - 1].bias._data[...] = self.head.null_bias(self.ds.y_train)
        return model

    def raw_state(self, model) -> dict:
        state = model.state_dict()
        if self.head.task == "regression":
            state = _fold_target_scale(state, *self.scale)
        return state

    # -- files ---------------------------------------------------------------------------
    def write_model(self, c: Candidate, state: dict, status: str) -> None:
        """model.safetensors, then config.json (the pair is written with Ctrl-C deferred)."""
        arch = {"type": "mlp", "n_inputs": self.ds.n_features, "hidden": list(c.hidden),
                "activation": self.o["activation"], "dropout": c.dropout,
                "n_outputs": self.head.units}
        self.config.update(architecture=arch, status=status)
        self.config["training"].update(
            weight_decay=c.weight_decay, lr=self.lr(c),
            batch_size=self.plan["batch_size"], max_epochs=self.plan["epochs"],
            patience=self.plan["patience"] if self.has_val else 0)
        with self.guard.mode("defer"):
            _save(state, self.out / "model.safetensors")
            write_file(self.out / "config.json", json.dumps(self.config, indent=2) + "\n")

    def write_state(self, current: int | None) -> None:
        state = {"candidates": [c.to_dict() for c in self.cands], "results": self.results,
                 "current": current, "plan": self.plan}
        write_file(self.search_dir / "state.json", json.dumps(state, indent=2) + "\n")

    # -- the search ----------------------------------------------------------------------
    def start(self) -> None:
        """Fresh run: clear an old search, write the first candidate's initial model."""
        with self.guard.mode("defer"):
            _clear_old_run(self.out)
            self.search_dir.mkdir(parents=True, exist_ok=True)
            self.write_state(0)
            self.write_model(self.cands[0], self.raw_state(self.build(self.cands[0])),
                             "training")

    def restore(self, state: dict) -> None:
        self.results = state["results"]
        for k in range(len(self.results)):
            self.histories.append(read_history(self.search_dir / f"c{k}.history.csv"))
        if self.results:
            self.chosen, self.reason = self._choose()

    def search(self) -> None:
        for k in range(len(self.results), len(self.cands)):
            if self.guard.flag:
                return
            if not self._train_candidate(k):
                return

    def _train_candidate(self, k: int) -> bool:
        c, p = self.cands[k], self.plan
        ckpt = self.search_dir / f"c{k}.checkpoint.safetensors"
        model = self.build(c)
        opt = make_optimizer(self.o["optimizer"], model.parameters(), self.lr(c),
                             c.weight_decay if self.o["optimizer"] in DECAYING else 0.0)
        cbs = [EarlyStopping("val_loss", patience=p["patience"], restore_best_weights=True)] \
            if self.has_val and p["patience"] else []
        if os.environ.get(PAUSE_ENV):
            cbs.append(_PauseAt(k, self.guard))
        if self.verbose and _isatty():
            cbs.append(_EpochBar(f"{k + 1}/{len(self.cands)}"))
        if self.verbose:
            self.print(f"candidate {k + 1}/{len(self.cands)}: {c.label}")
        t0 = time.perf_counter()
        h = fit(model, self.split("train"), loss=self.head.loss(), optimizer=opt,
                epochs=p["epochs"], batch_size=p["batch_size"],
                val=self.split("val") if self.has_val else None,
                metrics=metric_names(self.head.task)[:1], callbacks=cbs, seed=self.o["seed"],
                verbose=0, checkpoint=ckpt,
                resume_from=ckpt if ckpt.exists() else None)
        if h.interrupted:
            self.partial = (k, self.raw_state(model), h)
            return False
        X, y = self.split("val") if self.has_val else self.split("train")
        val_loss, se = mean_and_se(row_losses(self.head.task, predict(model, X), y))
        self.results.append({"val_loss": val_loss, "val_se": se, "epochs": len(h),
                             "stopped_early": bool(h.stopped_early),
                             "nonfinite": bool(h.nonfinite),
                             "seconds": round(time.perf_counter() - t0, 3)})
        self.histories.append(h)
        if self.verbose:
            self.print(f"  {len(h)} epochs, validation loss {val_loss:.4g} (standard error "
                       f"{se:.2g}), {time.perf_counter() - t0:.1f} s")
            if h.nonfinite:  # fit stopped there, keeping the weights before that batch
                self.print(f"  stopped in epoch {h.nonfinite['epoch'] + 1}: the training loss "
                           f"became {h.nonfinite['loss']} (diverged; see the report)")
        with self.guard.mode("defer"):
            _save(self.raw_state(model), self.search_dir / f"c{k}.safetensors")
            h.to_csv(self.search_dir / f"c{k}.history.csv")
            self.write_state(k + 1 if k + 1 < len(self.cands) else None)
            if ckpt.exists():
                ckpt.unlink()
            self.chosen, self.reason = self._choose()
            self.write_model(self.cands[self.chosen], self._candidate_state(self.chosen),
                             "training")
        return True

    def _choose(self):
        try:
            return choose(self.results)
        except ValueError:
            return 0, "every candidate diverged (validation loss not finite)"

    def _candidate_state(self, k: int) -> dict:
        from ..serialization import load

        return load(self.search_dir / f"c{k}.safetensors")

    def kept(self):
        """(candidate index, state_dict, history) of the model the run keeps now."""
        if self.chosen is not None:
            return self.chosen, self._candidate_state(self.chosen), self.histories[self.chosen]
        if self.partial is not None:
            return self.partial
        return 0, None, History()


#: the files a run writes; a new run in the same directory removes an older run's, and only
#: those (never anything else the directory holds)
RUN_FILES = ("model.safetensors", "config.json", "metrics.json", "history.csv",
             "loss_curve.png", "report.md")
_SEARCH_FILE = re.compile(r"(state\.json|c\d+\.(safetensors|history\.csv|"
                          r"checkpoint\.safetensors))")


def _clear_old_run(out: Path) -> None:
    for name in RUN_FILES:
        if (out / name).is_file():
            (out / name).unlink()
    search = out / "search"
    if search.is_dir():
        for f in search.iterdir():
            if f.is_file() and _SEARCH_FILE.fullmatch(f.name):
                f.unlink()


def _isatty() -> bool:
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def _save(state, path) -> None:
    try:
        save(state, path)
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), os.fspath(path)) from None

