"""The ``chainrule`` command: train, evaluate, predict, explain, summary, demo, info.

    chainrule demo                                   # spirals, progress bars, pictures
    chainrule train Heart.csv --target AHD --seed 0  # writes runs/Heart/
    chainrule evaluate runs/Heart Heart.csv
    chainrule predict runs/Heart new.csv --out preds.csv
    chainrule explain "cos(sin(x**2)+3*x**2)" --at x=1.5
    chainrule summary runs/Heart
    chainrule export runs/Heart heart.onnx              # ONNX, preprocessing in its metadata
    chainrule info

Bad input (missing file, unknown column, one-class target, ...) prints one line
``chainrule: error: ...`` on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise _UsageError(f"{message} (see 'chainrule {self.prog.split()[-1]} --help')"
                          if " " in self.prog else f"{message} (see 'chainrule --help')")


class _UsageError(Exception):
    pass


def _hidden(text: str) -> tuple[int, ...]:
    if text.strip() in ("", "0", "none"):
        return ()
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden expects sizes like 64,64, got {text!r}") \
            from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


def _fraction(text: str) -> float:
    v = float(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return v


def _parser() -> argparse.ArgumentParser:
    from .train.run import ACTIVATIONS, DEFAULTS

    d = DEFAULTS
    p = _Parser(prog="chainrule", description="Train and inspect neural networks on NumPy.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    t = sub.add_parser("train", help="train an MLP on a CSV file and write a run directory")
    t.add_argument("csv")
    t.add_argument("--target", required=True, help="the column to predict")
    t.add_argument("--task", default="auto",
                   choices=["auto", "binary", "multiclass", "regression", "count"])
    t.add_argument("--hidden", type=_hidden, default=d["hidden"],
                   help="hidden layer sizes (default 64,64)")
    t.add_argument("--activation", default=d["activation"], choices=list(ACTIVATIONS))
    t.add_argument("--dropout", type=_fraction, default=d["dropout"], help="default 0.2")
    t.add_argument("--optimizer", default=d["optimizer"],
                   choices=["adam", "adamw", "sgd", "momentum", "rmsprop", "lbfgs", "newton"])
    t.add_argument("--lr", type=float, default=None, help="learning rate (default: per "
                   "optimizer, adam 1e-3)")
    t.add_argument("--weight-decay", type=float, default=d["weight_decay"],
                   help="L2 weight decay (default 1e-2; 0 for lbfgs/newton/momentum)")
    t.add_argument("--epochs", type=int, default=d["epochs"], help="at most (default 300)")
    t.add_argument("--batch-size", type=int, default=d["batch_size"])
    t.add_argument("--val-split", type=_fraction, default=d["val_split"])
    t.add_argument("--test-split", type=_fraction, default=d["test_split"])
    t.add_argument("--patience", type=int, default=d["patience"],
                   help="early-stopping patience on val_loss (0: off; default 20)")
    t.add_argument("--seed", type=int, default=d["seed"])
    t.add_argument("--out", default=None, help="run directory (default runs/<csv name>)")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    e = sub.add_parser("evaluate", help="metrics of a trained model on a labelled CSV file")
    e.add_argument("dir")
    e.add_argument("csv")
    pr = sub.add_parser("predict", help="predictions for the rows of a CSV file")
    pr.add_argument("dir")
    pr.add_argument("csv")
    pr.add_argument("--out", required=True, help="the predictions CSV to write")
    x = sub.add_parser("explain", help="forward/backward tables of an expression at a point")
    x.add_argument("expression")
    x.add_argument("--at", action="append", required=True, metavar="NAME=VALUE",
                   help="the point, e.g. --at x=1.5 (repeat or comma-separate for more)")
    x.add_argument("--wrt", default=None, help="input seeded in the forward-mode table")
    x.add_argument("--markdown", action="store_true")
    s = sub.add_parser("summary", help="architecture and parameter counts of a run")
    s.add_argument("dir")
    m = sub.add_parser("demo", help="train on the built-in spirals and draw the pictures")
    m.add_argument("--out", default=os.path.join("runs", "demo"))
    m.add_argument("--epochs", type=int, default=150)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--quiet", action="store_true")
    sub.add_parser("info", help="versions, BLAS and threads")
    from .onnx.cli import add_parser as add_export_parser  # chainrule export RUN_DIR x.onnx

    add_export_parser(sub)
    return p


def _train(a) -> int:
    from .train.report import metrics_table
    from .train.run import train_csv

    if a.epochs < 1 or a.batch_size < 1:
        raise ValueError("--epochs and --batch-size must be positive")
    out = a.out or os.path.join("runs", Path(a.csv).stem)
    wd = a.weight_decay if a.optimizer in ("adam", "adamw", "sgd", "rmsprop") else 0.0
    res = train_csv(a.csv, a.target, task=a.task, out=out, verbose=0 if a.quiet else 1,
                    hidden=a.hidden, activation=a.activation, dropout=a.dropout,
                    optimizer=a.optimizer, lr=a.lr, weight_decay=wd, epochs=a.epochs,
                    batch_size=a.batch_size, val_split=a.val_split, test_split=a.test_split,
                    seed=a.seed, patience=a.patience)
    h = res["history"]
    how = (f"stopped early after {len(h)} epochs, best weights restored"
           if h.stopped_early else f"{len(h)} epochs")
    if h.interrupted:
        how = f"interrupted after {len(h)} epochs"
    print(f"\ntrained in {res['seconds']:.1f} s ({how})")
    print(metrics_table(res["metrics"]))
    for note in res["notes"]:
        print(f"note: {note}")
    print(f"wrote {res['dir']}/ ({', '.join(res['files'])})")
    return 0


def _evaluate(a) -> int:
    from .train.report import metrics_table
    from .train.run import evaluate_csv

    res, dropped = evaluate_csv(a.dir, a.csv)
    if dropped:
        print(f"skipped {dropped} row(s) with missing values")
    print(metrics_table({Path(a.csv).name: res}))
    return 0


def _predict(a) -> int:
    from .train.run import predict_csv

    n, dropped = predict_csv(a.dir, a.csv, a.out)
    extra = f"; skipped {dropped} row(s) with missing values" if dropped else ""
    print(f"wrote {n} predictions to {a.out}{extra}")
    return 0


def _point(items) -> dict:
    point = {}
    for item in items:
        for part in item.split(","):
            name, eq, value = part.partition("=")
            name = name.strip()
            if not eq or not name.isidentifier():
                raise ValueError(f"--at expects NAME=VALUE, got {part!r}")
            try:
                point[name] = float(value)
            except ValueError:
                raise ValueError(f"--at {name}: {value!r} is not a number") from None
    return point


def _explain(a) -> int:
    from .explain import explain

    # the expression is parsed by chainrule.explain: an AST whitelist of numbers, the given
    # names, + - * / ** and chainrule math functions (never eval, no builtins)
    e = explain(a.expression, wrt=a.wrt, **_point(a.at))
    print(e.markdown() if a.markdown else e.text())
    return 0


def _summary(a) -> int:
    from .nn.summary import summary
    from .train.run import load_run

    run = load_run(a.dir)
    arch = run.config["architecture"]
    print(f"{a.dir}: {run.config['target']} ({run.head.describe()})")
    summary(run.model, (1, arch["n_inputs"]))
    return 0


def _info(a) -> int:
    import numpy as np

    from . import __version__, get_num_threads

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
    print(f"threads   {get_num_threads()} (BLAS), {os.cpu_count()} CPUs")
    return 0


def _demo(a) -> int:
    from .train.demo import run_demo

    run_demo(a.out, epochs=a.epochs, seed=a.seed, verbose=0 if a.quiet else 1)
    return 0


def _export(a) -> int:
    from .onnx.cli import export_run

    return export_run(a)


COMMANDS = {"train": _train, "evaluate": _evaluate, "predict": _predict, "explain": _explain,
            "summary": _summary, "demo": _demo, "info": _info, "export": _export}


def _one_line(e: BaseException) -> str:
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        msg = f"{e.strerror}: {e.filename}"
    return " ".join(msg.split()) or type(e).__name__


def main(argv=None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            _parser().print_help()
            return 0
        return COMMANDS[args.command](args)
    except _UsageError as e:
        print(f"chainrule: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError) as e:
        print(f"chainrule: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
