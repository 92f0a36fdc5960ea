"""What ``train --resume`` reads back from a run directory, checked before it is used.

A resumed run takes its options from ``config.json`` and its progress from
``search/state.json`` and the finished candidates' files. A hand-edited or corrupted
directory used to end in a traceback (``TypeError: must be real number, not str``); every
problem is now one :class:`~chainrule.train.rundir.RunError` naming the file and the field.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from .history import History
from .rundir import RunError

__all__ = ["check_options", "check_state", "read_history"]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v, lo: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def check_options(o: dict, path) -> None:
    """The training options of ``config.json`` (``options``), as the CLI would accept them."""
    from ._setup import OPTIMIZERS
    from .rundir import ACTIVATIONS
    from .tasks import TASKS

    def bad(key, why):
        raise RunError(f"{path}: options.{key} {why}; the file is corrupt (start a new run)")

    checks = {
        "hidden": lambda v: v is None or (isinstance(v, list) and len(v) <= 64
                                          and all(_int(h, 1) for h in v)),
        "activation": lambda v: v in ACTIVATIONS,
        "optimizer": lambda v: v in OPTIMIZERS,
        "dropout": lambda v: v is None or (_number(v) and 0 <= v < 1),
        "lr": lambda v: v is None or (_number(v) and 0 < v < math.inf),
        "weight_decay": lambda v: v is None or (_number(v) and 0 <= v < math.inf),
        "epochs": lambda v: v is None or _int(v, 1),
        "batch_size": lambda v: v is None or _int(v, 1),
        "patience": lambda v: v is None or _int(v, 0),
        "val_split": lambda v: _number(v) and 0 <= v < 1,
        "test_split": lambda v: _number(v) and 0 <= v < 1,
        "seed": lambda v: _int(v, 0),
        "task": lambda v: v in ("auto", *TASKS),
    }
    for key, ok in checks.items():
        if key not in o:
            bad(key, "is missing")
        if not ok(o[key]):
            bad(key, f"has an invalid value {o[key]!r:.60}")
    if o["val_split"] + o["test_split"] >= 1:
        bad("val_split", "+ test_split leave no training rows")


def check_state(state, path, search: Path) -> None:
    """``search/state.json``: candidates and finished results of the right types, and each
    finished candidate's weights and history present."""
    def bad(why):
        raise RunError(f"{path} {why}; the search state is corrupt (start a new run)")

    if not isinstance(state, dict):
        bad("is not a JSON object")
    cands, results = state.get("candidates"), state.get("results")
    if not isinstance(cands, list) or not isinstance(results, list):
        bad("lacks the lists 'candidates' and 'results'")
    if len(results) > len(cands):
        bad(f"has {len(results)} results for {len(cands)} candidates")
    fields = {"val_loss": _number, "val_se": _number, "epochs": lambda v: _int(v, 0),
              "stopped_early": lambda v: isinstance(v, bool),
              "seconds": _number}
    for k, r in enumerate(results):
        if not isinstance(r, dict):
            bad(f"has result {k} that is not an object")
        for key, ok in fields.items():
            if not ok(r.get(key)):
                bad(f"has result {k} with an invalid {key} {r.get(key)!r:.40}")
        for name in (f"c{k}.safetensors", f"c{k}.history.csv"):
            if not os.path.isfile(search / name):
                bad(f"says candidate {k + 1} finished but search/{name} is missing")


def read_history(path) -> History:
    """A finished candidate's history CSV, or RunError naming it."""
    try:
        h = History.from_csv(path)
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as e:
        raise RunError(f"{path} is corrupt ({type(e).__name__}: {e}); start a new run") \
            from None
    if not len(h) or "loss" not in h.history:
        raise RunError(f"{path} has no epochs or no 'loss' column; start a new run")
    return h
