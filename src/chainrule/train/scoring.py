"""``chainrule evaluate`` / ``predict`` on a CSV file with a run directory's model.

**Rows that cannot be scored** (a missing value without imputation, a non-finite number, a
non-number in a numeric column, an unseen category unless ``unknown="ignore"``; for
``evaluate`` also a missing or unknown target) are never given a prediction: ``predict``
writes them with an empty prediction and the reason in the ``reason`` column, ``evaluate``
leaves them out of the metrics and says how many; with ``strict=True`` both refuse the file
at the first such row (a ``DataError`` naming the row, column and value).

**The predictions file** is written as the ``csv`` module writes CSV (fields with commas,
quotes, newlines or carriage returns are quoted, so every row has the header's number of
fields and ``csv.reader`` reads it back), column by column (:mod:`._csvout`). Columns: ``row`` (the
1-based data row of the input), the id column if the run has one or one is given,
``prediction``, one ``p_<class>`` per class for classifiers, and ``reason``.
**Spreadsheet formula injection** is neutralised: a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return — which Excel, LibreOffice and Google Sheets would
run as a formula — is written with a leading ``'`` (``=HYPERLINK(...)`` becomes
``'=HYPERLINK(...)``), unless the cell is a plain decimal number such as ``-1.5`` or
``+2e-3`` (numbers stay numbers). The rule applies to every text cell: labels, ids, reasons.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np

from ._evaluate import evaluate, predict
from . import _csvout
from .rundir import LoadedRun, load_run, write_file

__all__ = ["evaluate_csv", "predict_csv", "safe_cell", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula (see the module
    docstring): ``"=1+2"`` -> ``"'=1+2"``, ``"-1.5"`` -> ``"-1.5"``."""
    s = value if isinstance(value, str) else str(value)
    if s.startswith(_FORMULA_START) and not _NUMBER.fullmatch(s):
        return "'" + s
    return s


def write_csv(out, header: list[str], rows) -> None:
    """Write ``header`` and ``rows`` as CSV (minimal quoting as the csv module does, a
    carriage return inside a field quoted too, ``\\n`` line ends), every cell through
    :func:`safe_cell`; ``out`` ``"-"`` is standard output, a path is written atomically
    (errors name it)."""
    columns = [list(c) for c in zip(*[[_csvout.quoted(safe_cell(c)) for c in r]
                                      for r in rows])] or [[] for _ in header]
    _write_text(out, _csvout.to_text(list(header), columns, safe_cell))


def _write_text(out, text: str) -> None:
    if out == "-" or out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_file(out, text)


def _prepared(run: LoadedRun, path, *, target: bool, unknown: str, strict: bool,
              id_column=None, encoding=None, delimiter=None):
    from ..data import resolve_csv

    pre = run.preprocessor
    if id_column is not None:
        pre.id_column = id_column
    return pre.prepare_csv(resolve_csv(path), target=target, unknown=unknown, strict=strict,
                           encoding=encoding, delimiter=delimiter)


def evaluate_csv(directory, path, *, unknown: str = "error", strict: bool = False,
                 encoding=None, delimiter=None) -> dict:
    """Metrics of a run's model on a labelled CSV file.

    Returns ``{"metrics": {...}, "rows": N read, "scored": n used, "excluded": N - n,
    "summary": one line on the excluded rows ("" if none)}``. Raises ``DataError`` when no
    row can be scored (or, with ``strict``, at the first row that cannot)."""
    from ..data import DataError
    from ._trainer import metric_names

    run = load_run(directory)
    prep = _prepared(run, path, target=True, unknown=unknown, strict=strict,
                     encoding=encoding, delimiter=delimiter)
    scored = _score(run, prep)
    ok = scored.ok
    if not ok.any():
        raise DataError(f"{path}: none of its {ok.size} rows can be scored ("
                        f"{scored.summary}); nothing to evaluate")
    X = _tensor(prep.X[ok])
    y = run.head.target(np.asarray(prep.y)[ok])
    metrics = evaluate(run.model, (X, y), loss=run.head.loss(),
                       metrics=metric_names(run.head.task))
    return {"metrics": metrics, "rows": int(ok.size), "scored": int(ok.sum()),
            "excluded": int((~ok).sum()), "summary": scored.summary}


class _Scored:
    """The model's outputs for the valid rows of ``prep``; rows whose output (or predicted
    probability/count) is not finite become unscored with a reason."""

    def __init__(self, run: LoadedRun, prep):
        self.ok = np.asarray(prep.valid, bool).copy()
        self.reasons = list(prep.reasons)
        n = self.ok.size
        z = np.zeros((n, run.head.units))
        if self.ok.any():
            z[self.ok] = predict(run.model, _tensor(prep.X[self.ok]))._data.reshape(
                int(self.ok.sum()), -1)
        self.pred = run.head.predict(z)
        finite = np.isfinite(z).all(axis=1)
        for key in ("probabilities", "values"):
            if key in self.pred:
                v = self.pred[key]
                finite &= np.isfinite(v).reshape(n, -1).all(axis=1)
        self.bad_out = self.ok & ~finite
        for i in np.flatnonzero(self.bad_out):
            self.reasons[i] = "the model's output is not finite for this row"
        self.ok &= ~self.bad_out
        summary = prep.summary()
        if self.bad_out.any():
            extra = f"{int(self.bad_out.sum())} row(s) with a non-finite model output"
            summary = f"{summary}; {extra}" if summary else \
                f"{int((~self.ok).sum())} of {n} rows cannot be scored: {extra}"
        self.summary = summary


