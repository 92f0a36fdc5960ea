"""``chainrule train``: a CSV in, a run directory out — written so that nothing is lost.

A run directory holds::

    model.safetensors   the kept model's state_dict (chainrule.save: safetensors, no pickle)
    config.json         architecture, preprocessing, task (and why), classes, data source and
                        options, training settings, the model search, status, versions
    metrics.json        train / val / test metrics (absent if interrupted before them)
    history.csv         per-epoch loss, metrics, learning rate, time of the kept model
    loss_curve.png      chainrule.viz.plot_history (when matplotlib is installed)
    report.md           data report, task, model search, architecture, metrics, diagnostics
    search/             each candidate's weights and history, the search state and, while a
                        candidate trains, its resumable checkpoint

**When things are written.** ``model.safetensors`` and ``config.json`` are written (each
atomically, the pair inside a section where Ctrl-C is deferred) as soon as the first model
exists, before its first batch, and again whenever the kept model changes; history, report
and plot at the end — also after a Ctrl-C, for whatever history there is. So a Ctrl-C at
any moment after loading leaves a directory that ``evaluate``, ``predict`` and ``summary``
accept, and ``train --resume DIR`` continues from the last checkpoint to the same weights,
bit for bit, as an uninterrupted run (see :mod:`chainrule.train._interrupt` for what the
first and a second Ctrl-C do at each moment).

The model is chosen by :mod:`chainrule.train.select` (linear model and MLPs, one-standard-
error rule on the validation loss). Regression targets are standardised with the training
mean and std for training, and the scale is folded back into the last layer, so the saved
model predicts in the target's units. The last layer's bias starts at the null model
(base-rate logit, log class frequencies, log mean count).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
import time
from pathlib import Path

from ._interrupt import SigintGuard
from ._resume_check import check_options, check_state
from ._trainer import PAUSE_ENV, _Trainer, metric_names, pause_point
from .rundir import (ACTIVATIONS, RUN_FORMAT, RUN_FORMAT_VERSION, LoadedRun, RunError,
                     load_run, parse_json, read_config, read_regular_file)
from .tasks import Head

__all__ = ["ACTIVATIONS", "DATA_OPTIONS", "DEFAULTS", "LoadedRun", "PAUSE_ENV", "RunError",
           "load_run", "metric_names", "prepare_out", "resume_run", "train_csv"]

#: training options (None: chosen by the model search / the plan)
DEFAULTS = dict(hidden=None, activation="relu", dropout=None, optimizer="adam", lr=None,
                weight_decay=None, epochs=None, batch_size=None, val_split=0.2, test_split=0.2,
                seed=0, patience=None)
#: data options passed to ``chainrule.data.load_csv`` (None: its default)
DATA_OPTIONS = ("delimiter", "encoding", "impute", "features", "drop", "max_categories",
                "id_column")


def prepare_out(out) -> bool:
    """Make sure the run directory ``out`` can be written before any data is read; returns
    True when it was created. Errors name ``out``."""
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} exists and is not a directory")
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".chainrule-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OSError(e.errno, f"cannot write the run directory ({e.strerror})",
                      str(out)) from None
    return created


def resolve_source(source) -> Path:
    """A built-in dataset name (``heart``) or a CSV path -> the file to read."""
    from .. import data

    resolver = getattr(data, "resolve_csv", None) or getattr(data, "resolve", None)
    if resolver is not None:
        return Path(resolver(source))
    return Path(os.fspath(source)).expanduser()


def _load(source, target: str, task: str, o: dict, data_opts: dict):
    from ..data import load_csv

    path = resolve_source(source)
    accepted = inspect.signature(load_csv).parameters
    given = {k: v for k, v in data_opts.items() if v is not None}
    missing = [k for k in given if k not in accepted]
    if missing:
        raise ValueError(f"this chainrule's data loader has no option {missing[0]!r}")
    ds = load_csv(path, target, task=task, val_split=o["val_split"],
                  test_split=o["test_split"], seed=o["seed"], **given)
    return path, ds


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _config(source, path: Path, target: str, ds, head: Head, o: dict, data_opts: dict,
            task: str) -> dict:
    from .. import __version__

    info = ds.info
    return {
        "format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
        "chainrule_version": __version__, "status": "training", "task": ds.task,
        "task_reason": info.get("task_reason"), "target": target, "classes": ds.classes,
        "output": {"units": head.units, "link": head.link, "loss": type(head.loss()).__name__},
        "architecture": None,
        "preprocessing": ds.preprocessor.to_dict(),
        "options": {**o, "hidden": None if o["hidden"] is None else list(o["hidden"]),
                    "task": task},
        "training": {"optimizer": o["optimizer"], "activation": o["activation"],
                     "seed": o["seed"]},
        "data": {"source": os.path.abspath(os.fspath(source))
                 if os.path.isfile(os.fspath(source)) else os.fspath(source),
                 "file": path.name, "sha256": _sha256(path), "options": data_opts,
                 "rows": info.get("rows_read"), "kept": info.get("rows_kept"),
                 "dropped": info.get("rows_dropped"), "splits": info.get("splits")},
    }


def train_csv(path, target: str, *, task: str = "auto", out="runs/train", verbose: int = 1,
              print_fn=print, data: dict | None = None, **options) -> dict:
    """Choose and train a model for ``target`` of the CSV ``path`` (or a built-in dataset
    name such as ``"heart"``) and write the run directory ``out``.

    Args:
        path: a CSV file or a built-in dataset name.
        target: the column to predict.
        task: ``"auto"`` or a task of :data:`chainrule.train.tasks.TASKS`.
        out: the run directory (checked writable before the data are read).
        data: ``load_csv`` options (:data:`DATA_OPTIONS`).
        **options: :data:`DEFAULTS` to override (None: searched / planned).

    Returns: ``{"metrics", "history", "model", "head", "data", "dir", "seconds", "notes",
    "files", "interrupted", "status", "chosen", "reason", "candidates", "results"}``.
    A Ctrl-C is not raised: ``interrupted`` is True and the directory holds what exists.
    """
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train_csv: unknown options {sorted(unknown)}")
    o = {**DEFAULTS, **options}
    data_opts = {k: v for k, v in (data or {}).items() if v is not None}
    bad = set(data_opts) - set(DATA_OPTIONS)
    if bad:
        raise TypeError(f"train_csv: unknown data options {sorted(bad)}")
    out = Path(out)
    t0 = time.perf_counter()
    with SigintGuard("raise") as guard:
        with guard.mode("raise"):
            created = prepare_out(out)
            try:
                pause_point("load", guard)
                file, ds = _load(path, target, task, o, data_opts)
                head = Head(ds.task, ds.n_classes)
                config = _config(path, file, target, ds, head, o, data_opts, task)
                tr = _Trainer(ds, head, out, config, o, guard, verbose, print_fn)
            except BaseException:  # refused before anything was written: leave no trace
                if created and out.is_dir() and not any(out.iterdir()):
                    out.rmdir()
                raise
        _announce(tr)
        tr.start()
        return _run(tr, guard, t0)


def resume_run(directory, *, verbose: int = 1, print_fn=print) -> dict:
    """Continue the run in ``directory`` (interrupted by Ctrl-C) from its checkpoint: the
    same data (checked by SHA-256), options and candidates; the result equals an
    uninterrupted run's bit for bit. Returns what :func:`train_csv` returns."""
    out = Path(directory)
    config = read_config(out)
    if config.get("status") == "complete" and (out / "metrics.json").exists():
        raise RunError(f"{out} is a complete run; nothing to resume")
    state_path = out / "search" / "state.json"
    if not os.path.lexists(state_path):
        raise RunError(f"{out} has no search/state.json: it cannot be resumed")
    state = parse_json(read_regular_file(state_path, 1 << 20, "search state"),
                       str(state_path))
    try:
        d, o, task = config["data"], dict(config["options"]), config["options"]["task"]
        o.pop("task")
        source, data_opts, target = d["source"], dict(d["options"] or {}), config["target"]
    except (KeyError, TypeError, AttributeError) as e:
        raise RunError(f"{out / 'config.json'} lacks what resuming needs ({e})") from None
    check_options({**o, "task": task}, out / "config.json")
    check_state(state, state_path, out / "search")
    if not isinstance(source, str) or not isinstance(target, str):
        raise RunError(f"{out / 'config.json'}: data.source and target must be strings")
    if o.get("hidden") is not None:
        o["hidden"] = tuple(o["hidden"])
    t0 = time.perf_counter()
    with SigintGuard("raise") as guard:
        with guard.mode("raise"):
            pause_point("load", guard)
            file, ds = _load(source, target, task, o, data_opts)
        if _sha256(file) != d.get("sha256"):
            raise RunError(f"{file} changed since the run in {out} started (its SHA-256 "
                           "differs); start a new run instead of resuming")
        head = Head(ds.task, ds.n_classes)
        config.update(status="training")
        tr = _Trainer(ds, head, out, config, o, guard, verbose, print_fn)
        if [c.to_dict() for c in tr.cands] != state.get("candidates"):
            raise RunError(f"{out}: the candidates of this run differ from the saved search "
                           "state; it cannot be resumed")
        tr.restore(state)
        if verbose:
            print_fn(f"resuming {out}: {len(tr.results)} of {len(tr.cands)} candidates done")
        _announce(tr, report=False)
        return _run(tr, guard, t0)


