"""Run directories: train an MLP on a CSV file and write everything needed to use it again.

A run directory holds::

    model.safetensors   the model's state_dict (chainrule.save: safetensors, no pickle)
    config.json         architecture, preprocessing (Preprocessor.to_dict), task, classes,
                        training settings, chainrule version and the run format version
    metrics.json        train / val / test metrics
    history.csv         per-epoch loss, metrics, learning rate, time
    loss_curve.png      chainrule.viz.plot_history (when matplotlib is installed)
    report.md           data report, output unit, architecture, metrics, diagnostics

``load_run(dir)`` rebuilds the model and preprocessor; directories written by another
run-format version or another chainrule major.minor version are refused.

Defaults for tabular data (chosen on Heart, 297 rows): two hidden layers of 64 ReLU units,
dropout 0.2, Adam with lr 1e-3 and weight decay 1e-2 (L2), batch 32, a stratified 20%
validation split for early stopping (patience 20, best weights restored; at most 300
epochs) and a stratified 20% test split.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import nn
from ..data import DataError, Preprocessor, load_csv
from ..serialization import _atomic_write, load, save
from ._setup import make_optimizer
from .callbacks import EarlyStopping
from .fit import evaluate, fit, predict
from .tasks import Head

RUN_FORMAT = "chainrule.run"
RUN_FORMAT_VERSION = 1
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU, "selu": nn.SELU,
               "softplus": nn.Softplus}
DEFAULTS = dict(hidden=(64, 64), activation="relu", dropout=0.2, optimizer="adam", lr=None,
                weight_decay=1e-2, epochs=300, batch_size=32, val_split=0.2, test_split=0.2,
                seed=0, patience=20)


class RunError(ValueError):
    """A run directory that cannot be used (missing, corrupt, other version)."""


def _version() -> str:
    from .. import __version__

    return __version__


def build_mlp(n_inputs: int, hidden, activation: str, dropout: float, head: Head):
    """``Linear -> activation [-> Dropout]`` per hidden size, then ``head.layer``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers, n = [], n_inputs
    for h in hidden:
        if h < 1:
            raise ValueError(f"hidden layer sizes must be positive, got {list(hidden)}")
        layers += [nn.Linear(n, h), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n = h
    layers.append(head.layer(n))
    return nn.Sequential(*layers)


def _write(path: Path, text: str) -> None:
    _atomic_write(os.fspath(path), text.encode("utf-8"))


def metric_names(task: str) -> list[str]:
    if task == "binary":
        return ["accuracy", "precision", "recall", "f1", "roc_auc"]
    if task == "multiclass":
        return ["accuracy", "f1_macro"]
    return ["mse", "mae", "r2"]


def train_csv(path, target: str, *, task: str = "auto", out="runs/train", verbose: int = 1,
              print_fn=print, **options) -> dict:
    """Train the default MLP on ``path`` and write a run directory ``out``; returns
    ``{"metrics", "history", "model", "head", "data", "dir", "seconds"}``.
    ``options`` override :data:`DEFAULTS`."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train_csv: unknown options {sorted(unknown)}")
    o = {**DEFAULTS, **options}
    t0 = time.perf_counter()
    ds = load_csv(path, target, task=task, val_split=o["val_split"],
                  test_split=o["test_split"], seed=o["seed"])
    head = Head(ds.task, ds.n_classes)
    if verbose:
        print_fn(ds.report)
        print_fn(f"output unit: {head.describe()}")
    import chainrule as cr

    cr.manual_seed(o["seed"])
    model = build_mlp(ds.n_features, o["hidden"], o["activation"], o["dropout"], head)
    opt = make_optimizer(o["optimizer"], model.parameters(), o["lr"], o["weight_decay"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    splits = {k: (getattr(ds, f"X_{k}"), head.target(getattr(ds, f"y_{k}")))
              for k in ("train", "val", "test")}
    has_val = splits["val"][0].shape[0] > 0
    callbacks = [EarlyStopping("val_loss", patience=o["patience"], restore_best_weights=True)] \
        if has_val and o["patience"] else []
    names = metric_names(ds.task)
    if verbose:
        print_fn(f"model: MLP {ds.n_features} -> {list(o['hidden'])} ({o['activation']}, "
                 f"dropout {o['dropout']}) -> {head.units}; {o['optimizer']} "
                 f"(weight decay {o['weight_decay']}), batch {o['batch_size']}, "
                 f"at most {o['epochs']} epochs" + (f", early stopping (patience "
                                                     f"{o['patience']})" if callbacks else ""))
    history = fit(model, splits["train"], loss=head.loss(), optimizer=opt,
                  epochs=o["epochs"], batch_size=o["batch_size"],
                  val=splits["val"] if has_val else None, metrics=names[:1],
                  callbacks=callbacks, seed=o["seed"], verbose=verbose,
                  checkpoint=out / "checkpoint.safetensors")
    seconds = time.perf_counter() - t0
    metrics = {k: evaluate(model, xy, loss=head.loss(), metrics=names)
               for k, xy in splits.items() if xy[0].shape[0] > 0}
    config = {
        "format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
        "chainrule_version": _version(), "task": ds.task, "target": target,
        "classes": ds.classes, "output": {"units": head.units, "link": head.link,
                                          "loss": type(head.loss()).__name__},
        "architecture": {"type": "mlp", "n_inputs": ds.n_features, "hidden": list(o["hidden"]),
                         "activation": o["activation"], "dropout": o["dropout"],
                         "n_outputs": head.units},
        "preprocessing": ds.preprocessor.to_dict(),
        "training": {k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items()},
        "data": {"file": os.path.basename(str(path)), "rows": ds.info["rows_read"],
                 "kept": ds.info["rows_kept"], "dropped": ds.info["rows_dropped"],
                 "splits": ds.info["splits"]},
    }
    save(model.state_dict(), out / "model.safetensors")
    _write(out / "config.json", json.dumps(config, indent=2) + "\n")
    _write(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    history.to_csv(out / "history.csv")
    notes, files = [], ["model.safetensors", "config.json", "metrics.json", "history.csv"]
    plot = plot_history_safe(history, out / "loss_curve.png")
    notes.append(plot) if plot else files.append("loss_curve.png")
    files.append("report.md")
    from .report import run_report

    _write(out / "report.md", run_report(ds, head, model, config, history, metrics, seconds,
                                         notes))
    return {"metrics": metrics, "history": history, "model": model, "head": head, "data": ds,
            "dir": out, "seconds": seconds, "notes": notes, "files": files}


def plot_history_safe(history, path) -> str | None:
    """Draw the loss curve with chainrule.viz; return a note instead when it cannot."""
    try:
        from ..viz import plot_history
    except ImportError as e:
        return f"loss curve skipped: chainrule.viz is not available ({e})"
    try:
        plot_history(history, os.fspath(path))
    except ImportError as e:
        return f"loss curve skipped: {e} (pip install 'chainrule[plot]')"
    return None


@dataclass
class LoadedRun:
    model: nn.Module
    config: dict
    preprocessor: Preprocessor
    head: Head


def load_run(directory) -> LoadedRun:
    """Rebuild the model and preprocessor of a run directory written by :func:`train_csv`."""
    d = Path(directory)
    if not d.is_dir():
        raise RunError(f"model directory not found: {d}")
    cfg_path = d / "config.json"
    if not cfg_path.exists():
        raise RunError(f"{d} is not a chainrule model directory (no config.json)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise RunError(f"{cfg_path} is corrupt ({e})") from None
    if not isinstance(config, dict) or config.get("format") != RUN_FORMAT:
        raise RunError(f"{cfg_path} is not a chainrule run config (format "
                       f"{config.get('format') if isinstance(config, dict) else None!r})")
    ver = str(config.get("chainrule_version", "?"))
    if config.get("format_version") != RUN_FORMAT_VERSION or \
            ver.split(".")[:2] != _version().split(".")[:2]:
        raise RunError(f"{d} was written by chainrule {ver} (run format "
                       f"{config.get('format_version')}); this is chainrule {_version()} "
                       f"(run format {RUN_FORMAT_VERSION}): retrain it with this version")
    try:
        arch = config["architecture"]
        head = Head(config["task"], len(config["classes"]) if config["classes"] else None)
        model = build_mlp(arch["n_inputs"], arch["hidden"], arch["activation"],
                          arch["dropout"], head)
        pre = Preprocessor.from_dict(config["preprocessing"])
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"{cfg_path} is incomplete or corrupt ({type(e).__name__}: {e})") from None
    weights = d / "model.safetensors"
    if not weights.exists():
        raise RunError(f"{d} has no model.safetensors")
    try:
        model.load_state_dict(load(weights))
    except (ValueError, KeyError, RuntimeError, OSError) as e:
        raise RunError(f"{weights} cannot be loaded: {e}") from None
    model.eval()
    return LoadedRun(model, config, pre, head)


def _table_rows(run: LoadedRun, path, need_target: bool):
    """Read ``path``; drop rows with missing values; return (X, raw target or None, kept
    row numbers, dropped count)."""
    from ..data._table import is_missing, read_table

    pre = run.preprocessor
    table = read_table(path)
    if table.n_rows == 0:
        raise DataError(f"CSV file {path} has a header but no rows")
    absent = [c for c in pre.features if c not in table.columns]
    target = run.config["target"]
    if need_target and target not in table.columns:
        absent.append(target)
    if absent:
        raise DataError(f"{path} lacks the column(s) {', '.join(absent)} the model was "
                        f"trained with; columns are: {', '.join(table.header)}")
    cols = pre.features + ([target] if need_target else [])
    keep = [i for i in range(table.n_rows)
            if pre.impute and not need_target
            or not any(is_missing(table.columns[c][i], pre.na_values) for c in cols)]
    if not keep:
        raise DataError(f"{path}: every row has a missing value")
    data = {c: [table.columns[c][i] for i in keep] for c in cols}
    X = pre.transform(data)
    y = data[target] if need_target else None
    return X, y, keep, table.n_rows - len(keep)


def evaluate_csv(directory, path) -> tuple[dict, int]:
    """Metrics of a run's model on a labelled CSV file; returns (metrics, rows dropped)."""
    run = load_run(directory)
    X, y_raw, _, dropped = _table_rows(run, path, need_target=True)
    y = run.head.target(run.preprocessor.encode_target(y_raw))
    res = evaluate(run.model, (X, y), loss=run.head.loss(), metrics=metric_names(run.head.task))
    return res, dropped


def predict_csv(directory, path, out) -> tuple[int, int]:
    """Write predictions for the rows of ``path`` to the CSV ``out``; returns (rows written,
    rows skipped for missing values)."""
    run = load_run(directory)
    X, _, keep, dropped = _table_rows(run, path, need_target=False)
    pred = run.head.predict(predict(run.model, X))
    classes = run.config.get("classes")
    lines = []
    if "classes" in pred:
        labels = [str(classes[i]) for i in pred["classes"]]
        p = pred["probabilities"]
        if p.ndim == 1:
            p = np.stack([1 - p, p], axis=1)
        lines.append(",".join(["row", "prediction"] + [f"p_{c}" for c in classes]))
        for r, lab, probs in zip(keep, labels, p):
            lines.append(",".join([str(r + 1), lab] + [f"{v:.6g}" for v in probs]))
    else:
        lines.append("row,prediction")
        lines += [f"{r + 1},{v:.6g}" for r, v in zip(keep, pred["values"])]
    _write(Path(out), "\n".join(lines) + "\n")
    return len(keep), dropped
