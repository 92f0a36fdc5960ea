"""Text columns that are really numbers written in a way chainrule does not read.

A feature column read as text is one-hot encoded (up to ``max_categories`` categories) or
refused as free text. Three kinds of such columns hold numbers, and treating them as
categories would be silently wrong (a price column with 30 distinct values becomes 30
unrelated indicator columns); :func:`numeric_text_problem` names them so ``load_csv``
can refuse them with the column, an example cell and the ways out:

* **thousands separators**: every value looks like ``1,234,567`` or ``-12,500.5`` (groups
  of three digits after each ``,``), or a plain number;
* **decimal commas**: every value looks like ``3,14`` or ``-0,5`` (one ``,``), or an
  integer, as spreadsheets write them in many locales (usually with ``;`` as delimiter);
* **numbers with a few stray cells**: at least 75% of the present cells are numbers, the
  rest are at most 5 distinct tokens that are not missing-value markers (``n/a?``,
  ``unknown``, ``-``...), and the numbers take more than 10 distinct values (fewer may well
  be category codes, which one-hot encoding handles).

chainrule does not guess separators (``1,234`` is 1234 in one locale and 1.234 in another):
the file has to say it plainly.
"""

from __future__ import annotations

import re

import numpy as np

from ._table import Column

_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_INTEGER = re.compile(r"[+-]?\d+")
_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
MOSTLY = 0.75
MAX_STRAY_TOKENS = 5
MIN_DISTINCT_NUMBERS = 10


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def numeric_text_problem(name: str, col: Column, where) -> str | None:
    """A one-line diagnosis when the text column ``col`` holds numbers in a form chainrule
    does not read (see the module docstring), else None. ``where(i)`` names data row ``i``
    (e.g. ``"data row 5 (line 6)"``)."""
    if col.kind != "text":
        return None
    levels = col.present_levels()
    if not levels:
        return None
    fix = (f"remove the separators in the file (a spreadsheet can save the column as plain "
           f"numbers such as 1234.5), or leave the column out (drop=[{name!r}], --drop {name})")
    grouped = [v for v in levels if _THOUSANDS.fullmatch(v)]
    if grouped and all(_THOUSANDS.fullmatch(v) or _PLAIN.fullmatch(v) for v in levels):
        v = _earliest(col, grouped)
        return (f"column {name!r} holds numbers written with thousands separators (e.g. "
                f"{v!r} in {_first(col, v, where)}); chainrule reads "
                f"numbers with '.' as the decimal point and no separators: {fix}")
    comma = [v for v in levels if _DECIMAL_COMMA.fullmatch(v)]
    if comma and all(_DECIMAL_COMMA.fullmatch(v) or _INTEGER.fullmatch(v) for v in levels):
        v = _earliest(col, comma)
        return (f"column {name!r} holds numbers written with a decimal comma (e.g. "
                f"{v!r} in {_first(col, v, where)}); chainrule reads numbers "
                f"with '.' as the decimal point: save the file with '.' decimals (and ',' "
                f"or ';' between fields), or leave the column out (drop=[{name!r}], "
                f"--drop {name})")
    numeric = np.array([_is_number(v) for v in levels])
    stray = [v for v, ok in zip(levels, numeric) if not ok]
    if not stray or len(stray) > MAX_STRAY_TOKENS or \
            int(numeric.sum()) <= MIN_DISTINCT_NUMBERS:
        return None
    present = col.codes[~col.missing]
    counts = np.bincount(present, minlength=len(col.levels))
    index = {v: i for i, v in enumerate(col.levels)}
    bad = sum(int(counts[index[v]]) for v in stray)
    if bad > (1 - MOSTLY) * present.size:
        return None
    first = _earliest(col, stray)
    return (f"column {name!r} holds numbers except {bad} cell(s) such as {first!r} (first in "
            f"{_first(col, first, where)}); as text it would be one-hot encoded as "
            f"{len(levels)} unrelated categories: make those cells empty to mark them "
            f"missing (rows are then dropped, or filled with impute=... / --impute), fix "
            f"them, add the marker to na_values=[...] in Python, or leave the column out "
            f"(drop=[{name!r}], --drop {name})")


def _earliest(col: Column, values: list[str]) -> str:
    """The value of ``values`` that occurs first in the column."""
    return min(values, key=lambda v: int(np.argmax(col.codes == col.levels.index(v))))


def _first(col: Column, value: str, where) -> str:
    i = int(np.argmax(col.codes == col.levels.index(value)))
    return where(i)