_score = _Scored


def _tensor(a):
    from ..tensor import Tensor

    return Tensor._make(np.ascontiguousarray(a, dtype=np.float32), False, None, 0)


def predict_csv(directory, path, out, *, unknown: str = "error", strict: bool = False,
                id_column=None, encoding=None, delimiter=None) -> dict:
    """Write predictions for the rows of ``path`` to the CSV ``out`` (``"-"``: standard
    output); see the module docstring for the columns and the rules.

    Returns ``{"rows": N, "scored": n, "unscored": N - n, "summary": one line}``."""
    from ..data import resolve_csv

    run = load_run(directory)
    if out not in (None, "-"):
        source = resolve_csv(path)
        _check_writable(out, (source, run.directory / "config.json",
                              run.directory / "model.safetensors"))
    prep = _prepared(run, path, target=False, unknown=unknown, strict=strict,
                     id_column=id_column, encoding=encoding, delimiter=delimiter)
    scored = _score(run, prep)
    ok, reasons, pred = scored.ok, scored.reasons, scored.pred
    n = ok.size
    classes = run.config.get("classes")
    idc = run.preprocessor.id_column if prep.ids is not None else None
    header = ["row"] + ([idc] if idc else []) + ["prediction"]
    if "classes" in pred:
        p = pred["probabilities"]
        if p.ndim == 1:
            p = np.stack([1 - p, p], axis=1)
        header += [f"p_{c}" for c in classes]
    header.append("reason")
    numbers = (prep.rows if prep.rows is not None else np.arange(n) + 1).astype(np.int64)
    labels = [_csvout.quoted(safe_cell(str(c))) for c in classes] + [""] \
        if "classes" in pred else None
    parts = [_csvout.to_text(header, [], safe_cell)]
    for lo in range(0, n, _CHUNK):  # text one slice at a time: cells of 1e6 rows are ~300 MB
        sl = slice(lo, min(n, lo + _CHUNK))
        good = ok[sl]
        columns = [_csvout.numbers(numbers[sl], "%d")]
        if idc:
            columns.append(_csvout.text_column(prep.ids[sl], safe_cell))
        if labels is not None:
            k = np.where(good, pred["classes"][sl], len(classes))
            columns.append([labels[i] for i in k.tolist()])
            columns += [_blank(_csvout.numbers(p[sl, j]), good) for j in range(p.shape[1])]
        else:
            columns.append(_blank(_csvout.numbers(pred["values"][sl]), good))
        columns.append(_csvout.text_column(
            ["" if g else (r or "cannot be scored") for g, r in zip(good, reasons[sl])],
            safe_cell))
        parts.append(_csvout.rows_text(columns))
    _write_text(out, "".join(parts))
    unscored = int((~ok).sum())
    return {"rows": n, "scored": int(ok.sum()), "unscored": unscored,
            "summary": scored.summary}


_CHUNK = 65536


def _blank(cells: list[str], ok: np.ndarray) -> list[str]:
    """Empty cells where the row is not scored."""
    if not ok.all():
        for i in np.flatnonzero(~ok).tolist():
            cells[i] = ""
    return cells


def _check_writable(out, protect=()) -> None:
    """Fail before reading anything when ``out`` cannot take the predictions, or is one of
    the files ``protect`` (the input CSV, the run's model and config): one ``ValueError``
    naming ``--out`` and what to do."""
    path = os.fspath(out)
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    if os.path.isdir(path):
        raise ValueError(f"--out {path} is a directory; give a file name for the predictions")
    for f in protect:
        try:
            if os.path.exists(path) and os.path.samefile(path, f):
                raise ValueError(f"--out {path} is {f}, which predict reads; write the "
                                 "predictions to another file")
        except OSError:
            pass
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"--out {path}: {os.path.dirname(path) or folder} is not a directory")
    if not os.path.isdir(folder):
        raise ValueError(f"--out {path}: the directory {os.path.dirname(path) or folder} does "
                         "not exist; create it first")
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    name = os.path.basename(full).encode("utf-8", "surrogateescape")
    if len(name) > limit:
        raise ValueError(f"--out: the file name is {len(name)} bytes long, more than the "
                         f"{limit} this file system allows")
    if os.path.exists(path) and not os.path.isfile(path):
        return  # /dev/null, /dev/stdout, a FIFO: written in place
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--out {path}: cannot write in {os.path.dirname(path) or folder} "
                         "(permission denied)")
