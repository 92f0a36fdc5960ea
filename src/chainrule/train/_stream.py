"""``chainrule train --stream``: the default MLP on a CSV/Parquet file larger than memory.

The same run directory as ``train_csv`` (``load_run``, ``evaluate`` and ``predict`` work on
it unchanged), built from ``chainrule.data.scan_table`` (one pass: schema, hashed splits,
statistics) and a ``TableStream`` re-read every epoch. The memory budget is shared out
by :func:`memory_plan`: about 40 MiB for pyarrow's CSV reader (its read-ahead, whatever the
block size), then half of the rest for the shuffle buffer and a tenth for each in-memory
evaluation sample (``load(split, max_rows)``: metrics of big splits are computed on their
first rows, and the report says so). Budgets below 64 MiB leave little for the buffers. The per-epoch progress shows the training loss only (train metrics
would need every output of the epoch in memory).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from .. import nn
from ..data import scan_table
from ..serialization import _atomic_write, save
from ..utils.data import DataLoader
from ._setup import make_optimizer
from .callbacks import EarlyStopping
from .fit import fit
from ._evaluate import evaluate
from .run import ACTIVATIONS, DEFAULTS, RUN_FORMAT, RUN_FORMAT_VERSION, metric_names
from .tasks import Head

MB = 1024 * 1024
#: options ``run.DEFAULTS`` leaves to a model search (None), for a streamed run: one
#: pass over the file per epoch is expensive, so fewer epochs and bigger batches
STREAM_DEFAULTS = {"hidden": (64, 64), "dropout": 0.2, "weight_decay": 1e-2, "epochs": 20,
                   "batch_size": 256, "patience": 5}


def _mlp(n_inputs: int, hidden, activation: str, dropout: float, head: Head):
    """``Linear -> activation [-> Dropout]`` per hidden size, then ``head.layer``: the
    layout ``load_run`` rebuilds from the config's architecture."""
    layers, n = [], n_inputs
    for h in hidden:
        layers += [nn.Linear(n, h), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n = h
    return nn.Sequential(*layers, head.layer(n))


def _write(path, text: str) -> None:
    _atomic_write(os.fspath(path), text.encode("utf-8"))


def _plot(history, path) -> str | None:
    try:
        from ..viz import plot_history

        plot_history(history, os.fspath(path))
    except ImportError as e:
        return f"loss curve skipped: {e} (pip install 'chainrule[plot]')"
    return None


def _source(path):
    """A built-in dataset name (``heart``) or a path -> the file to read."""
    from .. import data

    resolver = getattr(data, "resolve_csv", None) or getattr(data, "resolve", None)
    return resolver(path) if resolver is not None and not os.path.exists(path) else path


READER_MB = 40  # pyarrow's CSV reader reads ahead about this much, whatever the block size


def memory_plan(budget: int, n_features: int) -> dict:
    """How ``budget`` bytes are spent: the CSV reader (``READER_MB``, block ``budget / 64``
    between 256 KiB and 1 MiB), then of the rest half for the shuffle buffer and a tenth for
    each in-memory evaluation sample (validation, test, training metrics)."""
    row = 4 * n_features + 8
    usable = max(budget - READER_MB * MB, 8 * MB)
    return {"block_size": int(min(MB, max(256 * 1024, budget // 64))),
            "buffer_rows": int(max(1024, usable // 2 // row)),
            "eval_rows": int(max(1000, usable // 10 // row))}


def train_stream(path, target: str, *, task: str = "auto", out="runs/train", verbose: int = 1,
                 print_fn=print, memory_budget: int = 256 * MB, **options) -> dict:
    """Train the default MLP on ``path`` streamed from disk; returns what ``train_csv``
    returns. ``options`` override ``run.DEFAULTS``."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"train_stream: unknown options {sorted(unknown)}")
    o = {**DEFAULTS, **options}
    o.update({k: v for k, v in STREAM_DEFAULTS.items() if o.get(k) is None})
    path = _source(path)
    t0 = time.perf_counter()
    from .. import distributed as dist
    from ._distributed import wanted

    ranks = 1
    if wanted(None):
        if not dist.is_initialized():
            dist.init_process_group("mpi")
        ranks = dist.get_world_size()
    scan = scan_table(path, target, task=task, val_split=o["val_split"],
                      test_split=o["test_split"], seed=o["seed"],
                      block_size=memory_plan(memory_budget, 1)["block_size"])
    plan = memory_plan(memory_budget, scan.n_features)
    plan["buffer_rows"] = min(plan["buffer_rows"], max(1, scan.info["splits"]["train"]))
    head = Head(scan.task, len(scan.classes) if scan.classes else None)
    info = scan.info
    if verbose:
        print_fn(f"{Path(path).name}: streamed ({info['format']}), {info['rows_read']} rows "
                 f"read, {info['rows_kept']} kept; splits {info['splits']}; "
                 f"{scan.n_features} inputs; memory budget {memory_budget / MB:.0f} MiB "
                 f"(shuffle buffer {plan['buffer_rows']} rows)")
        print_fn(f"output unit: {head.describe()}")
    if o["batch_size"] < ranks:
        raise ValueError(f"--batch-size {o['batch_size']} is smaller than the {ranks} processes")
    import chainrule as cr

    cr.manual_seed(o["seed"])
    model = _mlp(scan.n_features, o["hidden"], o["activation"], o["dropout"], head)
    opt = make_optimizer(o["optimizer"], model.parameters(), o["lr"], o["weight_decay"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    has_val = info["splits"]["val"] > 0
    if verbose:
        print_fn(f"model: MLP {scan.n_features} -> {list(o['hidden'])} ({o['activation']}, "
                 f"dropout {o['dropout']}) -> {head.units}; {o['optimizer']} (weight decay "
                 f"{o['weight_decay']}), batch {o['batch_size']} ({o['batch_size'] // ranks} per "
                 f"process x {ranks}), at most {o['epochs']} epochs"
                 + (f", early stopping (patience {o['patience']})"
                    if has_val and o["patience"] else ""))
    transform = lambda X, y: (X, head.target(y))  # noqa: E731
    train = scan.stream("train", batch_size=o["batch_size"] // ranks, shuffle=True,
                        seed=o["seed"], buffer_rows=plan["buffer_rows"], transform=transform)
    present = [k for k in ("val", "test", "train") if info["splits"][k]]
    samples = {k: (X, head.target(y)) for k, (X, y) in
               scan.load(present, max_rows=plan["eval_rows"]).items()}  # one pass
    callbacks = [EarlyStopping("val_loss", patience=o["patience"], restore_best_weights=True)] \
        if has_val and o["patience"] else []
    history = fit(model, DataLoader(train, batch_size=None), loss=head.loss(), optimizer=opt,
                  epochs=o["epochs"], val=samples.get("val"), callbacks=callbacks,
                  seed=o["seed"], verbose=verbose, checkpoint=out / "checkpoint.safetensors")
    seconds = time.perf_counter() - t0
    names = metric_names(scan.task)
    metrics = {k: evaluate(model, samples[k], loss=head.loss(), metrics=names)
               for k in ("train", "val", "test") if k in samples}
    config = {
        "format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
        "chainrule_version": cr.__version__, "task": scan.task, "target": target,
        "classes": scan.classes, "output": {"units": head.units, "link": head.link,
                                            "loss": type(head.loss()).__name__},
        "architecture": {"type": "mlp", "n_inputs": scan.n_features, "hidden": list(o["hidden"]),
                         "activation": o["activation"], "dropout": o["dropout"],
                         "n_outputs": head.units},
        "preprocessing": scan.preprocessor.to_dict(),
        "training": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items()},
                     "stream": True, "memory_budget_mb": memory_budget / MB, "processes": ranks,
                     **plan},
        "data": {"file": os.path.basename(str(path)), "rows": info["rows_read"],
                 "kept": info["rows_kept"], "dropped": info["rows_dropped"],
                 "splits": info["splits"], "stream": scan.to_dict(),
                 "metric_rows": {k: int(v[0].shape[0]) for k, v in samples.items()}},
    }
    save(model.state_dict(), out / "model.safetensors")
    _write(out / "config.json", json.dumps(config, indent=2) + "\n")
    _write(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    history.to_csv(out / "history.csv")
    notes, files = [], ["model.safetensors", "config.json", "metrics.json", "history.csv"]
    plot = _plot(history, out / "loss_curve.png")
    notes.append(plot) if plot else files.append("loss_curve.png")
    capped = [k for k, v in samples.items() if v[0].shape[0] < info["splits"][k]]
    if capped:
        notes.append(f"metrics of {', '.join(capped)} computed on their first "
                     f"{plan['eval_rows']} rows (memory budget)")
    _write(out / "report.md", _report(path, scan, head, config, metrics, seconds, notes))
    files.append("report.md")
    interrupted = bool(getattr(history, "interrupted", False))
    last = history.history.get("loss", [0.0])[-1] if history.history.get("loss") else 0.0
    label = (f"mlp {'-'.join(map(str, o['hidden'])) or 'linear'} (dropout {o['dropout']}, "
             f"weight decay {o['weight_decay']}, streamed)")
    return {"metrics": metrics, "history": history, "model": model, "head": head, "data": scan,
            "dir": out, "seconds": seconds, "notes": notes, "files": files,
            # what the command's report reads (one model: a streamed run has no search)
            "interrupted": interrupted, "status": "interrupted" if interrupted else "complete",
            "candidates": [_Candidate(label)], "chosen": 0,
            "reason": "the only candidate (a streamed run trains one model)",
            "warnings": [], "diverged": not math.isfinite(last)}


class _Candidate:
    def __init__(self, label: str):
        self.label = label


def _report(path, scan, head, config, metrics, seconds, notes) -> str:
    from .report import metrics_table

    info = scan.info
    lines = [f"# Run: {scan.target} from {Path(path).name} (streamed)", "",
             f"- rows read {info['rows_read']}, kept {info['rows_kept']}, dropped "
             f"{info['rows_dropped'] or 'none'}; splits {info['splits']} "
             f"(hash of seed {info['seed']} and row number)",
             f"- task {scan.task}; output unit {head.describe()}",
             f"- {scan.n_features} inputs: " + ", ".join(scan.preprocessor.feature_names[:20])
             + (" ..." if scan.n_features > 20 else ""),
             f"- training: {config['training']['processes']} process(es), memory budget "
             f"{config['training']['memory_budget_mb']:.0f} MiB, {seconds:.1f} s", "",
             metrics_table(metrics, markdown=True), ""]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"
