"""Tables of typed columns, the errors of the data layer, and the value helpers shared by the
loaders.

A :class:`Table` is what ``read_csv`` returns and what ``Preprocessor`` reads: a header and
one :class:`Column` per name. A column is either numbers (float64, NaN where missing) or
text (integer codes into its sorted distinct stripped strings, -1 where missing); in both
the boolean ``missing`` mask is the truth about which cells are missing, so a NaN written as
a number (with custom ``na_values``) stays distinguishable from an empty cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

#: Field values read as missing (compared after stripping whitespace).
NA_VALUES = ("", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL", "?")


class DataError(ValueError):
    """A problem with a data file or its contents; the message is meant to be printed as is."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """The data file does not exist."""


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


def short_list(items: Sequence, limit: int = 8) -> str:
    """``'a', 'b', ... (+12 more)``: a list for a one-line message."""
    items = list(items)
    text = ", ".join(repr(x) for x in items[:limit])
    return text + (f", ... (+{len(items) - limit} more)" if len(items) > limit else "")


class Column:
    """One column: ``kind`` is ``"number"`` or ``"text"``.

    * number: ``values`` float64 ``(N,)`` (NaN where missing);
    * text: ``codes`` int64 ``(N,)`` into ``levels`` (sorted distinct stripped strings),
      -1 where missing.

    ``missing`` is a bool ``(N,)`` mask. Indexing gives the cell as a Python value (float or
    str; None when missing), so a column also behaves like the list of its values.
    """

    __slots__ = ("kind", "values", "codes", "levels", "missing")

    def __init__(self, kind: str, *, values=None, codes=None, levels=None, missing=None):
        self.kind = kind
        self.values, self.codes, self.levels = values, codes, levels
        if missing is None:
            missing = np.isnan(values) if kind == "number" else codes < 0
        self.missing = missing

    @classmethod
    def numbers(cls, values: np.ndarray, missing: np.ndarray | None = None) -> Column:
        values = np.asarray(values, np.float64)
        return cls("number", values=values, missing=missing)

    @classmethod
    def text(cls, codes: np.ndarray, levels: list[str]) -> Column:
        return cls("text", codes=np.asarray(codes, np.int64), levels=list(levels))

    def __len__(self) -> int:
        return self.missing.size

    def __getitem__(self, i):
        if self.missing[i]:
            return None
        if self.kind == "number":
            return float(self.values[i])
        return self.levels[self.codes[i]]

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def take(self, idx) -> Column:
        """The rows ``idx`` (an index array) as a new column."""
        if self.kind == "number":
            return Column("number", values=self.values[idx], missing=self.missing[idx])
        return Column("text", codes=self.codes[idx], levels=self.levels,
                      missing=self.missing[idx])

    def present_levels(self) -> list[str]:
        """The text levels that occur (not missing), sorted."""
        used = np.zeros(len(self.levels), bool)
        used[self.codes[~self.missing]] = True
        return [lv for lv, u in zip(self.levels, used) if u]

    def as_text(self) -> Column:
        """Numbers read as categories (``category_key``: 1.0 -> "1"); text unchanged."""
        if self.kind == "text":
            return self
        present = ~self.missing
        uniq, inv = np.unique(self.values[present], return_inverse=True)
        keys = [category_key(float(v)) for v in uniq]
        levels = sorted(set(keys))
        where = {k: j for j, k in enumerate(levels)}
        pos = np.array([where[k] for k in keys], np.int64)
        codes = np.full(len(self), -1, np.int64)
        codes[present] = pos[inv.reshape(-1)] if uniq.size else []
        return Column("text", codes=codes, levels=levels, missing=self.missing)

    def as_numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """(float64 values, bool mask of cells that are present but not numbers)."""
        if self.kind == "number":
            return self.values, np.zeros(len(self), bool)
        table = np.full(len(self.levels) + 1, np.nan)
        ok = np.zeros(len(self.levels) + 1, bool)
        for j, lv in enumerate(self.levels):
            try:
                table[j] = float(lv)
                ok[j] = True
            except ValueError:
                pass
        codes = np.where(self.missing, len(self.levels), self.codes)
        return table[codes], ~ok[codes] & ~self.missing

    def strings(self) -> list[str]:
        """Every cell as text ("" when missing): for passing an id column through."""
        if self.kind == "text":
            return ["" if c < 0 else self.levels[c] for c in self.codes.tolist()]
        return ["" if m else category_key(v)
                for v, m in zip(self.values.tolist(), self.missing.tolist())]


def column_from_values(values, na_values=NA_VALUES, *, as_text: bool = False) -> Column:
    """Python values (str, numbers, None) -> a Column; numbers when every present value
    parses as a float (unless ``as_text``), else text keyed by ``category_key``."""
    values = list(values)
    na = set(na_values)
    missing = np.array([is_missing(v, na) for v in values], bool)
    present = [v for v, m in zip(values, missing) if not m]
    if not as_text and is_numeric(present):
        out = np.full(len(values), np.nan)
        out[~missing] = [to_float(v) for v in present]
        return Column.numbers(out, missing)
    keys = [category_key(v) for v in present]
    levels = sorted(set(keys))
    pos = {k: j for j, k in enumerate(levels)}
    codes = np.full(len(values), -1, np.int64)
    codes[~missing] = [pos[k] for k in keys]
    return Column("text", codes=codes, levels=levels, missing=missing)


class Table:
    """A header and one :class:`Column` per name (``columns[name]``).

    ``name`` is the file's name (for messages), ``path`` the file when read from one.
    ``where(i)`` names the 0-based data row ``i`` for a message: ``"data row 5 (line 6)"``
    for a file (the header is line 1), ``"row 5"`` for rows given in Python.
    """

    def __init__(self, name: str, header: list[str], columns: dict[str, Column], *,
                 path=None, line_of=None):
        self.name = name
        self.header = header
        self.columns = columns
        self.path = path
        self._line_of = line_of

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def where(self, i: int) -> str:
        if self._line_of is None:
            return f"row {i + 1}"
        line = self._line_of(i)
        return f"data row {i + 1}" + (f" (line {line})" if line else "")

    def take(self, idx) -> Table:
        cols = {k: c.take(idx) for k, c in self.columns.items()}
        return Table(self.name, self.header, cols, path=self.path)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {self.n_rows} rows, columns={self.header})"


def as_table(data, names: Sequence[str], na_values=NA_VALUES, text=()) -> Table:
    """A Table, a mapping of column lists, or a list of row dicts -> a Table with at least
    the columns ``names`` (others given are kept); ``text`` names columns read as text."""
    from collections.abc import Mapping

    if isinstance(data, Table):
        cols = data.columns
        absent = [n for n in names if n not in cols]
        if absent:
            raise DataError(f"{data.name} lacks the column(s) {short_list(absent)} the model "
                            f"was trained on; its columns are: {short_list(data.header, 30)}"
                            " (column names must match the training file's, case included)")
        return data
    if isinstance(data, Mapping):
        raw = data
    elif isinstance(data, Sequence) and not isinstance(data, str):
        lacking = [n for n in names if data and n not in data[0]]
        if lacking:
            raise DataError(f"Preprocessor: rows lack the column(s) {lacking}")
        keys = list(data[0]) if data else list(names)
        raw = {n: [row.get(n) for row in data] for n in keys}
    else:
        raise TypeError("Preprocessor: expected a mapping of columns, a list of row dicts or a "
                        f"Table, got {type(data).__name__}")
    absent = [n for n in names if n not in raw]
    if absent:
        raise DataError(f"Preprocessor: missing input column(s) {absent}; "
                        f"available: {list(raw)}")
    cols = {n: v if isinstance(v, Column) else
            column_from_values(v, na_values, as_text=n in text) for n, v in raw.items()}
    return Table("<rows>", list(raw), cols)