def _announce(tr, report: bool = True) -> None:
    if not tr.verbose:
        return
    if report:
        tr.print(_short_report(tr.ds.report, tr.out))  # its target line says the task, why
        tr.print(f"output unit: {tr.head.describe()}")
    p = tr.plan
    how = (f"{len(tr.cands)} candidates, kept by the one-standard-error rule on the "
           "validation loss" if len(tr.cands) > 1 else "1 candidate")
    tr.print(f"model search: {how}; batch {p['batch_size']}, at most {p['epochs']} epochs "
             f"each" + (f", early stopping (patience {p['patience']})" if tr.has_val else ""))


def _short_report(report: str, out, limit: int = 30) -> str:
    """The data report for the console: at most ``limit`` per-column lines (a table with
    10,000 columns printed 500 KB); report.md keeps them all."""
    lines = report.splitlines()
    try:
        first = next(i for i, x in enumerate(lines) if x.startswith("  features:")) + 1
    except StopIteration:
        return report
    end = first
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    if end - first <= limit:
        return report
    more = f"    ... {end - first - limit} more columns (all of them in {out}/report.md)"
    return "\n".join(lines[:first + limit] + [more] + lines[end:])


def _run(tr, guard, t0) -> dict:
    import numpy as np

    from ._finish import finish

    # a diverging candidate overflows inside the optimizer: the report's diagnostics and the
    # validation loss say so once, instead of NumPy warnings on every step
    with guard.mode("flag"), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        tr.search()
    return finish(tr, guard, t0)
