"""``Preprocessor``: raw table columns -> a float32 feature matrix, fitted on training rows.

It is the part of ``load_csv`` that a trained model needs again at predict time, so it is
plain data: ``to_dict()`` gives JSON-serializable lists and numbers, ``from_dict`` rebuilds it
(dicts written by the first version, ``"version": 1``, still load).

At predict time ``prepare`` encodes every row it can and reports the others: a row with a
missing value (when not imputing), a non-finite number, text in a numeric column, or an
unseen category with ``unknown="error"`` gets ``valid=False`` and a reason, never a score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from ..tensor import Tensor
from ._encode import (Prepared, collect, first_error, numbers_block, one_hot_block,
                      target_codes, target_numbers)
from ._table import NA_VALUES, DataError, Table, as_table, category_key

__all__ = ["IMPUTE", "Preprocessor", "Prepared"]

#: Imputation rules: numeric columns get the training mean / median / most frequent value,
#: categorical columns always the most frequent category. ``None`` (or ``"drop"``): none.
IMPUTE = ("mean", "median", "most_frequent")


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation without overflow: numbers beyond ~1e154 would square to
    inf (std inf, every standardized value 0), so such columns are scaled first."""
    scale = float(np.max(np.abs(x))) if x.size else 0.0
    if scale > 1e150:
        z = x / scale
        return float(z.mean()) * scale, float(z.std()) * scale
    return float(x.mean()), float(x.std())


def impute_rule(impute) -> str | None:
    """Normalise ``impute``: True (the first version's flag) -> "median"; False, None,
    "drop", "none" -> None; else one of :data:`IMPUTE`."""
    if impute is True:
        return "median"
    if impute in (False, None, "drop", "none"):
        return None
    if impute not in IMPUTE:
        raise ValueError(f"impute must be one of 'drop', {', '.join(map(repr, IMPUTE))}, "
                         f"got {impute!r}")
    return impute


