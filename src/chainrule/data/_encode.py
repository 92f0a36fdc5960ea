"""Column encoders with per-row validity: the vectorized inside of ``Preprocessor``.

Each encoder fills its block of the feature matrix for every row and returns the rows it
could not encode as :class:`Problem` s (a mask, the column, what is wrong). A row with a
problem is never scored: its features are zeroed and :class:`Prepared` carries a reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ._table import Column, DataError, short_list

__all__ = ["Prepared", "Problem"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Problem:
    """Rows ``mask`` of ``column`` cannot be used because of ``kind``: ``"missing"``,
    ``"not a number"``, ``"non-finite"``, ``"unknown category"`` or ``"unknown class"``."""

    mask: np.ndarray
    column: str
    kind: str
    cells: Column | None = None   # the column's cells, to quote the offending value

    def value(self, i: int):
        return None if self.cells is None else self.cells[i]

    def reason(self, i: int) -> str:
        if self.kind == "missing":
            return f"missing value in {self.column!r}"
        v = self.value(i)
        if self.kind == "non-finite":
            return f"non-finite value {v} in {self.column!r}"
        if self.kind == "not a number":
            return f"{self.column!r} = {v!r} is not a number"
        if self.kind == "out of range":
            return (f"value {v:.6g} in {self.column!r} is too far outside the training range "
                    "(beyond float32 once standardized)")
        return f"{self.kind} {v!r} in {self.column!r}"


@dataclass
class Prepared:
    """Rows made ready for a model, with the rows that cannot be scored and why.

    Attributes:
        X: float32 ``(N, F)`` features; all zeros in invalid rows.
        valid: bool ``(N,)``; False for a row with a missing value (without imputation),
            a non-finite number, a non-number in a numeric column, an unseen category
            (with ``unknown="error"``), or a missing/unknown target (when asked for).
        reasons: ``(N,)`` None for valid rows, else a string such as
            ``"missing value in 'Ca'; unknown category 'weird' in 'Thal'"``.
        y: the encoded target (class indices int64 with -1, or float64 with NaN, in
            invalid rows) when ``target=True``, else None.
        ids: the id column's cells as strings when the preprocessor has an ``id_column``
            present in the data, else None.
        rows: 1-based data row numbers ``(N,)`` (the header is not counted).
    """

    X: np.ndarray
    valid: np.ndarray
    reasons: list[str | None]
    y: np.ndarray | None = None
    ids: list[str] | None = None
    rows: np.ndarray | None = None
    counts: dict = field(default_factory=dict)

    @property
    def n_invalid(self) -> int:
        return int((~self.valid).sum())

    def summary(self) -> str:
        """One line: ``"2 of 303 rows cannot be scored: missing value in 'Ca' (2)"``, or
        ``""`` when every row is valid."""
        if self.valid.all():
            return ""
        parts = ", ".join(f"{k} ({v})" for k, v in self.counts.items())
        return f"{self.n_invalid} of {self.valid.size} rows cannot be scored: {parts}"


_LABELS = {"missing": "missing value", "non-finite": "non-finite value",
           "not a number": "non-number", "out of range": "value out of range"}


def collect(problems: list[Problem], n: int) -> tuple[np.ndarray, list, dict]:
    """(valid mask, per-row reasons (None when valid), counts per problem)."""
    valid = np.ones(n, bool)
    for p in problems:
        valid &= ~p.mask
    reasons = [None] * n
    counts = Counter()
    for p in problems:
        rows = np.flatnonzero(p.mask)
        if rows.size == 0:
            continue
        label = f"{_LABELS.get(p.kind, p.kind)} in {p.column!r}"
        counts[label] += int(rows.size)
        for i in rows.tolist():
            r = p.reason(i)
            reasons[i] = r if not reasons[i] else f"{reasons[i]}; {r}"
    return valid, reasons, dict(counts)


def numbers_block(col: Column, name: str, mean: float, std: float, fill, out: np.ndarray,
                  problems: list) -> None:
    """``out[:] = (x - mean) / std``, missing cells filled with ``fill`` (when not None)."""
    values, bad = col.as_numbers()
    miss = col.missing
    x = values
    if miss.any():
        if fill is None:
            problems.append(Problem(miss, name, "missing"))
        else:
            x = np.where(miss, fill, values)
    if bad.any():
        problems.append(Problem(bad, name, "not a number", col))
    finite = np.isfinite(x)
    if not finite.all():
        inf = ~finite & ~miss & ~bad
        if inf.any():
            problems.append(Problem(inf, name, "non-finite", col))
    with np.errstate(over="ignore", invalid="ignore"):
        z = (x - mean) / std
        huge = np.isfinite(z) & (np.abs(z) > _FLOAT32_MAX)
        if huge.any():  # e.g. 1e300 where training saw numbers near 1: inf in float32
            problems.append(Problem(huge, name, "out of range", col))
            z[huge] = 0.0
        out[:] = z


def one_hot_block(col: Column, name: str, cats: list[str], fill, unknown: str,
                  out: np.ndarray, problems: list) -> None:
    """``out[i, k] = 1`` where row i has category ``cats[k]``; unseen categories are all
    zeros (and a problem when ``unknown="error"``)."""
    col = col.as_text()
    pos = {c: k for k, c in enumerate(cats)}
    lut = np.array([pos.get(lv, -1) for lv in col.levels] + [-2], np.int64)
    k = lut[np.where(col.missing, len(col.levels), col.codes)]
    if col.missing.any():
        if fill is None:
            problems.append(Problem(col.missing, name, "missing"))
        else:
            k[col.missing] = pos[fill]
    unseen = k == -1
    if unseen.any() and unknown == "error":
        problems.append(Problem(unseen, name, "unknown category", col))
    out[:] = 0.0
    rows = np.flatnonzero(k >= 0)
    out[rows, k[rows]] = 1.0


def target_codes(col: Column, name: str, classes: list, problems: list) -> np.ndarray:
    """Class indices of the target cells (-1 where missing or not a known class)."""
    from ._table import category_key

    col = col.as_text()
    pos = {category_key(c): i for i, c in enumerate(classes)}
    lut = np.array([pos.get(lv, -1) for lv in col.levels] + [-1], np.int64)
    y = lut[np.where(col.missing, len(col.levels), col.codes)]
    if col.missing.any():
        problems.append(Problem(col.missing, name, "missing"))
    unknown = (y < 0) & ~col.missing
    if unknown.any():
        problems.append(Problem(unknown, name, "unknown class", col))
    return y


def target_numbers(col: Column, name: str, problems: list) -> np.ndarray:
    values, bad = col.as_numbers()
    if col.missing.any():
        problems.append(Problem(col.missing, name, "missing"))
    if bad.any():
        problems.append(Problem(bad, name, "not a number", col))
    inf = ~np.isfinite(values) & ~col.missing & ~bad
    if inf.any():
        problems.append(Problem(inf, name, "non-finite", col))
    return np.where(np.isfinite(values), values, np.nan)


def first_error(problem: Problem, where, cats=None) -> DataError:
    """The one-line error for the first row of ``problem`` (``where(i)`` names row i)."""
    i = int(np.argmax(problem.mask))
    name, v = problem.column, problem.value(i)
    if problem.kind == "missing":
        return DataError(f"column {name!r} has a missing value in {where(i)} (pass rows "
                         "without NA, or load the training data with impute='median' "
                         "(--impute median))")
    if problem.kind == "unknown category":
        return DataError(f"column {name!r}: unknown category {v!r} in {where(i)}; known "
                         f"categories: [{short_list(cats or [], 20)}] (pass unknown='ignore' "
                         "(--unknown ignore) to encode it as all zeros)")
    if problem.kind == "unknown class":
        return DataError(f"target {name!r}: unknown class {v!r} in {where(i)}; classes: "
                         f"[{short_list(cats or [], 20)}]")
    if problem.kind == "not a number":
        return DataError(f"column {name!r}: value {v!r} ({where(i)}) is not a number; it was "
                         "numeric in the training data")
    if problem.kind == "out of range":
        return DataError(f"column {name!r}: value {v:.6g} in {where(i)} is too far outside "
                         "the training range to score (beyond float32 once standardized)")
    return DataError(f"column {name!r} has a non-finite value ({v}) in {where(i)}; "
                     "chainrule does not score inf/-inf/NaN written as numbers: fix the cell "
                     "or leave it empty (empty cells are missing values)")
