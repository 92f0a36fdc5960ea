"""The end of a ``chainrule train`` run: the kept model, metrics, history, report and plot,
written for whatever exists — also after a Ctrl-C (see :mod:`chainrule.train.run`)."""

from __future__ import annotations

import json
import math
import time

from ._trainer import metric_names, pause_point
from ._evaluate import evaluate
from .history import History
from .rundir import build_mlp, write_file


def _metrics(tr, model, guard) -> dict:
    names = metric_names(tr.head.task)
    out = {}
    for split in ("train", "val", "test"):
        X = getattr(tr.ds, f"X_{split}")
        if X.shape[0] == 0:
            continue
        pause_point(f"metrics:{split}", guard)
        y = tr.head.target(getattr(tr.ds, f"y_{split}"))
        out[split] = evaluate(model, (X, y), loss=tr.head.loss(), metrics=names)
    return out


def _model(tr, k, state):
    model = build_mlp(tr.ds.n_features, tr.cands[k].hidden, tr.o["activation"],
                      tr.cands[k].dropout, tr.head)
    model.load_state_dict(state)
    model.eval()
    return model


def finish(tr, guard, t0) -> dict:
    """Write the kept model, history, metrics, report and plot; return the run's summary."""
    interrupted = guard.flag
    k, state, history = tr.kept()
    searched = len(tr.results) == len(tr.cands)
    status = "complete" if searched else "interrupted"
    with guard.mode("defer"):
        if state is not None:
            tr.write_model(tr.cands[k], state, status)
        history.to_csv(tr.out / "history.csv")
    seconds = time.perf_counter() - t0
    model = _model(tr, k, state) if state is not None else None
    metrics = None
    if searched and not interrupted:
        try:
            with guard.mode("raise"):
                pause_point("after-train", guard)
                metrics = _metrics(tr, model, guard)
        except KeyboardInterrupt:
            interrupted = True
    notes = []
    files = ["model.safetensors", "config.json", "history.csv"]
    with guard.mode("defer"):
        pause_point("report", guard)
        if metrics is not None:
            write_file(tr.out / "metrics.json", json.dumps(_finite(metrics), indent=2) + "\n")
            files.insert(2, "metrics.json")
        elif (tr.out / "metrics.json").exists():
            (tr.out / "metrics.json").unlink()  # an older run's; it does not describe this
        note = plot_history_safe(history, tr.out / "loss_curve.png")
        if note:
            notes.append(note)
        else:
            files.append("loss_curve.png")
        from .report import run_report

        write_file(tr.out / "report.md", run_report(tr, model, history, metrics, seconds,
                                                    notes, interrupted))
        files.append("report.md")
    interrupted = interrupted or guard.flag
    from .report import diagnostics_lines

    # the console shows the findings that make a model unusable; report.md has them all
    warnings = [d for d in diagnostics_lines(history) if d.startswith(("nan", "divergence"))]
    diverged = ""  # why the run failed, for the exit code 1
    if tr.results and not any(math.isfinite(r["val_loss"]) for r in tr.results):
        diverged = "the validation loss is not finite for any candidate"
    elif k < len(tr.results) and tr.results[k].get("nonfinite"):
        diverged = (f"the training loss of the kept candidate became NaN or infinite in "
                    f"epoch {len(history)}; its weights are those before that batch")
    return {"metrics": metrics, "history": history, "model": model, "head": tr.head,
            "data": tr.ds, "dir": tr.out, "seconds": seconds, "notes": notes, "files": files,
            "interrupted": interrupted, "status": status, "chosen": k,
            "reason": tr.reason, "candidates": tr.cands, "results": tr.results,
            "diverged": diverged, "plan": tr.plan, "warnings": warnings}


def _finite(obj):
    """JSON has no NaN/inf: write them as strings ("nan", "inf")."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj


def plot_history_safe(history: History, path) -> str | None:
    """Draw the loss curve with chainrule.viz; return a note instead when it cannot."""
    import os

    try:
        from ..viz import plot_history

        plot_history(history, os.fspath(path))
    except ImportError as e:
        return f"plots skipped: {e}"
    return None
