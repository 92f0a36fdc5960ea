"""Validation of a ``Preprocessor.to_dict()`` state read back from a file.

A run directory's ``config.json`` may be old, hand-edited or hostile; ``check_state`` turns
every malformed state into one ``DataError`` naming the field, before anything is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._table import DataError

_TASKS = (None, "binary", "multiclass", "regression", "count")
_IMPUTE = (None, True, False, "mean", "median", "most_frequent")
_MAX_ITEMS = 1_000_000


def _fail(field: str, why: str):
    raise DataError(f"Preprocessor.from_dict: {field} {why}")


def _strings(value, field: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, list) or len(value) > _MAX_ITEMS or \
            not all(isinstance(v, str) for v in value):
        _fail(field, "must be a list of strings")


def _numbers(value, field: str, positive: bool = False) -> None:
    if not isinstance(value, Mapping):
        _fail(field, "must be a mapping of column -> number")
    for k, v in value.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) \
                or (positive and v <= 0):
            _fail(f"{field}[{k!r}]", f"must be a finite{' positive' if positive else ''} "
                  f"number, got {v!r}")


def check_state(state) -> None:
    """Raise ``DataError`` unless ``state`` is a well-formed version 1 or 2 state."""
    if not isinstance(state, Mapping):
        _fail("state", f"must be a mapping, got {type(state).__name__}")
    if state.get("version") not in (1, 2):
        raise DataError(f"Preprocessor.from_dict: unsupported version {state.get('version')}")
    need = ("features", "categories", "standardize", "impute", "mean", "std", "fill",
            "target", "task", "classes", "na_values", "fitted")
    absent = [k for k in need if k not in state]
    if absent:
        _fail("state", f"lacks {absent}")
    _strings(state["features"], "features")
    if len(set(state["features"])) != len(state["features"]):
        _fail("features", "name a column twice")
    cats = state["categories"]
    if not isinstance(cats, Mapping):
        _fail("categories", "must be a mapping of column -> list of categories")
    for k, v in cats.items():
        _strings(v, f"categories[{k!r}]", allow_none=not state["fitted"])
        if v is not None and len(set(v)) != len(v):
            _fail(f"categories[{k!r}]", "name a category twice")
        if k not in state["features"]:
            _fail(f"categories[{k!r}]", "is not a feature")
    if state["impute"] not in _IMPUTE:
        _fail("impute", f"must be one of {_IMPUTE}, got {state['impute']!r}")
    if state["task"] not in _TASKS:
        _fail("task", f"must be one of {_TASKS}, got {state['task']!r}")
    _numbers(state["mean"], "mean")
    _numbers(state["std"], "std", positive=True)
    fill = state["fill"]
    if not isinstance(fill, Mapping) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in fill.values()):
        _fail("fill", "must be a mapping of column -> number or category")
    classes = state["classes"]
    if classes is not None and (not isinstance(classes, list) or len(classes) > _MAX_ITEMS
                                or not all(isinstance(c, (str, int, float)) for c in classes)):
        _fail("classes", "must be a list of labels or null")
    if classes is not None and len({repr(c) for c in classes}) != len(classes):
        _fail("classes", "name a class twice")
    for key in ("target", "id_column"):
        if state.get(key) is not None and not isinstance(state.get(key), str):
            _fail(key, "must be a string or null")
    _strings(state["na_values"], "na_values")
    opts = state.get("csv_options") or {}
    if not isinstance(opts, Mapping) or not all(
            isinstance(v, str) or v is None for v in opts.values()):
        _fail("csv_options", "must be a mapping of strings")
    if state["fitted"]:
        for f in state["features"]:
            if f in cats:
                continue
            if f not in state["mean"] or f not in state["std"]:
                _fail("mean/std", f"lack the numeric feature {f!r}")
