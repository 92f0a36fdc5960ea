"""What kind of target a column is, why, and whether its classes and rows can be split.

The task rule (``task="auto"``), in order:

1. two distinct values -> ``binary``;
2. any non-numeric value -> ``multiclass``;
3. integers with at most ``max_classes`` (10) distinct values -> ``multiclass``;
4. non-integer numbers -> ``regression``;
5. other integers -> ``count`` only when they look like counts of events: all
   non-negative, the smallest value 0 or 1 (counts start at the floor) and not
   left-skewed (sample skewness g1 = mean((x - mean)^3) / sd^3 not below
   -2 sqrt(6 / n), two standard errors: counts pile up near zero with a tail to the
   right, like Poisson's 1/sqrt(lambda)). Otherwise they are a quantity measured in whole
   units (prices, exam scores, a disease-progression index 25..346) -> ``regression``.

Each decision comes with a one-line reason for the report, e.g. ``"integer values 25..346
with 214 distinct values, smallest 25 (counts start at 0 or 1): treated as continuous"``.

Class checks (classification targets): more than two classes and more classes than
rows / 5 (fewer than five rows per class on average) is refused, as is, when rows are held
out for validation or test, a class with fewer than 2 rows. A dataset split into holdout
sets needs at least ``MIN_ROWS`` rows and no requested split may come out empty.
"""

from __future__ import annotations

import numpy as np

from ._table import Column, DataError, short_list

__all__ = ["MAX_TARGET", "MIN_ROWS", "TASKS", "check_classes", "check_rows", "check_splits",
           "check_target_range", "infer_task"]

TASKS = ("auto", "binary", "multiclass", "regression", "count")
#: The fewest rows a dataset split into train/validation/test may have.
MIN_ROWS = 10
#: The largest magnitude of a regression or count target: chainrule trains in float32, whose
#: squared errors overflow above ~1.8e19 (and values above ~3.4e38 are inf outright).
MAX_TARGET = 1e18
_OVERRIDE = "use task='regression' (--task regression) to override"


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _count_reason(x: np.ndarray, distinct: np.ndarray) -> tuple[str, str]:
    lo, hi, k = distinct[0], distinct[-1], distinct.size
    head = f"integer values {_fmt(lo)}..{_fmt(hi)} with {k} distinct values"
    if lo < 0:
        return "regression", f"{head}, some negative: treated as continuous"
    if lo > 1:
        return "regression", (f"{head}, smallest {_fmt(lo)} (counts start at 0 or 1): "
                              "treated as continuous")
    sd = float(x.std())
    skew = float(np.mean((x - x.mean()) ** 3)) / sd ** 3 if sd > 0 else 0.0
    limit = -2.0 * np.sqrt(6.0 / x.size)   # two standard errors of the sample skewness
    if skew < limit:
        return "regression", (f"{head}, left-skewed (skewness {skew:.2f} < {limit:.2f}): "
                              "treated as continuous")
    return "count", (f"non-negative {head}, from {_fmt(lo)}, not left-skewed (skewness "
                     f"{skew:.2f}): counts, Poisson loss; {_OVERRIDE}")


