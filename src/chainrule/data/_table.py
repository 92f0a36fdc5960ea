"""Reading a CSV file into raw string columns, and parsing helpers shared by the loaders.

Only the standard library ``csv`` module and NumPy are used (no pandas).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

#: Field values read as missing (compared after stripping whitespace).
NA_VALUES = ("", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL", "?")


class DataError(ValueError):
    """A problem with a data file or its contents; the message is meant to be printed as is."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """The data file does not exist."""


class Table:
    """A CSV file as a header and one list of raw strings per column."""

    def __init__(self, name: str, header: list[str], columns: dict[str, list[str]]):
        self.name = name
        self.header = header
        self.columns = columns

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def read_table(path, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> Table:
    """Read ``path`` with the ``csv`` module; every field stays a stripped string."""
    path = Path(os.fspath(path)).expanduser()
    if not path.exists():
        raise DataFileNotFoundError(f"CSV file not found: {path}")
    if path.is_dir():
        raise DataError(f"expected a CSV file but {path} is a directory")
    with open(path, newline="", encoding=encoding) as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"CSV file {path} is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    if len(rows) == 1:
        raise DataError(f"CSV file {path} has a header but no data rows")
    seen = set()
    for h in header:
        if h in seen:
            raise DataError(f"CSV file {path}: column name {h!r} appears twice in the header")
        seen.add(h)
    for lineno, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise DataError(
                f"CSV file {path}: row {lineno} has {len(r)} fields but the header has "
                f"{len(header)} ({', '.join(repr(h) for h in header[:8])}"
                f"{', ...' if len(header) > 8 else ''})"
            )
    columns = {h: [r[j].strip() for r in rows[1:]] for j, h in enumerate(header)}
    return Table(path.name, header, columns)


def is_missing(value, na_values=NA_VALUES) -> bool:
    """True for None, NaN and the NA tokens (strings are compared after stripping)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in na_values
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def to_float(value) -> float:
    """A raw value as a float; raises ValueError when it is not a number."""
    if isinstance(value, str):
        return float(value.strip())
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    return float(value)


def is_numeric(values) -> bool:
    """True when every (non-missing) value parses as a finite or infinite float."""
    try:
        for v in values:
            to_float(v)
    except (TypeError, ValueError):
        return False
    return True


def category_key(value) -> str:
    """The string a category is stored under: stripped, integers in floats shown as ints."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value).strip()
