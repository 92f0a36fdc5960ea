"""Parsing a CSV file's records with ``pyarrow.csv`` in bounded memory.

``pyarrow.csv.read_csv`` parses a whole file on several threads, but it reads ahead the
whole file and keeps the parsed blocks until the end: ~3x the file in memory at its peak.
So the file is cut into *pieces* of ~16 MiB that end at a record boundary (a newline
preceded by an even number of quote characters: outside a quoted field, since quotes
inside one are doubled), and each piece is parsed by ``read_csv`` on pyarrow's threads.
Number columns are copied into float64 arrays allocated once for the file's line count
(an upper bound on its records); text columns keep their pyarrow chunks. The column
types found in the first piece are pinned for the next ones (integers read as float64).

If a piece fails to parse (a stray quote can break the parity rule), the whole file is
parsed again in one ``read_csv`` call, whose verdict is final; files in a UTF-16/32
encoding are always parsed whole.
"""

from __future__ import annotations

import numpy as np

from ._table import Column

PIECE = 1 << 23
BLOCK = 1 << 22
MAX_BLOCK = 1 << 30


class RetypeError(Exception):
    """Parse again with these column types (a later piece did not fit a pinned type)."""

    def __init__(self, types: dict):
        super().__init__(types)
        self.types = types


class UndecodableError(Exception):
    """A column has bytes that are not valid in the file's encoding."""


class FileChangedError(Exception):
    """The file has more records than lines counted when reading started: it grew while
    being read (another program is still writing it)."""


def count_lines(path) -> int:
    """An upper bound on the records of a file: its newlines + 1."""
    n, cr = 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(PIECE):
            n += chunk.count(b"\n")
            cr += chunk.count(b"\r")
    return max(n, cr) + 1


def _boundary(a: np.ndarray) -> int:
    """The index just after the last newline of the bytes ``a`` outside quotes (-1 if
    none); ``a`` starts at a record boundary."""
    quotes = a == 34
    newline = a == 10
    if quotes.any():
        newline &= np.bitwise_xor.accumulate(quotes.view(np.uint8)) == 0
    nl = np.flatnonzero(newline)
    return int(nl[-1]) + 1 if nl.size else -1


def pieces(f, size: int | None):
    """Views of the bytes of ``f`` from its position, cut at record boundaries every
    ~``size`` bytes (one piece when ``size`` is None). One buffer is reused: a piece is
    valid until the next one is asked for."""
    if size is None:
        data = f.read()
        if data:
            yield data
        return
    buf = np.empty(2 * size, np.uint8)
    have = 0                      # bytes carried over from the last read, at the front
    while True:
        if have + size > buf.size:
            grown = np.empty(2 * buf.size, np.uint8)
            grown[:have] = buf[:have]
            buf = grown
        n = f.readinto(memoryview(buf)[have:have + size])
        if not n:
            if have:
                yield memoryview(buf)[:have]
            return
        end = have + n
        cut = _boundary(buf[:end])
        if cut <= 0:
            have = end
            continue
        yield memoryview(buf)[:cut]
        have = end - cut
        buf[:have] = buf[cut:end].copy()


def _is_number(t) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _is_text(t) -> bool:
    import pyarrow as pa

    return pa.types.is_string(t) or pa.types.is_large_string(t)