def infer_task(name: str, col: Column, task: str = "auto",
               max_classes: int = 10) -> tuple[str, list | None, str]:
    """(task, sorted class labels or None, reason) for the target cells ``col`` (missing
    cells are ignored). Raises ``DataError`` when ``task`` cannot fit the values."""
    present = ~col.missing
    numeric = col.kind == "number"
    if numeric:
        x = col.values[present]
        distinct = np.unique(x)
        integer = bool(np.all(distinct == np.round(distinct)))
        labels = [int(v) if integer else float(v) for v in distinct]
    else:
        labels = col.present_levels()
    k = len(labels)
    if task in ("regression", "count"):
        if not numeric:
            example = labels[0] if labels else None
            raise DataError(f"target {name!r} is not numeric (values like {example!r}); "
                            f"task={task!r} needs numbers (use task='auto' for classes)")
        if task == "count" and (not integer or distinct[0] < 0):
            raise DataError(f"target {name!r} has values that are not non-negative integers; "
                            "task='count' needs counts 0, 1, 2, ...")
        return task, None, f"as asked (task={task!r})"
    if k < 2:
        raise DataError(f"target {name!r} has only one class ({labels[0]!r}); a classifier "
                        "needs at least two")
    if task == "binary" and k != 2:
        raise DataError(f"target {name!r} has {k} classes, task='binary' needs exactly 2 "
                        "(use task='multiclass')")
    if task in ("binary", "multiclass"):
        return task, labels, f"as asked (task={task!r})"
    if k == 2:
        return "binary", labels, f"two distinct values: {labels[0]!r}, {labels[1]!r}"
    if not numeric:
        return "multiclass", labels, f"text values: {k} classes"
    if integer and k <= max_classes:
        return "multiclass", labels, (f"{k} distinct integer values (at most max_classes="
                                      f"{max_classes}): treated as classes; use task="
                                      "'regression' (--task regression) if they are amounts")
    if not integer:
        return "regression", None, (f"non-integer values {_fmt(distinct[0])}.."
                                    f"{_fmt(distinct[-1])}: continuous")
    task, reason = _count_reason(x, distinct)
    return task, None, reason


def check_classes(name: str, y: np.ndarray, classes: list, numeric: bool,
                  split: bool) -> np.ndarray:
    """Refuse too many classes for the rows, or (when ``split``) a class with fewer than 2
    rows; return the rows per class."""
    counts = np.bincount(y, minlength=len(classes))
    n, k = int(y.size), len(classes)
    if k > 2 and k > n / 5:
        what = ("if the values are amounts, use task='regression' (--task regression)"
                if numeric else "it looks like free text or an id, not a label")
        raise DataError(f"target {name!r} has {k} classes in {n} rows (more than rows/5 = "
                        f"{n // 5}: fewer than 5 rows per class); {what}; or drop the rows of "
                        "rare classes, or choose another target (--target)")
    if split:
        rare = [classes[i] for i in np.flatnonzero(counts < 2)]
        if rare:
            raise DataError(f"target {name!r}: class(es) {short_list(rare)} have a single row, "
                            "which cannot be split into train and test; drop their rows (or "
                            "merge rare classes), or use task='regression' (--task "
                            "regression) if the target is an amount")
    return counts


def check_rows(n: int, fractions: dict) -> None:
    """Refuse to hold rows out of a dataset of fewer than ``MIN_ROWS`` rows."""
    if any(fractions.values()) and n < MIN_ROWS:
        raise DataError(f"only {n} usable rows: too few to split into train/validation/test "
                        f"(need at least {MIN_ROWS}); add rows, or train on all of them with "
                        "val_split=0 and test_split=0 (--val-split 0 --test-split 0)")


def check_splits(n: int, sizes: dict, fractions: dict) -> None:
    """Refuse a requested split that comes out empty, or fewer than 2 training rows."""
    if not any(fractions.values()):
        return
    for k, frac in fractions.items():
        if frac > 0 and sizes[k] == 0:
            raise DataError(f"{k}_split={frac} of {n} rows gives an empty {k} split; raise it "
                            f"or set it to 0 (--{k}-split)")
    if sizes["train"] < 2:
        raise DataError(f"the splits leave {sizes['train']} training row(s) of {n}; lower "
                        "val_split/test_split")


def check_target_range(name: str, y: np.ndarray, where) -> None:
    """Refuse a numeric target with a value beyond :data:`MAX_TARGET` in magnitude
    (``where(i)`` names row ``i`` of ``y``)."""
    big = np.abs(y) > MAX_TARGET
    if big.any():
        i = int(np.argmax(np.abs(y)))
        raise DataError(f"target {name!r} has values up to {y[i]:.4g} (in {where(i)}): too "
                        f"large to train on in float32 (beyond {MAX_TARGET:.0e} squared "
                        "errors overflow); rescale the column, e.g. express it in thousands "
                        "or millions of its unit")
