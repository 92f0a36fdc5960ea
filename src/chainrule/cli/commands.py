"""What each ``chainrule`` command does with its parsed arguments; each returns the exit
code (see :mod:`chainrule.cli` for the codes)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from .parser import UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _err(line: str) -> None:
    print(f"chainrule: {line}", file=sys.stderr, flush=True)


def set_threads(threads) -> None:
    """Apply ``--threads N``; ``auto`` (None) leaves it to ``fit``, which uses one BLAS
    thread for models too small to gain from more (:mod:`chainrule.train.threads`)."""
    from .. import set_num_threads

    if threads is not None:
        set_num_threads(threads)


def _data_options(a) -> dict:
    return {"delimiter": a.delimiter, "encoding": a.encoding,
            "impute": a.impute, "features": a.features,
            "drop": a.drop, "max_categories": a.max_categories, "id_column": a.id_column}


_TRAINING_FLAGS = ("target", "features", "drop", "max_categories", "id_column", "delimiter",
                   "encoding", "impute", "hidden", "dropout", "lr", "weight_decay", "epochs",
                   "batch_size", "patience")


def train(a) -> int:
    """``chainrule train``: on this process, or on ``--nproc`` processes under mpiexec."""
    from ..train._distributed_cli import run_train_command

    return run_train_command(a, _train_here)


def _train_here(a) -> int:
    from ..train._distributed_cli import choose_trainer
    from ..train.run import resume_run, train_csv

    if a.resume is not None:
        given = [f for f in _TRAINING_FLAGS if getattr(a, f) is not None] + \
            (["csv"] if a.csv else [])
        if given:
            raise UsageError(f"--resume takes the data and options from the run directory; "
                             f"do not also give {given[0].replace('_', '-')}")
        out = Path(a.resume)
    else:
        if not a.csv or not a.target:
            raise UsageError("the following arguments are required: " +
                             ("csv" if not a.csv else "--target") +
                             " (see 'chainrule train --help')")
        out = Path(a.out) if a.out else Path("runs") / Path(a.csv).stem
        if a.val_split + a.test_split >= 1:
            raise UsageError(f"--val-split {a.val_split:g} and --test-split {a.test_split:g} "
                             "leave no training rows; keep their sum below 1")
    set_threads(a.threads)
    try:
        if a.resume is not None:
            res = resume_run(out, verbose=0 if a.quiet else 1)
        else:
            opts = {k: getattr(a, k) for k in ("hidden", "activation", "dropout", "optimizer",
                                               "lr", "weight_decay", "epochs", "batch_size",
                                               "val_split", "test_split", "seed", "patience")}
            trainer = choose_trainer(a, train_csv)  # or streaming, when the file is too big
            if trainer is train_csv:
                res = train_csv(a.csv, a.target, task=a.task, out=out,
                                verbose=0 if a.quiet else 1, data=_data_options(a), **opts)
            else:
                given = [k for k, v in _data_options(a).items() if v not in (None, [], "drop")]
                if given:
                    raise UsageError(f"--{given[0].replace('_', '-')} is not supported when "
                                     "the file is streamed (--stream)")
                res = trainer(a.csv, a.target, task=a.task, out=out,
                              verbose=0 if a.quiet else 1,
                              **{k: v for k, v in opts.items() if v is not None})
    except KeyboardInterrupt:
        _interrupted_line(out)
        return EXIT_INTERRUPTED
    return _report(res, a.quiet)


def _interrupted_line(out: Path) -> None:
    """One line after a Ctrl-C that ended ``train`` before it could finish its files."""
    if (out / "config.json").exists() and (out / "model.safetensors").exists():
        _err(f"interrupted; {out}/ holds the last saved model (resume with: chainrule "
             f"train --resume {out})")
    else:
        _err("interrupted before a model existed; nothing was written")


def _report(res, quiet: bool) -> int:
    from ..train.report import metrics_table

    out = res["dir"]
    h = res["history"]
    if res["interrupted"]:
        if res["status"] == "complete":
            _err(f"interrupted after training; wrote {out}/ ({', '.join(res['files'])})")
        else:
            _err(f"interrupted; wrote {out}/ with the model so far (after {len(h)} epochs of "
                 f"candidate {res['chosen'] + 1}); resume with: chainrule train --resume "
                 f"{out}")
        return EXIT_INTERRUPTED
    c = res["candidates"][res["chosen"]]
    print(f"\ntrained in {res['seconds']:.1f} s; kept candidate {res['chosen'] + 1} of "
          f"{len(res['candidates'])}: {c.label} — {res['reason']}")
    if res["metrics"]:
        print(metrics_table(res["metrics"]))
    for note in res["notes"]:
        print(f"note: {note}")
    for w in res["warnings"]:
        print(f"warning: {w}")
    print(f"wrote {out}/ ({', '.join(res['files'])})")
    if res["diverged"]:
        _err(f"error: training diverged ({res['diverged']}); see {out}/report.md and lower "
             "--lr (or --weight-decay, if set)")
        return EXIT_FAILED
    return EXIT_OK


def evaluate(a) -> int:
    from ..train.report import metrics_table
    from ..train.scoring import evaluate_csv

    res = evaluate_csv(a.dir, a.csv, unknown=a.unknown, strict=a.strict, encoding=a.encoding,
                       delimiter=a.delimiter)
    if res["excluded"]:
        print(f"note: {res['summary']}; they are left out of the metrics")
    print(metrics_table({Path(a.csv).name: res["metrics"]}))
    return EXIT_OK


def predict(a) -> int:
    from ..train.scoring import predict_csv

    res = predict_csv(a.dir, a.csv, a.out, unknown=a.unknown, strict=a.strict,
                      id_column=a.id_column, encoding=a.encoding, delimiter=a.delimiter)
    extra = f"; {res['summary']} (empty prediction, see the reason column)" \
        if res["unscored"] else ""
    where = "standard output" if a.out in (None, "-") else a.out
    stream = sys.stderr if a.out in (None, "-") else sys.stdout
    print(f"wrote {res['scored']} predictions to {where}{extra}", file=stream)
    return EXIT_OK


def _point(items) -> dict:
    point = {}
    for item in items:
        for part in item.split(","):
            name, eq, value = part.partition("=")
            name = name.strip()
            if not eq or not name.isidentifier():
                raise ValueError(f"--at expects NAME=VALUE, got {part!r}")
            if name in point:
                raise ValueError(f"--at {name} is given twice; give each input once")
            try:
                point[name] = float(value)
            except ValueError:
                raise ValueError(f"--at {name}: {value!r} is not a number") from None
    return point


def explain(a) -> int:
    from ..explain import explain as run

    # the expression is parsed by chainrule.explain: an AST whitelist of numbers, the given
    # names, + - * / ** and chainrule math functions (never eval, no builtins)
    e = run(a.expression.strip(), wrt=a.wrt, **_point(a.at))
    print(e.markdown() if a.markdown else e.text())
    return EXIT_OK


def summary(a) -> int:
    from ..nn.summary import summary as table
    from ..train.run import load_run

    run = load_run(a.dir)
    arch = run.config["architecture"]
    status = run.config.get("status", "complete")
    note = "" if status == "complete" else f"; status {status}"
    print(f"{a.dir}: {run.config['target']} ({run.head.describe()}{note})")
    table(run.model, (1, arch["n_inputs"]))
    return EXIT_OK


def info(a) -> int:
    import numpy as np

    from .. import __version__, get_num_threads

    print(f"chainrule {__version__}")
    print(f"Python    {platform.python_version()} ({platform.platform()})")
    print(f"NumPy     {np.__version__}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                print(f"BLAS      {pool.get('internal_api')} {pool.get('version')} "
                      f"({pool.get('architecture', '?')}), {pool.get('num_threads')} threads, "
                      f"{pool.get('filepath')}")
    except ImportError:
        print("BLAS      unknown (threadpoolctl not installed)")
    from ..train.threads import MIN_FLOPS

    from .. import _threads

    pool = "chainrule's pool, BLAS 1" if _threads._limiter is not None else "BLAS"
    print(f"threads   {get_num_threads()} ({pool}), {os.cpu_count()} CPUs; training uses 1 "
          f"BLAS thread below {MIN_FLOPS / 1e6:.0f} MFLOP per step (--threads N to change)")
    return EXIT_OK


def demo(a) -> int:
    from ..train.demo import run_demo
    from ..train.run import prepare_out

    out = Path(a.out)
    created = prepare_out(out)  # before training: an unwritable --out fails at once
    set_threads(a.threads)
    try:
        res = run_demo(out, epochs=a.epochs, seed=a.seed, verbose=0 if a.quiet else 1)
    except KeyboardInterrupt:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # interrupted before anything existed: leave no empty directory
        raise
    if res["interrupted"]:
        _err(f"interrupted after {len(res['history'])} of {a.epochs} epochs; wrote {out}/ "
             f"with the model so far ({', '.join(res['files'])}; training accuracy "
             f"{res['accuracy']:.4f})")
        return EXIT_INTERRUPTED
    return EXIT_OK


def export(a) -> int:
    """``chainrule export RUN_DIR model.onnx``: the run's model as ONNX (chainrule.onnx)."""
    from ..onnx.cli import export_run

    return export_run(a)


COMMANDS = {"train": train, "evaluate": evaluate, "predict": predict, "explain": explain,
            "export": export,
            "summary": summary, "demo": demo, "info": info}
