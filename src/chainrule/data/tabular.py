"""``load_csv``: a CSV file -> standardized, split tensors plus a report of what was inferred.

Inference rules (all overridable by arguments):

* **Index column.** A first column with an empty header (R's ``write.csv`` row names, or
  pandas' ``Unnamed: 0``) is a row index and is dropped.
* **Feature kinds.** A column whose non-missing values all parse as numbers is numeric,
  even with few distinct integer values (0/1 flags and ordinal codes such as ``Slope`` stay
  numeric); any other column is categorical and is one-hot encoded with its categories in
  sorted order. Name integer-coded categories in ``categorical=`` to one-hot them.
  Categories are collected from all kept rows; means, stds and fill values from the
  training split only.
* **Target kind** (``task="auto"``): two distinct values -> ``binary``; non-numeric values
  -> ``multiclass``; integers with at most ``max_classes`` distinct values -> ``multiclass``;
  other non-negative integers -> ``count``; anything else -> ``regression``. Classes are
  sorted (numbers numerically), so ``No, Yes`` gives ``Yes`` = 1.
* **Missing values** are the tokens ``'', NA, N/A, NaN, nan, NAN, null, NULL, ?``. Rows with a
  missing target are always dropped; ``missing="drop"`` drops rows with any missing feature,
  ``missing="impute"`` fills them with the training median (numeric) or mode (categorical).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from ..utils.data import TensorDataset
from ._split import split_indices
from ._table import NA_VALUES, DataError, category_key, is_missing, is_numeric, read_table
from .preprocess import Preprocessor

__all__ = ["CSVData", "load_csv"]

TASKS = ("auto", "binary", "multiclass", "regression", "count")


def _tensor(arr: np.ndarray) -> Tensor:
    return Tensor._make(arr, False, None, 0)


@dataclass
class CSVData:
    """The result of ``load_csv``: split tensors, names, the fitted preprocessor, a report.

    Features are float32 ``(N, F)``. Targets are int64 class indices ``(N,)`` for ``binary``
    and ``multiclass`` (what ``CrossEntropyLoss`` takes; for ``BCEWithLogitsLoss`` use
    ``y.float().unsqueeze(1)`` or load with ``binary_float=True``), float32 ``(N, 1)`` for
    ``regression`` and ``count`` (matching a model's ``(N, 1)`` output).
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


def _infer_task(name, values, task, max_classes) -> tuple[str, list]:
    """The target's task and its sorted classes (None for regression/count)."""
    numeric = is_numeric(values)
    if numeric:
        x = np.array([float(v) for v in values])
        distinct = np.unique(x)
        integer = bool(np.all(distinct == np.round(distinct)))
        labels = [int(v) if integer else float(v) for v in distinct]
    else:
        labels = sorted(set(values))
    k = len(labels)
    if task in ("regression", "count"):
        if not numeric:
            example = next(v for v in values if not is_numeric([v]))
            raise DataError(f"target {name!r} is not numeric (values like {example!r}); "
                            f"task={task!r} needs numbers (use task='auto' for classes)")
        if task == "count" and (not integer or distinct[0] < 0):
            raise DataError(f"target {name!r} has values that are not non-negative integers; "
                            "task='count' needs counts 0, 1, 2, ...")
        return task, None
    if k < 2:
        raise DataError(f"target {name!r} has only one class ({labels[0]!r}); a classifier "
                        "needs at least two")
    if task == "binary" and k != 2:
        raise DataError(f"target {name!r} has {k} classes, task='binary' needs exactly 2 "
                        "(use task='multiclass')")
    if task in ("binary", "multiclass"):
        return task, labels
    if k == 2:
        return "binary", labels
    if not numeric or (integer and k <= max_classes):
        return "multiclass", labels
    if integer and distinct[0] >= 0:
        return "count", None
    return "regression", None


def _missing_mask(table, names, na_values) -> dict[str, np.ndarray]:
    return {n: np.array([v in na_values for v in table.columns[n]], bool) for n in names}


def load_csv(path, target: str, *, task: str = "auto", features: list[str] | None = None,
             categorical: list[str] | None = None, missing: str = "drop",
             val_split: float = 0.0, test_split: float = 0.2, stratify: bool = True,
             standardize: bool = True, seed: int = 0, max_classes: int = 10,
             max_categories: int = 50, binary_float: bool = False,
             na_values: tuple[str, ...] = NA_VALUES, delimiter: str = ",") -> CSVData:
    """Load a CSV file as standardized train/validation/test tensors for ``target``.

    ``X = preprocess(features)`` (numeric: ``(x - mean_train) / std_train``; categorical:
    one-hot), ``y = encode(target)``; see the module docstring for the inference rules.

    Args:
        path: the CSV file (header row required).
        target: the column to predict.
        task: ``"auto"``, ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"count"``.
        features: input columns (default: all but the target and a row-index column).
        categorical: columns to one-hot even though they are numeric.
        missing: ``"drop"`` rows with missing features, or ``"impute"`` them.
        val_split, test_split: fractions of the kept rows for validation and test.
        stratify: keep the class balance in every split (classification only).
        standardize: standardize numeric features with training mean and std.
        seed: seed of the split.
        max_classes: most distinct integer target values still read as classes.
        max_categories: most categories a text column may have (more looks like free text).
        binary_float: binary targets as float32 ``(N, 1)`` 0/1 (for ``BCEWithLogitsLoss``).

    Shape: ``X_*`` ``(N_split, F)`` float32; ``y_*`` ``(N_split,)`` int64 for classes,
    ``(N_split, 1)`` float32 otherwise.

    Example::

        ds = load_csv("Heart.csv", target="AHD", val_split=0.1)
        print(ds.report)
        model = nn.Linear(ds.n_features, 2)
    """
    _check_args(task, missing, val_split, test_split)
    table = read_table(path, delimiter=delimiter)
    notes, cols = [], list(table.header)
    if cols[0] in ("", "Unnamed: 0") and target != cols[0]:
        notes.append("dropped the first column (unnamed: a row index)")
        cols = cols[1:]
    if target not in table.columns:
        raise DataError(f"target column {target!r} not found in {table.name}; available "
                        f"columns: {', '.join(repr(c) for c in cols)}")
    if features is None:
        features = [c for c in cols if c != target]
    absent = [f for f in features if f not in table.columns]
    if absent:
        raise DataError(f"feature column(s) {absent} not found in {table.name}; available "
                        f"columns: {', '.join(repr(c) for c in cols)}")
    if target in features:
        raise DataError(f"the target {target!r} cannot also be a feature")
    if not features:
        raise DataError(f"{table.name} has no feature columns besides the target {target!r}")
    categorical = list(categorical or [])
    bad = [c for c in categorical if c not in features]
    if bad:
        raise DataError(f"categorical column(s) {bad} are not among the features {features}")

    na = _missing_mask(table, features + [target], set(na_values))
    for name, mask in na.items():
        if mask.all():
            raise DataError(f"column {name!r} in {table.name} has no values (all "
                            f"{mask.size} missing)")
    n_read = table.n_rows
    keep = ~na[target]
    dropped = {}
    if na[target].any():
        dropped[f"missing target {target}"] = int(na[target].sum())
    if missing == "drop":
        for name in features:
            lost = int((na[name] & keep).sum())
            if lost:
                dropped[name] = lost
            keep &= ~na[name]
    rows = np.flatnonzero(keep)
    if rows.size < 2:
        raise DataError(f"{table.name}: only {rows.size} row(s) left after dropping rows with "
                        "missing values (try missing='impute')")
    data = {n: [table.columns[n][i] for i in rows] for n in features + [target]}

    # feature kinds
    cat_spec = {}
    for name in features:
        present = [v for v in data[name] if not is_missing(v, na_values)]
        if name in categorical or not is_numeric(present):
            cats = sorted({category_key(v) for v in present})
            if name not in categorical and len(cats) > max_categories:
                raise DataError(f"column {name!r} looks like free text ({len(cats)} distinct "
                                "values); leave it out with features=[...] or raise "
                                "max_categories")
            cat_spec[name] = cats

    y_raw = data[target]
    task, classes = _infer_task(target, y_raw, task, max_classes)
    pre = Preprocessor(features, cat_spec, standardize=standardize,
                       impute=missing == "impute", target=target, task=task, classes=classes,
                       na_values=na_values)
    y_all = pre.encode_target(y_raw)
    is_class = classes is not None
    strat = stratify and is_class
    tr, va, te = split_indices(rows.size, val_split, test_split, seed,
                               y_all if strat else None)
    pick = lambda idx: {n: [data[n][i] for i in idx] for n in features}  # noqa: E731
    pre.fit(pick(tr))
    X = {k: pre.transform_array(pick(idx)) for k, idx in (("train", tr), ("val", va),
                                                          ("test", te))}
    if is_class and not (binary_float and task == "binary"):
        Y = {k: y_all[idx].astype(np.int64) for k, idx in (("train", tr), ("val", va),
                                                           ("test", te))}
    else:
        Y = {k: y_all[idx].astype(np.float32).reshape(-1, 1)
             for k, idx in (("train", tr), ("val", va), ("test", te))}

    info = {"file": table.name, "rows_read": n_read, "rows_kept": int(rows.size),
            "rows_dropped": dropped, "task": task, "classes": classes,
            "categorical": cat_spec, "numeric": pre.numeric, "notes": notes,
            "splits": {k: int(len(v)) for k, v in (("train", tr), ("val", va), ("test", te))},
            "stratified": strat, "seed": seed, "missing": missing}
    if is_class:
        info["class_counts"] = {k: _counts(y_all[idx], classes)
                                for k, idx in (("all", np.arange(rows.size)), ("train", tr),
                                               ("val", va), ("test", te))}
    report = _report(info, pre)
    return CSVData(_tensor(X["train"]), _tensor(Y["train"]), _tensor(X["val"]),
                   _tensor(Y["val"]), _tensor(X["test"]), _tensor(Y["test"]),
                   pre.feature_names, classes, task, target, pre, report, info)


def _counts(y, classes) -> dict:
    c = Counter(int(v) for v in y)
    return {str(classes[i]): c.get(i, 0) for i in range(len(classes))}


def _balance(counts: dict) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{k}: {v} ({100 * v / total:.0f}%)" for k, v in counts.items())


def _report(info: dict, pre: Preprocessor) -> str:
    lines = [f"{info['file']}: {info['rows_read']} rows read, {info['rows_kept']} kept"]
    lines += [f"  {n}" for n in info["notes"]]
    if info["rows_dropped"]:
        total = info["rows_read"] - info["rows_kept"]
        per = ", ".join(f"{k}: {v}" for k, v in info["rows_dropped"].items())
        lines.append(f"  dropped {total} rows with missing values ({per})")
    elif info["missing"] == "impute":
        lines.append("  missing feature values imputed with the training median / mode")
    lines.append(f"  target {pre.target!r}: {info['task']}")
    if info["classes"] is not None:
        lines.append(f"    classes {info['classes']} -> indices 0..{len(info['classes']) - 1}; "
                     f"balance {_balance(info['class_counts']['all'])}")
    lines.append(f"  features: {len(pre.features)} columns -> {len(pre.feature_names)} inputs")
    for name in pre.features:
        if name in pre.categories:
            cats = pre.categories[name]
            lines.append(f"    {name}: categorical, one-hot over {len(cats)} categories "
                         f"{cats}")
        else:
            lines.append(f"    {name}: numeric (train mean {pre.mean[name]:.4g}, "
                         f"std {pre.std[name]:.4g})")
    how = "stratified" if info["stratified"] else "random"
    parts = []
    for k in ("train", "val", "test"):
        s = f"{k} {info['splits'][k]}"
        if info["classes"] is not None and info["splits"][k]:
            s += f" ({_balance(info['class_counts'][k])})"
        parts.append(s)
    lines.append(f"  splits ({how}, seed {info['seed']}): " + "; ".join(parts))
    if pre.standardize and pre.numeric:
        lines.append("  numeric features standardized with training-split mean/std only")
    return "\n".join(lines)
