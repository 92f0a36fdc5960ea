"""``Preprocessor``: raw table columns -> a float32 feature matrix, fitted on training rows.

It is the part of ``load_csv`` that a trained model needs again at predict time, so it is
plain data: ``to_dict()`` gives JSON-serializable lists and numbers, ``from_dict`` rebuilds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from ..tensor import Tensor
from ._table import NA_VALUES, DataError, category_key, is_missing, read_table, to_float

__all__ = ["Preprocessor"]


def _columns(data, names: Sequence[str]) -> dict[str, list]:
    """Accept a mapping of columns or a sequence of row mappings; return the named columns."""
    if isinstance(data, Mapping):
        cols = data
    elif isinstance(data, Sequence) and not isinstance(data, str):
        missing = [n for n in names if data and n not in data[0]]
        if missing:
            raise DataError(f"Preprocessor: rows lack the column(s) {missing}")
        cols = {n: [row[n] for row in data] for n in names}
    else:
        raise TypeError("Preprocessor: expected a mapping of columns or a list of row dicts, "
                        f"got {type(data).__name__}")
    absent = [n for n in names if n not in cols]
    if absent:
        raise DataError(f"Preprocessor: missing input column(s) {absent}; "
                        f"available: {list(cols)}")
    return {n: list(cols[n]) for n in names}


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
        impute: fill missing values with the training median (numeric) or mode
            (categorical); otherwise a missing value at ``transform`` is an error.
        target, task, classes: the target column, its kind and class labels (for
            ``encode_target`` / ``decode_target``).

    Shape: ``transform`` maps N rows to ``(N, F)`` with ``F = len(feature_names)``.

    Example::

        pre = Preprocessor(["age", "Thal"], {"Thal": None}).fit(train_rows)
        X = pre.transform([{"age": "63", "Thal": "fixed"}])   # tensor of shape (1, F)
        json.dumps(pre.to_dict())
    """

    def __init__(self, features: Sequence[str], categorical: Mapping | None = None, *,
                 standardize: bool = True, impute: bool = False, target: str | None = None,
                 task: str | None = None, classes: Sequence | None = None,
                 na_values: Sequence[str] = NA_VALUES):
        self.features = list(features)
        categorical = dict(categorical or {})
        unknown = [c for c in categorical if c not in self.features]
        if unknown:
            raise DataError(f"Preprocessor: categorical column(s) {unknown} are not features")
        self.categories = {k: (None if v is None else [category_key(c) for c in v])
                           for k, v in categorical.items()}
        self.standardize = bool(standardize)
        self.impute = bool(impute)
        self.target = target
        self.task = task
        self.classes = None if classes is None else list(classes)
        self.na_values = tuple(na_values)
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

    def _numbers(self, name, values) -> np.ndarray:
        out = np.empty(len(values), np.float64)
        for i, v in enumerate(values):
            if is_missing(v, self.na_values):
                out[i] = np.nan
                continue
            try:
                out[i] = to_float(v)
            except (TypeError, ValueError):
                raise DataError(f"column {name!r}: value {v!r} (row {i + 1}) is not a number; "
                                "it was numeric in the training data") from None
        return out

    def fit(self, data) -> Preprocessor:
        """Learn categories, means/stds and fill values from the (training) rows ``data``."""
        cols = _columns(data, self.features)
        for name in self.features:
            values = cols[name]
            if name in self.categories:
                present = [category_key(v) for v in values if not is_missing(v, self.na_values)]
                if self.categories[name] is None:
                    self.categories[name] = sorted(set(present))
                if self.impute:
                    cats = self.categories[name]
                    counts = [present.count(c) for c in cats]
                    if not cats or max(counts) == 0:
                        raise DataError(f"column {name!r} has no values to impute from")
                    self.fill[name] = cats[int(np.argmax(counts))]
                continue
            x = self._numbers(name, values)
            ok = x[~np.isnan(x)]
            if ok.size == 0:
                raise DataError(f"column {name!r} has no values in the training rows "
                                "(all missing)")
            if self.impute:
                self.fill[name] = float(np.median(ok))
            mean, std = (float(ok.mean()), float(ok.std())) if self.standardize else (0.0, 1.0)
            self.mean[name] = mean
            self.std[name] = std if std > 0 else 1.0
        self.fitted = True
        return self

    # -- transforming -------------------------------------------------------------
    def transform_array(self, data, *, unknown: str = "error") -> np.ndarray:
        """Like ``transform`` but returns the float32 NumPy array."""
        if not self.fitted:
            raise DataError("Preprocessor.transform: call fit(...) first (or from_dict)")
        if unknown not in ("error", "ignore"):
            raise ValueError(f"unknown must be 'error' or 'ignore', got {unknown!r}")
        cols = _columns(data, self.features)
        n = len(cols[self.features[0]]) if self.features else 0
        blocks = []
        for name in self.features:
            values = cols[name]
            if name in self.categories:
                blocks.append(self._one_hot(name, values, unknown))
                continue
            x = self._numbers(name, values)
            nan = np.isnan(x)
            if nan.any():
                if not self.impute:
                    raise DataError(f"column {name!r} has a missing value in row "
                                    f"{int(np.argmax(nan)) + 1} (pass rows without NA, or "
                                    "load the training data with missing='impute')")
                x[nan] = self.fill[name]
            blocks.append(((x - self.mean[name]) / self.std[name])[:, None])
        if not blocks:
            return np.zeros((n, 0), np.float32)
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def _one_hot(self, name, values, unknown) -> np.ndarray:
        cats = self.categories[name]
        pos = {c: j for j, c in enumerate(cats)}
        out = np.zeros((len(values), len(cats)), np.float64)
        for i, v in enumerate(values):
            if is_missing(v, self.na_values):
                if not self.impute:
                    raise DataError(f"column {name!r} has a missing value in row {i + 1} "
                                    "(pass rows without NA, or load the training data with "
                                    "missing='impute')")
                v = self.fill[name]
            j = pos.get(category_key(v))
            if j is None:
                if unknown == "ignore":
                    continue
                raise DataError(f"column {name!r}: unknown category {v!r} in row {i + 1}; "
                                f"known categories: {cats} (pass unknown='ignore' to encode "
                                "it as all zeros)")
            out[i, j] = 1.0
        return out

    def transform(self, data, *, unknown: str = "error") -> Tensor:
        """Rows (a list of dicts) or columns (a dict of lists) -> float32 tensor ``(N, F)``.

        Values may be raw CSV strings or numbers; ``unknown='ignore'`` encodes an unseen
        category as all zeros instead of raising.
        """
        return Tensor._make(self.transform_array(data, unknown=unknown), False, None, 0)

    def transform_csv(self, path, *, unknown: str = "error") -> Tensor:
        """Read a CSV file with the training columns (the target may be absent) and transform."""
        return self.transform(read_table(path).columns, unknown=unknown)

    # -- targets ------------------------------------------------------------------
    def encode_target(self, values) -> np.ndarray:
        """Raw target values -> class indices (int64) or numbers (float64)."""
        if self.task in ("binary", "multiclass"):
            pos = {category_key(c): i for i, c in enumerate(self.classes)}
            out = np.empty(len(values), np.int64)
            for i, v in enumerate(values):
                key = category_key(_as_number_if_possible(v))
                if key not in pos:
                    raise DataError(f"target {self.target!r}: unknown class {v!r}; "
                                    f"classes: {self.classes}")
                out[i] = pos[key]
            return out
        return np.array([to_float(v) for v in values], np.float64)

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
            "version": 1, "features": self.features, "categories": self.categories,
            "standardize": self.standardize, "impute": self.impute, "mean": self.mean,
            "std": self.std, "fill": self.fill, "target": self.target, "task": self.task,
            "classes": self.classes, "na_values": list(self.na_values),
            "feature_names": self.feature_names if self.fitted else None,
            "fitted": self.fitted,
        }

    @classmethod
    def from_dict(cls, state: Mapping) -> Preprocessor:
        """Rebuild a Preprocessor from ``to_dict()`` output (e.g. read back from JSON)."""
        if state.get("version") != 1:
            raise DataError(f"Preprocessor.from_dict: unsupported version {state.get('version')}")
        pre = cls(state["features"], state["categories"], standardize=state["standardize"],
                  impute=state["impute"], target=state["target"], task=state["task"],
                  classes=state["classes"], na_values=state["na_values"])
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


def _as_number_if_possible(v):
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v