class Builder:
    """One column's cells, gathered piece by piece."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.kind = None            # None while every cell so far is missing
        self.n = 0
        self.values = self.missing = None
        self.chunks = []

    def _numbers(self):
        self.values = np.empty(self.capacity, np.float64)
        self.missing = np.zeros(self.capacity, bool)   # pages stay unmapped until written
        self.values[: self.n] = np.nan
        self.missing[: self.n] = True
        self.kind = "number"

    def add(self, chunked) -> None:
        import pyarrow as pa

        t, m = chunked.type, len(chunked)
        if self.n + m > self.capacity:
            raise FileChangedError()
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            raise UndecodableError()
        if pa.types.is_null(t):
            if self.kind == "text":
                self.chunks.append(pa.nulls(m, pa.string()))
            elif self.kind == "number":
                self.values[self.n:self.n + m] = np.nan
                self.missing[self.n:self.n + m] = True
        elif _is_number(t) and self.kind != "text":
            if self.kind is None:
                self._numbers()
            self.values[self.n:self.n + m] = chunked.cast(pa.float64()).to_numpy()
            if chunked.null_count:
                self.missing[self.n:self.n + m] = chunked.is_null().to_numpy(
                    zero_copy_only=False)
        elif _is_text(t) and self.kind != "number":
            if self.kind is None:
                self.chunks.append(pa.nulls(self.n, pa.string()))
                self.kind = "text"
            self.chunks.append(chunked.cast(pa.string()))
        else:
            raise RetypeError({})
        self.n += m

    def finish(self, na_values, as_text: bool, text_column) -> Column:
        import pyarrow as pa

        if self.kind == "text":
            chunks = [c for ch in self.chunks for c in
                      (ch.chunks if isinstance(ch, pa.ChunkedArray) else [ch])]
            return text_column(pa.chunked_array(chunks, pa.string()), na_values, as_text)
        if self.kind is None:
            col = Column.numbers(np.full(self.n, np.nan), np.ones(self.n, bool))
        else:
            col = Column.numbers(self.values[: self.n], self.missing[: self.n])
        return col.as_text() if as_text else col


def parse(path, *, raw: list[str], start: int, enc: str, delimiter: str, na_values,
          text_raw: set, on_invalid, piece: int | None, block: int = BLOCK):
    """Parse the records of ``path`` from byte ``start`` (after the header; 0 = let
    pyarrow read the header); return (names, builders). Raises pyarrow's errors, RetypeError
    and UndecodableError."""
    import pyarrow as pa

    types = {n: pa.string() for n in text_raw}
    while True:
        try:
            return _parse_once(path, raw, start, enc, delimiter, na_values, types,
                               on_invalid, piece, block)
        except RetypeError as e:
            if not e.types:
                raise
            types.update(e.types)
        except pa.ArrowInvalid as e:
            if "straddle" in str(e) and block < MAX_BLOCK:
                block *= 8
                continue
            if "UTF8" in str(e):
                raise UndecodableError() from None
            k = _conversion_column(str(e))
            if k is None or not start or k >= len(raw) or raw[k] in types:
                raise
            types[raw[k]] = pa.string()


def _parse_once(path, raw, start, enc, delimiter, na_values, types, on_invalid, piece,
                block):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    capacity = count_lines(path)
    builders = None
    names = list(raw) if start else None
    pinned = dict(types)
    parse_opts = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                    invalid_row_handler=on_invalid)
    with open(path, "rb") as f:
        f.seek(start)
        for data in pieces(f, piece):
            read = pacsv.ReadOptions(use_threads=True, block_size=block,
                                     encoding="utf8" if enc == "utf-8" else enc,
                                     column_names=names)
            convert = pacsv.ConvertOptions(
                null_values=list(na_values), strings_can_be_null=True,
                quoted_strings_can_be_null=True, true_values=[], false_values=[],
                column_types=pinned)
            table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(data)), read, parse_opts,
                                   convert)
            del data
            if builders is None:
                names = list(table.column_names)
                builders = [Builder(capacity) for _ in names]
            odd = {n: pa.string() for n, c in zip(names, table.columns)
                   if not (_is_number(c.type) or _is_text(c.type) or pa.types.is_null(c.type)
                           or pa.types.is_binary(c.type))}
            if odd:
                raise RetypeError(odd)
            for j, (name, col) in enumerate(zip(names, table.columns)):
                if name not in pinned and not pa.types.is_null(col.type):
                    pinned[name] = pa.float64() if _is_number(col.type) else col.type
                try:
                    builders[j].add(col)
                except RetypeError:
                    raise RetypeError({name: pa.string()}) from None
            del table
            pa.default_memory_pool().release_unused()
    if builders is None:
        builders = [Builder(0) for _ in (names or [])]
    return names or [], builders


def _conversion_column(msg: str) -> int | None:
    """The column index in pyarrow's 'In CSV column #3: CSV conversion error ...'."""
    if "conversion error" not in msg or "column #" not in msg:
        return None
    try:
        return int(msg.split("column #")[1].split(":")[0])
    except ValueError:
        return None
