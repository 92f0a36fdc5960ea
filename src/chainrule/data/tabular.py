"""``load_csv``: a CSV file -> standardized, split tensors plus a report of what was inferred.

Inference rules (all overridable by arguments):

* **Reading.** ``pyarrow.csv`` parses the file on several threads into typed columns
  (see ``read_csv``: delimiter sniffed among ``,``/``;``/tab, UTF-8 with or without BOM
  unless ``encoding`` is given).
* **Index column.** A first column with an empty header (R's ``write.csv`` row names, or
  pandas' ``Unnamed: 0``) is a row index and is dropped.
* **Feature kinds.** A column whose non-missing values all parse as numbers is numeric,
  even with few distinct integer values (0/1 flags and ordinal codes such as ``Slope`` stay
  numeric); any other column is categorical and is one-hot encoded with its categories in
  sorted order. Name integer-coded categories in ``categorical=`` to one-hot them. A text
  column with more than ``max_categories`` categories is refused (it looks like free text
  or an id). Categories are collected from all kept rows; means, stds and fill values from
  the training split only.
* **Target kind** (``task="auto"``): see ``chainrule.data._infer`` — two values binary,
  text or at most ``max_classes`` integers multiclass, non-integers regression, integers
  counts only when they look like counts (non-negative, starting at 0 or 1, not
  left-skewed), else regression. ``CSVData.info["task_reason"]`` says why. Classes are
  sorted (numbers numerically), so ``No, Yes`` gives ``Yes`` = 1.
* **Bad values.** ``inf``, ``-inf`` (and ``nan`` when it is not an NA token) in a feature
  or the target are refused, naming the column and the first data row. Too many classes
  for the rows, a class of one row, or too few rows to split are refused.
* **Missing values** are the tokens ``'', NA, N/A, NaN, nan, NAN, null, NULL, ?``. Rows with a
  missing target are always dropped; with ``impute=None`` (the default, ``missing="drop"``)
  rows with any missing feature are dropped and counted in the report; with
  ``impute="mean"|"median"|"most_frequent"`` they are filled with the training split's
  statistic (categorical columns: the most frequent category).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from ..utils.data import TensorDataset
from ._csvread import nfc, read_csv
from ._encode import target_codes, target_numbers
from ._numeric_text import numeric_text_problem
from ._infer import (TASKS, check_classes, check_rows, check_splits, check_target_range,
                     infer_task)
from ._split import split_indices
from ._table import NA_VALUES, DataError, short_list
from .preprocess import Preprocessor, impute_rule

__all__ = ["CSVData", "load_csv"]

_SPLITS = ("train", "val", "test")


def _tensor(arr: np.ndarray) -> Tensor:
    return Tensor._make(arr, False, None, 0)


@dataclass
class CSVData:
    """The result of ``load_csv``: split tensors, names, the fitted preprocessor, a report.

    Features are float32 ``(N, F)``. Targets are int64 class indices ``(N,)`` for ``binary``
    and ``multiclass`` (what ``CrossEntropyLoss`` takes; for ``BCEWithLogitsLoss`` use
    ``y.float().unsqueeze(1)`` or load with ``binary_float=True``), float32 ``(N, 1)`` for
    ``regression`` and ``count`` (matching a model's ``(N, 1)`` output). ``ids`` holds the
    ``id_column`` cells of each split (``{"train": [...], ...}``) and ``rows`` the 1-based
    data row numbers of each split's rows in the file.
    """

    X_train: Tensor
    y_train: Tensor
    X_val: Tensor
    y_val: Tensor
    X_test: Tensor
    y_test: Tensor
    feature_names: list[str]
    classes: list | None
    task: str
    target: str
    preprocessor: Preprocessor
    report: str
    info: dict = field(default_factory=dict)
    ids: dict | None = None
    rows: dict | None = None

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)

    def train_dataset(self) -> TensorDataset:
        return TensorDataset(self.X_train, self.y_train)

    def val_dataset(self) -> TensorDataset:
        return TensorDataset(self.X_val, self.y_val)

    def test_dataset(self) -> TensorDataset:
        return TensorDataset(self.X_test, self.y_test)

    def __repr__(self) -> str:
        return (f"CSVData(task={self.task!r}, target={self.target!r}, features={self.n_features}, "
                f"train={self.X_train.shape[0]}, val={self.X_val.shape[0]}, "
                f"test={self.X_test.shape[0]})")


def _check_args(task, missing, val_split, test_split):
    if task not in TASKS:
        raise ValueError(f"load_csv: task must be one of {TASKS}, got {task!r}")
    if missing not in ("drop", "impute"):
        raise ValueError(f"load_csv: missing must be 'drop' or 'impute', got {missing!r}")
    for name, v in (("val_split", val_split), ("test_split", test_split)):
        if not 0 <= v < 1:
            raise ValueError(f"load_csv: {name} must be a fraction in [0, 1), got {v}")
    if val_split + test_split >= 1:
        raise ValueError(f"load_csv: val_split + test_split = {val_split + test_split} leaves "
                         "no training rows; keep it below 1")


def _columns(table, target, features, drop, id_column, categorical):
    """Validate the column options; return (features, notes)."""
    notes, cols = [], list(table.header)
    avail = lambda: short_list(cols, 40)  # noqa: E731
    named = set(features or []) | set(drop) | {target, id_column}
    if cols[0] in ("", "Unnamed: 0") and cols[0] not in named:
        notes.append("dropped the first column (unnamed: a row index)")
        cols = cols[1:]
    empty = [c for c in cols if c == "" and c not in named and table.columns[c].missing.all()]
    if empty:  # "a,b,y," : a trailing delimiter makes an unnamed, empty last column
        notes.append("dropped an unnamed column with no values (a trailing delimiter)")
        cols = [c for c in cols if c not in empty]
    if target not in table.columns:
        hint = _did_you_mean(target, cols)
        if len(table.header) == 1 and any(d in table.header[0] for d in ",;\t|"):
            hint = " (the header was read as one column: pass the right delimiter=, --delimiter)"
        raise DataError(f"target column {target!r} not found in {table.name}{hint}; "
                        f"available columns: {avail()}")
    for what, names in (("feature", features or []), ("drop", drop),
                        ("id", [id_column] if id_column else [])):
        absent = [f for f in names if f not in table.columns]
        if absent:
            raise DataError(f"{what} column(s) {absent} not found in {table.name}"
                            f"{_did_you_mean(absent[0], cols)}; available columns: {avail()}")
    if target in drop or target == id_column:
        raise DataError(f"the target {target!r} cannot be dropped or be the id column")
    if features is None:
        features = [c for c in cols if c not in (target, id_column) and c not in drop]
    else:
        both = [f for f in features if f in drop]
        if both:
            raise DataError(f"column(s) {both} are both in features and in drop")
    if target in features:
        raise DataError(f"the target {target!r} cannot also be a feature")
    if id_column is not None and id_column in features:
        raise DataError(f"the id column {id_column!r} cannot also be a feature")
    if not features:
        raise DataError(f"{table.name} has no feature columns besides the target {target!r}")
    bad = [c for c in categorical if c not in features]
    if bad:
        raise DataError(f"categorical column(s) {bad} are not among the features {features}")
    if drop:
        notes.append(f"dropped column(s) {short_list(drop)} (as asked)")
    if id_column:
        notes.append(f"id column {id_column!r}: kept out of the features, passed through")
    return list(features), notes


def _did_you_mean(name: str, cols: list[str]) -> str:
    """`` (did you mean 'AHD'?)`` when a column differs from ``name`` only in case or
    surrounding spaces, else ``""``."""
    key = str(name).strip().casefold()
    close = [c for c in cols if c.strip().casefold() == key]
    return f" (did you mean {close[0]!r}? names are case-sensitive)" if close else ""


def _refuse_non_finite(table, names, categorical) -> None:
    for name in names:
        col = table.columns[name]
        if col.kind != "number" or name in categorical:
            continue
        bad = ~col.missing & ~np.isfinite(col.values)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"column {name!r} of {table.name} has a non-finite value "
                            f"({col.values[i]}) in {table.where(i)}; inf/-inf/NaN written as "
                            "numbers would make every loss NaN: fix the cell, or leave it "
                            "empty to make it a missing value (impute=... / --impute)")


def load_csv(path, target: str, *, task: str = "auto", features: list[str] | None = None,
             categorical: list[str] | None = None, missing: str = "drop",
             val_split: float = 0.0, test_split: float = 0.2, stratify: bool = True,
             standardize: bool = True, seed: int = 0, max_classes: int = 10,
             max_categories: int = 50, binary_float: bool = False,
             na_values: tuple[str, ...] = NA_VALUES, delimiter: str | None = None,
             encoding: str | None = None, impute: str | None = None,
             drop: list[str] | None = None, id_column: str | None = None) -> CSVData:
    """Load a CSV file as standardized train/validation/test tensors for ``target``.

    ``X = preprocess(features)`` (numeric: ``(x - mean_train) / std_train``; categorical:
    one-hot), ``y = encode(target)``; see the module docstring for the inference rules.

    Args:
        path: the CSV file (header row required), or a built-in dataset name (``"heart"``).
        target: the column to predict.
        task: ``"auto"``, ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"count"``.
        features: input columns (default: all but the target, the id column, the dropped
            columns and a row-index column).
        categorical: columns to one-hot even though they are numeric.
        missing: ``"drop"`` rows with missing features, or ``"impute"`` them (the median);
            kept for compatibility, ``impute`` says more.
        val_split, test_split: fractions of the kept rows for validation and test.
        stratify: keep the class balance in every split (classification only).
        standardize: standardize numeric features with training mean and std.
        seed: seed of the split.
        max_classes: most distinct integer target values still read as classes.
        max_categories: most categories a text feature may have (more looks like free text
            or an id: leave it out with ``drop=`` or name it ``id_column``).
        binary_float: binary targets as float32 ``(N, 1)`` 0/1 (for ``BCEWithLogitsLoss``).
        na_values: cell values read as missing.
        delimiter: field separator; default sniffed among ``,``, ``;`` and tab.
        encoding: the file's text encoding (e.g. ``"latin-1"``); default UTF-8.
        impute: ``None``/``"drop"`` (drop rows with a missing feature), ``"mean"``,
            ``"median"`` or ``"most_frequent"`` (fill from the training split; categorical
            columns get their most frequent category). Overrides ``missing``.
        drop: columns to leave out of the features.
        id_column: a column kept out of the features and passed through (``CSVData.ids``,
            and ``Preprocessor.prepare(...).ids`` at predict time).

    Shape: ``X_*`` ``(N_split, F)`` float32; ``y_*`` ``(N_split,)`` int64 for classes,
    ``(N_split, 1)`` float32 otherwise.

    Example::

        ds = load_csv("Heart.csv", target="AHD", val_split=0.1)
        print(ds.report)
        model = nn.Linear(ds.n_features, 2)
    """
    _check_args(task, missing, val_split, test_split)
    rule = impute_rule(impute) if impute is not None else \
        ("median" if missing == "impute" else None)
    categorical, drop = [nfc(c) for c in categorical or []], [nfc(c) for c in drop or []]
    target, id_column = nfc(target), nfc(id_column) if id_column else id_column
    features = None if features is None else [nfc(f) for f in features]
    from .builtin import resolve_dataset

    table = read_csv(resolve_dataset(path), delimiter=delimiter, encoding=encoding, na_values=na_values,
                     text_columns=categorical + ([id_column] if id_column else []))
    features, notes = _columns(table, target, features, drop, id_column, categorical)
    for name in features + [target]:
        mask = table.columns[name].missing
        if mask.all():
            raise DataError(f"column {name!r} in {table.name} has no values (all "
                            f"{mask.size} missing)")
    _refuse_non_finite(table, features + [target], categorical)

    n_read = table.n_rows
    na_target = table.columns[target].missing
    keep, dropped = ~na_target, {}
    if na_target.any():
        dropped[f"missing target {target}"] = int(na_target.sum())
    if rule is None:
        for name in features:
            lost = int((table.columns[name].missing & keep).sum())
            if lost:
                dropped[name] = lost
            keep &= ~table.columns[name].missing
    rows = np.flatnonzero(keep)
    if rows.size < 2:
        raise DataError(f"{table.name}: only {rows.size} row(s) left after dropping rows with "
                        "missing values (try impute='median', --impute median)")

    cat_spec = {}
    for name in features:
        col = table.columns[name]
        if name in categorical or col.kind == "text":
            problem = None if name in categorical else \
                numeric_text_problem(name, col, table.where)
            if problem:
                raise DataError(problem)
            cats = col.take(rows).as_text().present_levels()
            if name not in categorical and len(cats) > max_categories:
                raise DataError(
                    f"column {name!r} looks like free text or an id ({len(cats)} distinct "
                    f"values, more than max_categories={max_categories}): leave it out "
                    f"(drop=[{name!r}], --drop {name}), pass it through as the id column "
                    f"(id_column={name!r}, --id-column {name}), choose the features "
                    f"(features=[...], --features), or raise max_categories "
                    f"(--max-categories {len(cats)})")
            cat_spec[name] = cats

    tcol = table.columns[target].take(rows)
    task, classes, reason = infer_task(target, tcol, task, max_classes)
    pre = Preprocessor(features, cat_spec, standardize=standardize, impute=rule,
                       target=target, task=task, classes=classes, na_values=na_values,
                       id_column=id_column,
                       csv_options={k: v for k, v in (("encoding", encoding),
                                                      ("delimiter", delimiter)) if v})
    is_class = classes is not None
    y_all = target_codes(tcol, target, classes, []) if is_class else \
        target_numbers(tcol, target, [])
    if not is_class:
        check_target_range(target, y_all, lambda i: table.where(int(rows[i])))
    held_out = val_split > 0 or test_split > 0
    check_rows(int(rows.size), {"val": val_split, "test": test_split})
    if is_class:
        check_classes(target, y_all, classes, tcol.kind == "number", held_out)
    strat = stratify and is_class
    parts = dict(zip(_SPLITS, split_indices(rows.size, val_split, test_split, seed,
                                            y_all if strat else None)))
    check_splits(int(rows.size), {k: len(v) for k, v in parts.items()},
                 {"val": val_split, "test": test_split})
    pre.fit(table, rows=rows[parts["train"]])
    X = {k: pre.prepare(table, rows=rows[idx], strict=True).X for k, idx in parts.items()}
    if is_class and not (binary_float and task == "binary"):
        Y = {k: y_all[idx].astype(np.int64) for k, idx in parts.items()}
    else:
        Y = {k: y_all[idx].astype(np.float32).reshape(-1, 1) for k, idx in parts.items()}
    ids = None
    if id_column:
        cells = table.columns[id_column].take(rows).strings()
        ids = {k: [cells[i] for i in idx.tolist()] for k, idx in parts.items()}
    numbers = {k: rows[idx] + 1 for k, idx in parts.items()}

    info = {"file": table.name, "rows_read": n_read, "rows_kept": int(rows.size),
            "rows_dropped": dropped, "task": task, "task_reason": reason, "classes": classes,
            "categorical": cat_spec, "numeric": pre.numeric, "notes": notes,
            "splits": {k: int(len(v)) for k, v in parts.items()},
            "stratified": strat, "seed": seed, "missing": "impute" if rule else "drop",
            "impute": rule, "dropped_columns": drop, "id_column": id_column}
    if is_class:
        info["class_counts"] = {k: _counts(y_all[idx], classes)
                                for k, idx in (("all", np.arange(rows.size)), *parts.items())}
    report = _report(info, pre)
    return CSVData(_tensor(X["train"]), _tensor(Y["train"]), _tensor(X["val"]),
                   _tensor(Y["val"]), _tensor(X["test"]), _tensor(Y["test"]),
                   pre.feature_names, classes, task, target, pre, report, info, ids, numbers)


def _counts(y, classes) -> dict:
    c = np.bincount(np.asarray(y, np.int64), minlength=len(classes))
    return {str(classes[i]): int(c[i]) for i in range(len(classes))}


def _balance(counts: dict, limit: int = 20) -> str:
    total = sum(counts.values()) or 1
    items = list(counts.items())
    text = ", ".join(f"{k}: {v} ({100 * v / total:.0f}%)" for k, v in items[:limit])
    return text + (f", ... (+{len(items) - limit} more)" if len(items) > limit else "")


_FILL = {"mean": "mean", "median": "median", "most_frequent": "most frequent value"}


def _report(info: dict, pre: Preprocessor) -> str:
    lines = [f"{info['file']}: {info['rows_read']} rows read, {info['rows_kept']} kept"]
    lines += [f"  {n}" for n in info["notes"]]
    if info["rows_dropped"]:
        total = info["rows_read"] - info["rows_kept"]
        per = ", ".join(f"{k}: {v}" for k, v in info["rows_dropped"].items())
        lines.append(f"  dropped {total} rows with missing values ({per})")
    if info["impute"]:
        lines.append(f"  missing feature values imputed with the training "
                     f"{_FILL[info['impute']]} (categorical: most frequent category)")
    lines.append(f"  target {pre.target!r}: {info['task']} ({info['task_reason']})")
    if info["classes"] is not None:
        lines.append(f"    classes [{short_list(info['classes'], 20)}] -> indices "
                     f"0..{len(info['classes']) - 1}; balance "
                     f"{_balance(info['class_counts']['all'])}")
    lines.append(f"  features: {len(pre.features)} columns -> {len(pre.feature_names)} inputs")
    for name in pre.features:
        if name in pre.categories:
            cats = pre.categories[name]
            lines.append(f"    {name}: categorical, one-hot over {len(cats)} categories "
                         f"[{short_list(cats, 20)}]")
        else:
            lines.append(f"    {name}: numeric (train mean {pre.mean[name]:.4g}, "
                         f"std {pre.std[name]:.4g})")
    how = "stratified" if info["stratified"] else "random"
    parts = []
    for k in _SPLITS:
        s = f"{k} {info['splits'][k]}"
        if info["classes"] is not None and info["splits"][k]:
            s += f" ({_balance(info['class_counts'][k])})"
        parts.append(s)
    lines.append(f"  splits ({how}, seed {info['seed']}): " + "; ".join(parts))
    if pre.standardize and pre.numeric:
        lines.append("  numeric features standardized with training-split mean/std only")
    return "\n".join(lines)
