"""The argument parser of the ``chainrule`` command: every flag, its check and its help.

A value that fails a check gives one line naming the flag (argparse prefixes the message
with ``argument --seed:``), e.g. ``chainrule: error: argument --seed: must be a
non-negative integer, got -1 (see 'chainrule train --help')``.
"""

from __future__ import annotations

import argparse
import os


class UsageError(Exception):
    """A command-line usage error (exit code 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        where = f"chainrule {self.prog.split()[-1]}" if " " in self.prog else "chainrule"
        raise UsageError(f"{message} (see '{where} --help')")


def _int(lo: int):
    """An argparse type: an integer >= ``lo`` (0: non-negative, 1: positive)."""
    def check(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo:
            kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
                lo, f"an integer >= {lo}")
            raise argparse.ArgumentTypeError(f"must be {kind}, got {v}")
        return v
    check.__name__ = "integer"
    return check


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return v


def _non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return v


def _hidden(text: str):
    if text.strip().lower() == "auto":
        return None
    if text.strip().lower() in ("", "0", "none", "linear"):
        return ()
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 64,64 (or 0 for a linear "
                                         f"model, auto to search), got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    if len(sizes) > 64:  # what a run directory may hold (train/rundir.py)
        raise argparse.ArgumentTypeError(f"at most 64 hidden layers, got {len(sizes)}")
    return sizes


def _columns(text: str) -> list[str]:
    cols = [c.strip() for c in text.split(",")]
    if not all(cols):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got "
                                         f"{text!r}")
    return cols


def _delimiter(text: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|",
             "space": " "}
    d = named.get(text.lower(), text)
    if len(d) != 1 or d in "\"\r\n":
        raise argparse.ArgumentTypeError(f"expected one character (or tab, comma, semicolon, "
                                         f"pipe), got {text!r}")
    return d


def _encoding(text: str) -> str:
    import codecs

    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r} (e.g. utf-8, latin-1, "
                                         "cp1252)") from None


def _threads(text: str):
    if text.strip().lower() == "auto":
        return None
    return _int(1)(text)


def _reading_flags(p, training: bool) -> None:
    what = "of the CSV file" if training else "(default: the training file's)"
    p.add_argument("--delimiter", type=_delimiter, default=None,
                   help=f"field separator {what}: a character or tab/comma/semicolon/pipe "
                   "(default: sniffed among , ; tab)")
    p.add_argument("--encoding", type=_encoding, default=None,
                   help=f"text encoding {what}, e.g. latin-1 (default utf-8)")


def _scoring_flags(p) -> None:
    p.add_argument("--unknown", choices=["error", "ignore"], default="error",
                   help="an unseen category: 'error' leaves that row unscored with a reason "
                   "(default), 'ignore' encodes it as all zeros and scores the row")
    p.add_argument("--strict", action="store_true",
                   help="refuse the file at the first row that cannot be scored")
    _reading_flags(p, training=False)


def build_parser() -> argparse.ArgumentParser:
    from ..train._distributed_cli import add_train_arguments
    from ..train.run import ACTIVATIONS, DEFAULTS

    d = DEFAULTS
    p = Parser(prog="chainrule", description="Train and inspect neural networks on NumPy.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    t = sub.add_parser("train", help="choose and train a model on a CSV file (or a built-in "
                       "dataset such as 'heart') and write a run directory")
    t.add_argument("csv", nargs="?", help="a CSV file or a built-in dataset name (heart)")
    t.add_argument("--target", help="the column to predict (required unless --resume)")
    t.add_argument("--resume", metavar="RUN_DIR", default=None,
                   help="continue an interrupted run from its checkpoint")
    t.add_argument("--task", default="auto",
                   choices=["auto", "binary", "multiclass", "regression", "count"])
    g = t.add_argument_group("data")
    g.add_argument("--features", type=_columns, default=None,
                   help="only these input columns (comma-separated)")
    g.add_argument("--drop", type=_columns, default=None,
                   help="leave these columns out (comma-separated)")
    g.add_argument("--impute", nargs="?", const="median", default=None,
                   choices=["mean", "median", "most_frequent", "drop"],
                   help="fill missing feature values instead of dropping the rows: numbers "
                   "with the training median (or mean), categories with the most frequent "
                   "(default when given: median)")
    g.add_argument("--max-categories", type=_int(1), default=None,
                   help="most distinct values a text column may have (more: free text)")
    g.add_argument("--id-column", default=None,
                   help="a row identifier: not a feature, passed through to predictions")
    _reading_flags(g, training=True)
    m = t.add_argument_group("model (default: chosen on the validation split)")
    m.add_argument("--hidden", type=_hidden, default=d["hidden"],
                   help="hidden sizes like 64,64; 0 for a linear model; default auto")
    m.add_argument("--activation", default=d["activation"], choices=list(ACTIVATIONS))
    m.add_argument("--dropout", type=_fraction, default=d["dropout"], help="default auto")
    m.add_argument("--optimizer", default=d["optimizer"],
                   choices=["adam", "adamw", "sgd", "momentum", "rmsprop", "lbfgs", "newton"])
    m.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default auto)")
    m.add_argument("--weight-decay", type=_non_negative_float, default=d["weight_decay"],
                   help="L2 weight decay (default auto; 0 for lbfgs/newton/momentum)")
    m.add_argument("--epochs", type=_int(1), default=d["epochs"],
                   help="most epochs per candidate (default 300, fewer on large tables)")
    m.add_argument("--batch-size", type=_int(1), default=d["batch_size"],
                   help="default 32, larger on large tables")
    m.add_argument("--patience", type=_int(0), default=d["patience"],
                   help="early-stopping patience on val_loss (0: off; default 20)")
    t.add_argument("--val-split", type=_fraction, default=d["val_split"],
                   help="fraction of the rows that choose the model and stop training "
                   f"(default {d['val_split']}; 0: train one model, no early stopping)")
    t.add_argument("--test-split", type=_fraction, default=d["test_split"],
                   help=f"fraction of the rows held out for the final metrics (default "
                   f"{d['test_split']})")
    t.add_argument("--seed", type=_int(0), default=d["seed"],
                   help="seed of the splits, initial weights and shuffling (default 0)")
    t.add_argument("--threads", type=_threads, default=None,
                   help="BLAS threads (default auto: 1 for small models)")
    t.add_argument("--out", default=None, help="run directory (default runs/<csv name>)")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    add_train_arguments(t)  # --nproc, --stream, --memory-budget (chainrule.train)
    e = sub.add_parser("evaluate", help="metrics of a trained model on a labelled CSV file")
    e.add_argument("dir")
    e.add_argument("csv")
    _scoring_flags(e)
    pr = sub.add_parser("predict", help="predictions for the rows of a CSV file")
    pr.add_argument("dir")
    pr.add_argument("csv")
    pr.add_argument("--out", default="-", help="the predictions CSV to write (default: "
                    "standard output)")
    pr.add_argument("--id-column", default=None,
                    help="a column copied to the predictions (default: the run's)")
    _scoring_flags(pr)
    x = sub.add_parser("explain", help="forward/backward tables of an expression at a point")
    x.add_argument("expression")
    x.add_argument("--at", action="append", required=True, metavar="NAME=VALUE",
                   help="the point, e.g. --at x=1.5 (repeat or comma-separate for more)")
    x.add_argument("--wrt", default=None, help="input seeded in the forward-mode table")
    x.add_argument("--markdown", action="store_true")
    s = sub.add_parser("summary", help="architecture and parameter counts of a run")
    s.add_argument("dir")
    dm = sub.add_parser("demo", help="train on the built-in spirals and draw the pictures")
    dm.add_argument("--out", default=os.path.join("runs", "demo"))
    dm.add_argument("--epochs", type=_int(0), default=150)
    dm.add_argument("--seed", type=_int(0), default=0)
    dm.add_argument("--threads", type=_threads, default=None)
    dm.add_argument("--quiet", action="store_true")
    sub.add_parser("info", help="versions, BLAS and threads")
    from ..onnx.cli import add_parser as add_export_parser  # chainrule export RUN_DIR x.onnx

    add_export_parser(sub)
    return p


_EXPLAIN_VALUED = ("--at", "--wrt")
_EXPLAIN_FLAGS = ("--markdown", "-h", "--help")


def protect_expression(argv: list[str]) -> list[str]:
    """``chainrule explain "-x**2" --at x=1``: argparse would take ``-x**2`` for an option.
    The first argument of ``explain`` that is not a flag or a flag's value is the
    expression; a leading space keeps argparse from reading it as an option (the
    expression parser ignores surrounding spaces)."""
    if not argv or argv[0] != "explain":
        return argv
    out, i = list(argv), 1
    while i < len(out):
        a = out[i]
        if a in _EXPLAIN_VALUED:
            i += 2
            continue
        if a in _EXPLAIN_FLAGS or a.startswith(tuple(f + "=" for f in _EXPLAIN_VALUED)):
            i += 1
            continue
        if a == "--":
            break
        if a.startswith("-"):
            out[i] = " " + a
        break
    return out