class Preprocessor:
    """Numeric columns standardized ``(x - mean) / std`` with training statistics;
    categorical columns one-hot encoded ``[x == c for c in categories]``.

    Features keep the column order; a categorical column ``C`` with categories ``a, b``
    becomes the features ``C=a, C=b`` (all categories, no column dropped). Categories not
    given are learned by ``fit`` and sorted, so the order is stable.

    Args:
        features: input column names, in order.
        categorical: ``{name: categories or None}`` for the categorical columns.
        standardize: standardize numeric columns (else mean 0, std 1 are stored).
        impute: ``None``/``"drop"`` (a missing value makes a row invalid), ``"mean"``,
            ``"median"`` or ``"most_frequent"`` (numeric fill; categorical columns get their
            most frequent category); statistics from the rows given to ``fit``. ``True``
            means ``"median"`` (the first version's flag).
        target, task, classes: the target column, its kind and class labels (for
            ``encode_target`` / ``decode_target`` and ``prepare(target=True)``).
        na_values: cell values read as missing.
        id_column: a column passed through to ``Prepared.ids`` (never a feature).
        csv_options: ``{"encoding": ..., "delimiter": ...}`` used by default when reading
            files for this preprocessor (``read_csv``, ``prepare_csv``, ``transform_csv``).

    Shape: ``transform`` maps N rows to ``(N, F)`` with ``F = len(feature_names)``.

    Example::

        pre = Preprocessor(["age", "Thal"], {"Thal": None}).fit(train_rows)
        X = pre.transform([{"age": "63", "Thal": "fixed"}])   # tensor of shape (1, F)
        json.dumps(pre.to_dict())
    """

    def __init__(self, features: Sequence[str], categorical: Mapping | None = None, *,
                 standardize: bool = True, impute=None, target: str | None = None,
                 task: str | None = None, classes: Sequence | None = None,
                 na_values: Sequence[str] = NA_VALUES, id_column: str | None = None,
                 csv_options: Mapping | None = None):
        self.features = list(features)
        categorical = dict(categorical or {})
        unknown = [c for c in categorical if c not in self.features]
        if unknown:
            raise DataError(f"Preprocessor: categorical column(s) {unknown} are not features")
        self.categories = {k: (None if v is None else [category_key(c) for c in v])
                           for k, v in categorical.items()}
        self.standardize = bool(standardize)
        self.impute = impute_rule(impute)
        self.target = target
        self.task = task
        self.classes = None if classes is None else list(classes)
        self.na_values = tuple(na_values)
        self.id_column = id_column
        self.csv_options = dict(csv_options or {})
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.fill: dict[str, float | str] = {}
        self.fitted = False

    # -- fitting ------------------------------------------------------------------
    @property
    def numeric(self) -> list[str]:
        return [f for f in self.features if f not in self.categories]

    @property
    def feature_names(self) -> list[str]:
        names = []
        for f in self.features:
            if f in self.categories:
                names += [f"{f}={c}" for c in self.categories[f] or []]
            else:
                names.append(f)
        return names

    def _table(self, data) -> Table:
        text = list(self.categories) + ([self.id_column] if self.id_column else [])
        return as_table(data, self.features, self.na_values, text)

    def fit(self, data, *, rows=None) -> Preprocessor:
        """Learn categories, means/stds and fill values from the (training) rows ``data``
        (rows given as a list of dicts, columns as a dict of lists, or a ``Table``; with
        ``rows``, an index array, only those rows of it)."""
        table = self._table(data)
        for name in self.features:
            col = table.columns[name] if rows is None else table.columns[name].take(rows)
            if name in self.categories:
                self._fit_categories(name, col.as_text())
            else:
                self._fit_numbers(name, col, table if rows is None else None)
        self.fitted = True
        return self

    def _fit_categories(self, name, col) -> None:
        present = col.codes[~col.missing]
        counts = np.bincount(present, minlength=len(col.levels))
        if self.categories[name] is None:
            self.categories[name] = [lv for lv, c in zip(col.levels, counts) if c]
        if self.impute:
            cats = self.categories[name]
            by_level = dict(zip(col.levels, counts.tolist()))
            n = [by_level.get(c, 0) for c in cats]
            if not cats or max(n) == 0:
                raise DataError(f"column {name!r} has no values to impute from")
            self.fill[name] = cats[int(np.argmax(n))]

    def _fit_numbers(self, name, col, table) -> None:
        values, bad = col.as_numbers()
        if bad.any():
            i = int(np.argmax(bad))
            where = table.where(i) if table is not None else f"row {i + 1}"
            raise DataError(f"column {name!r}: value {col[i]!r} ({where}) is not a number")
        ok = values[~col.missing]
        if ok.size == 0:
            raise DataError(f"column {name!r} has no values in the training rows "
                            "(all missing)")
        if not np.isfinite(ok).all():
            i = int(np.argmax(~np.isfinite(values) & ~col.missing))
            where = table.where(i) if table is not None else f"row {i + 1}"
            raise DataError(f"column {name!r} has a non-finite value ({values[i]}) in "
                            f"{where}; fix the cell or leave it empty (a missing value)")
        if self.impute == "mean":
            self.fill[name] = float(ok.mean())
        elif self.impute == "median":
            self.fill[name] = float(np.median(ok))
        elif self.impute == "most_frequent":
            uniq, counts = np.unique(ok, return_counts=True)
            self.fill[name] = float(uniq[int(np.argmax(counts))])
        mean, std = _mean_std(ok) if self.standardize else (0.0, 1.0)
        self.mean[name] = mean
        self.std[name] = std if std > 0 else 1.0

    # -- transforming -------------------------------------------------------------
    def prepare(self, data, *, target: bool = False, unknown: str = "error",
                strict: bool = False, rows=None) -> Prepared:
        """Encode rows, marking those that cannot be scored instead of failing on them.

        Args:
            data: a ``Table`` (e.g. from ``read_csv``), a dict of column lists or a list
                of row dicts, with the feature columns (and the target when ``target``).
            target: also encode the target column (``Prepared.y``), for evaluation.
            unknown: ``"error"`` (a row with an unseen category is invalid) or
                ``"ignore"`` (encoded as all zeros, valid).
            strict: raise a ``DataError`` at the first invalid row instead.
            rows: only these rows of ``data`` (an index array).

        Returns: a :class:`Prepared` with ``X``, ``valid``, ``reasons``, ``y``, ``ids``.
        """
        if not self.fitted:
            raise DataError("Preprocessor.transform: call fit(...) first (or from_dict)")
        if unknown not in ("error", "ignore"):
            raise ValueError(f"unknown must be 'error' or 'ignore', got {unknown!r}")
        table = self._table(data)
        if target and self.target not in table.columns:
            raise DataError(f"{table.name} lacks the target column {self.target!r}: evaluate "
                            "needs the true values (for rows without them, use predict)")
        pick = (lambda c: c) if rows is None else (lambda c: c.take(rows))
        n = table.n_rows if rows is None else len(rows)
        X = np.empty((n, len(self.feature_names)), np.float32)
        problems, j = [], 0
        for name in self.features:
            col = pick(table.columns[name])
            if name in self.categories:
                cats = self.categories[name]
                one_hot_block(col, name, cats, self.fill.get(name) if self.impute else None,
                              unknown, X[:, j:j + len(cats)], problems)
                j += len(cats)
            else:
                numbers_block(col, name, self.mean[name], self.std[name],
                              self.fill.get(name) if self.impute else None, X[:, j], problems)
                j += 1
        y = None
        if target:
            tcol = pick(table.columns[self.target])
            y = target_codes(tcol, self.target, self.classes, problems) \
                if self.task in ("binary", "multiclass") else \
                target_numbers(tcol, self.target, problems)
        if strict and problems:
            first = min(problems, key=lambda p: int(np.argmax(p.mask)))
            src = rows if rows is not None else np.arange(n)
            cats = self.classes if first.kind == "unknown class" else \
                self.categories.get(first.column)
            raise first_error(first, lambda i: table.where(int(src[i])), cats)
        valid, reasons, counts = collect(problems, n)
        X[~valid] = 0.0
        ids = None
        if self.id_column and self.id_column in table.columns:
            ids = pick(table.columns[self.id_column]).strings()
        numbers = (np.arange(n) if rows is None else np.asarray(rows)) + 1
        return Prepared(X, valid, reasons, y, ids, numbers, counts)

    def transform_rows(self, data, *, unknown: str = "error"):
        """``(X, ok, reasons)``: ``prepare(data, unknown=unknown)`` as a tuple; never raises
        for a row-level problem (``ok[i]`` False, ``reasons[i]`` says why, else None)."""
        p = self.prepare(data, unknown=unknown)
        return p.X, p.valid, p.reasons

    def encode_target_rows(self, values):
        """``(y, ok, reasons)`` for raw target values: class indices (-1 where not ok) or
        float64 numbers (NaN where not ok); a missing, unknown or non-finite target makes a
        row not ok instead of raising."""
        name = self.target or "target"
        table = as_table({name: values}, [], self.na_values)
        problems = []
        y = (target_codes(table.columns[name], name, self.classes, problems)
             if self.task in ("binary", "multiclass") else
             target_numbers(table.columns[name], name, problems))
        ok, reasons, _ = collect(problems, len(table.columns[name]))
        return y, ok, reasons

    def transform_array(self, data, *, unknown: str = "error") -> np.ndarray:
        """Like ``transform`` but returns the float32 NumPy array."""
        return self.prepare(data, unknown=unknown, strict=True).X

    def transform(self, data, *, unknown: str = "error") -> Tensor:
        """Rows (a list of dicts), columns (a dict of lists) or a ``Table`` -> float32
        tensor ``(N, F)``; raises ``DataError`` at the first row it cannot encode.

        Values may be raw CSV strings or numbers; ``unknown='ignore'`` encodes an unseen
        category as all zeros instead of raising. Use ``prepare`` to keep going past
        invalid rows.
        """
        return Tensor._make(self.transform_array(data, unknown=unknown), False, None, 0)

    def read_csv(self, path, *, encoding=None, delimiter=None) -> Table:
        """Read a file for this preprocessor: its categorical and id columns as text, the
        training file's encoding/delimiter unless given."""
        from ._csvread import read_csv

        text = list(self.categories) + ([self.id_column] if self.id_column else [])
        return read_csv(path, encoding=encoding or self.csv_options.get("encoding"),
                        delimiter=delimiter or self.csv_options.get("delimiter"),
                        na_values=self.na_values, text_columns=text)

    def prepare_csv(self, path, *, target: bool = False, unknown: str = "error",
                    strict: bool = False, encoding=None, delimiter=None) -> Prepared:
        """``prepare`` on a CSV file (the target column may be absent unless ``target``)."""
        return self.prepare(self.read_csv(path, encoding=encoding, delimiter=delimiter),
                            target=target, unknown=unknown, strict=strict)

    def transform_csv(self, path, *, unknown: str = "error", encoding=None,
                      delimiter=None) -> Tensor:
        """Read a CSV file with the training columns (the target may be absent) and transform."""
        return self.transform(self.read_csv(path, encoding=encoding, delimiter=delimiter),
                              unknown=unknown)

    # -- targets ------------------------------------------------------------------
    def encode_target(self, values) -> np.ndarray:
        """Raw target values -> class indices (int64) or numbers (float64)."""
        table = as_table({self.target or "target": values}, [], self.na_values)
        name = next(iter(table.columns))
        problems = []
        col = table.columns[name]
        if self.task in ("binary", "multiclass"):
            y = target_codes(col, self.target, self.classes, problems)
        else:
            y = target_numbers(col, self.target, problems)
        if problems:
            raise first_error(problems[0], lambda i: f"row {i + 1}", self.classes)
        return y

    def decode_target(self, indices) -> list:
        """Class indices (e.g. ``logits.argmax(1)``) -> the original class labels."""
        if self.task not in ("binary", "multiclass"):
            raise DataError(f"decode_target: the target {self.target!r} is {self.task}, "
                            "not classes")
        idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices).reshape(-1)
        return [self.classes[int(i)] for i in idx]

    # -- serialization ------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-serializable state (lists, strings, floats)."""
        return {
            "version": 2, "features": self.features, "categories": self.categories,
            "standardize": self.standardize, "impute": self.impute, "mean": self.mean,
            "std": self.std, "fill": self.fill, "target": self.target, "task": self.task,
            "classes": self.classes, "na_values": list(self.na_values),
            "id_column": self.id_column, "csv_options": self.csv_options,
            "feature_names": self.feature_names if self.fitted else None,
            "fitted": self.fitted,
        }

    @classmethod
    def from_dict(cls, state: Mapping) -> Preprocessor:
        """Rebuild a Preprocessor from ``to_dict()`` output (version 1 or 2, e.g. read back
        from a run directory's config.json); a malformed state raises ``DataError``."""
        from ._state import check_state

        check_state(state)
        pre = cls(state["features"], state["categories"], standardize=state["standardize"],
                  impute=state["impute"], target=state["target"], task=state["task"],
                  classes=state["classes"], na_values=state["na_values"],
                  id_column=state.get("id_column"), csv_options=state.get("csv_options"))
        pre.mean = {k: float(v) for k, v in state["mean"].items()}
        pre.std = {k: float(v) for k, v in state["std"].items()}
        pre.fill = dict(state["fill"])
        pre.fitted = bool(state["fitted"])
        return pre

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Preprocessor:
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:
        return (f"Preprocessor({len(self.numeric)} numeric, {len(self.categories)} categorical "
                f"-> {len(self.feature_names)} features, target={self.target!r} ({self.task}))")
