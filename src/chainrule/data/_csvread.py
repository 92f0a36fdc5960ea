"""``read_csv``: a CSV file -> a :class:`Table` of typed columns, parsed by ``pyarrow.csv``.

pyarrow parses the file in blocks on several threads and types the columns (numbers become
float64 arrays without a Python object per cell). What pyarrow cannot type as numbers goes
through the same rules as before: cells are stripped, the NA tokens are missing, and a
column whose remaining values all parse with Python's ``float`` is numeric (so ``" 3 "``,
``1_000`` or ``Infinity`` still count as numbers); any other column is text.

Checks before parsing: the file exists and is a regular file, it is not binary (NUL bytes,
or the signature of gzip/zip/PDF/Parquet/SQLite), the encoding exists. The delimiter, when
not given, is sniffed among ``,``, ``;`` and tab from the first 64 KiB. Every failure is a
one-line :class:`DataError` naming the file (and the row and column when there is one).
Row numbers in messages are 1-based data rows (the header is not counted) with the file
line in parentheses: ``data row 5 (line 6)``.
"""

from __future__ import annotations

import codecs
import csv
import os
import stat
import sys
import unicodedata
from pathlib import Path

import numpy as np

from ._table import NA_VALUES, Column, DataError, DataFileNotFoundError, Table, short_list

__all__ = ["read_csv", "sniff_delimiter"]

_SAMPLE = 1 << 16
_SIGNATURES = {b"\x1f\x8b": "gzip-compressed data: decompress it first (gunzip)",
               b"PK\x03\x04": "a zip archive (or an Excel workbook: save the sheet as CSV)",
               b"%PDF": "a PDF document", b"PAR1": "a Parquet file",
               b"SQLite format 3": "an SQLite database", b"\x89PNG": "a PNG image"}
_DELIMITERS = (",", ";", "\t")
_NAMES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _encoding(encoding: str | None) -> str:
    try:
        return codecs.lookup(encoding or "utf-8").name
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                        "'utf-8', 'latin-1' or 'cp1252'") from None


def _delimiter(delimiter: str) -> str:
    d = _NAMES.get(delimiter.lower(), delimiter) if isinstance(delimiter, str) else delimiter
    if not isinstance(d, str) or len(d) != 1 or d in "\r\n\"":
        raise DataError(f"delimiter must be one character (e.g. ',', ';', '\\t' or 'tab'), "
                        f"got {delimiter!r}")
    return d


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``,``, ``;`` and tab that splits the sample's lines into the same
    number (more than one) of fields as the header, preferring the most fields; ``,``
    when none does."""
    lines = sample.splitlines()[:50]
    best, best_key = ",", None
    for d in _DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=d) if r]
        if not rows or len(rows[0]) < 2:
            continue
        n = len(rows[0])
        body = rows[1:-1] if len(rows) > 2 else rows[1:]   # the last line may be cut short
        frac = sum(len(r) == n for r in body) / len(body) if body else 1.0
        key = (frac == 1.0, frac, n)
        if best_key is None or key > best_key:
            best, best_key = d, key
    return best


def _check_file(path: Path) -> bytes:
    """Refuse what is not a readable regular text file; return its first bytes."""
    if not path.exists():
        if os.path.lexists(path):
            raise DataError(f"{path} is a symbolic link that leads nowhere (broken, or a loop "
                            "of links); give the CSV file itself")
        raise DataFileNotFoundError(f"CSV file not found: {path}")
    if path.is_dir():
        raise DataError(f"expected a CSV file but {path} is a directory")
    if not stat.S_ISREG(path.stat().st_mode):
        raise DataError(f"{path} is not a regular file (a FIFO, socket or device); give a "
                        "CSV file")
    try:
        with open(path, "rb") as f:
            return f.read(_SAMPLE)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None


def _check_text(path: Path, head: bytes, enc: str, given: bool) -> str:
    """Refuse binary files and undecodable starts; return the decoded sample."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and "16" not in enc:
        raise DataError(f"{path} is UTF-16 text; pass encoding='utf-16' (--encoding utf-16)")
    wide = enc.startswith(("utf-16", "utf-32"))
    for sig, what in _SIGNATURES.items():
        if head.startswith(sig):
            raise DataError(f"{path} is not a CSV text file: it looks like {what}")
    if b"\x00" in head and not wide:
        raise DataError(f"{path} is not a CSV text file: it contains binary data (NUL bytes "
                        f"in the first {len(head)} bytes)")
    if enc == "utf-8" and head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    try:
        text = head.decode(enc)
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:   # not merely a character cut at the sample's end
            line = head[: e.start].count(b"\n") + 1
            raise _decode_error(path, enc, given, f"line {line}, byte "
                                f"0x{head[e.start]:02x}") from None
        text = head[: e.start].decode(enc)
    if not text.strip():
        raise DataError(f"CSV file {path} is empty (no header row)")
    return text


def _decode_error(path, enc: str, given: bool, where: str) -> DataError:
    hint = ("pass the file's encoding, e.g. encoding='latin-1' or 'cp1252' (--encoding "
            "latin-1)") if not given else "pass the file's real encoding (--encoding ...)"
    return DataError(f"{path} is not valid {enc.upper()} text ({where}); {hint}")


def _header(sample: str, delimiter: str) -> list[str]:
    for row in csv.reader(sample.splitlines()[:1] or [""], delimiter=delimiter):
        return row
    return []


def _line_finder(path: Path, enc: str, delimiter: str):
    """A function: 0-based data row -> its first line in the file (the csv module, run on
    demand: it is only needed for error messages)."""
    cache = {}

    def line_of(i: int) -> int | None:
        if i in cache:
            return cache[i]
        limit = csv.field_size_limit()
        csv.field_size_limit(sys.maxsize)
        try:
            with open(path, newline="", encoding="utf-8-sig" if enc == "utf-8" else enc,
                      errors="replace") as f:
                reader, prev, record = csv.reader(f, delimiter=delimiter), 0, -1
                for row in reader:
                    if row:
                        if record == i:
                            cache[i] = prev + 1
                            return prev + 1
                        record += 1
                    prev = reader.line_num
        except (OSError, csv.Error):
            pass
        finally:
            csv.field_size_limit(limit)
        cache[i] = None
        return None

    return line_of


def _ragged_row(path, enc, delimiter, n_fields: int) -> tuple[int, int, int] | None:
    """(data row, line, fields) of the first record whose field count is not ``n_fields``."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with open(path, newline="", encoding="utf-8-sig" if enc == "utf-8" else enc,
                  errors="replace") as f:
            reader, prev, record = csv.reader(f, delimiter=delimiter), 0, -1
            for row in reader:
                if row:
                    if record >= 0 and len(row) != n_fields:
                        return record + 1, prev + 1, len(row)
                    record += 1
                prev = reader.line_num
    except (OSError, csv.Error):
        return None
    finally:
        csv.field_size_limit(limit)
    return None


def nfc(name: str) -> str:
    """Unicode NFC form: "café" typed (é) and decomposed (e + combining accent) compare
    equal. Header names and text cells are read in this form, names given by the user are
    compared in it."""
    if isinstance(name, str) and not name.isascii():
        return unicodedata.normalize("NFC", name)
    return name


def _text(chunked, na_values, as_text: bool) -> Column:
    """Strip, mark NA tokens missing, code against the sorted levels; numbers when every
    level parses with ``float`` (unless ``as_text``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.utf8_normalize(pc.utf8_trim_whitespace(chunked), "NFC")  # one spelling per text
    na = pc.is_in(s, value_set=pa.array(list(na_values), pa.string()))
    missing_arr = pc.fill_null(pc.or_(pc.is_null(s), na), True)
    levels = sorted(pc.unique(pc.filter(s, pc.invert(missing_arr))).to_pylist())
    codes = pc.fill_null(pc.index_in(s, value_set=pa.array(levels, pa.string())), -1)
    codes = codes.to_numpy().astype(np.int64)
    missing = missing_arr.to_numpy(zero_copy_only=False)
    codes[missing] = -1
    if not as_text:
        try:
            table = np.array([float(v) for v in levels] + [np.nan])
        except ValueError:
            pass
        else:
            return Column.numbers(table[codes], missing)
    return Column("text", codes=codes, levels=levels, missing=missing)


def _undecodable(path: Path, enc: str, given: bool) -> DataError:
    """The decode error at the first line of ``path`` that ``enc`` cannot decode."""
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, start=1):
            try:
                line.decode(enc)
            except UnicodeDecodeError as e:
                return _decode_error(path, enc, given, f"line {lineno}, byte "
                                     f"0x{line[e.start]:02x}")
    return _decode_error(path, enc, given, "a block of the file")


def _header_span(path: Path, head: bytes, enc: str) -> tuple[int, int]:
    """(first byte, byte after) of the header record; blank lines before it skipped."""
    i = 3 if enc == "utf-8" and head.startswith(codecs.BOM_UTF8) else 0
    while i < len(head) and head[i] in b"\r\n":
        i += 1
    for size in (len(head), 1 << 20, 1 << 24):
        buf = head
        if size > len(head):
            with open(path, "rb") as f:
                buf = f.read(size)
        a = np.frombuffer(buf, np.uint8)[i:]
        even = np.bitwise_xor.accumulate((a == 34).view(np.uint8)) == 0
        newline = 10 if (a == 10).any() or not (a == 13).any() else 13   # CR-only files
        nl = np.flatnonzero((a == newline) & even)
        if nl.size:
            return i, i + int(nl[0]) + 1
        if len(buf) < size or len(buf) < _SAMPLE:
            return i, len(buf)         # the header is the whole file
    raise DataError(f"CSV file {path}: the header line is longer than 16 MiB")


def read_csv(path, *, delimiter: str | None = None, encoding: str | None = None,
             na_values=NA_VALUES, text_columns=()) -> Table:
    """Read a CSV file with a header row into a :class:`Table` of typed columns.

    Args:
        path: the file.
        delimiter: the field separator (one character; ``"tab"``/``"\\t"`` accepted);
            default: sniffed among ``,``, ``;`` and tab.
        encoding: the text encoding (a Python codec name); default UTF-8, with or
            without a byte-order mark.
        na_values: cell values (after stripping) that mean "missing".
        text_columns: columns kept as text even when every value is a number (categorical
            codes, ids: ``"007"`` stays ``"007"``).

    Raises:
        DataFileNotFoundError: no such file.
        DataError: not a regular text file, not decodable, empty, header only, a row with
            the wrong number of fields, a column name twice.

    Example::

        table = read_csv("Heart.csv")
        table.columns["age"].values[:3]     # array([63., 67., 67.])
    """
    import pyarrow as pa

    from ._arrowread import PIECE, FileChangedError, RetypeError, UndecodableError, parse

    path = Path(os.fspath(path)).expanduser()
    head = _check_file(path)
    given = encoding is not None
    enc = _encoding(encoding)
    sample = _check_text(path, head, enc, given)
    delimiter = sniff_delimiter(sample) if delimiter is None else _delimiter(delimiter)
    wide = enc.startswith(("utf-16", "utf-32"))
    if wide:
        raw, start = _header(sample, delimiter), 0
    else:
        first, start = _header_span(path, head, enc)
        try:
            raw = _header(head[first:start].decode(enc), delimiter)
        except UnicodeDecodeError as e:
            raise _decode_error(path, enc, given, f"the header, byte {e.start}") from None
    text = {nfc(t) for t in text_columns}
    text_raw = {r for r in raw if nfc(r.strip()) in text}
    ragged = []

    def on_invalid(row):
        ragged.append((row.expected_columns, row.actual_columns))
        return "error"

    opts = dict(raw=raw, start=start, enc=enc, delimiter=delimiter, na_values=na_values,
                text_raw=text_raw, on_invalid=on_invalid)
    try:
        try:
            names, builders = parse(path, piece=None if wide else PIECE, **opts)
        except (pa.ArrowInvalid, RetypeError):   # a piece failed: the whole file decides
            ragged.clear()
            names, builders = parse(path, piece=None, **opts)
    except (UndecodableError, UnicodeDecodeError):
        raise _undecodable(path, enc, given) from None
    except FileChangedError:
        raise DataError(f"CSV file {path} changed while it was being read (it grew): another "
                        "program is still writing it; read it once it is complete (or a "
                        "copy of it)") from None
    except pa.ArrowInvalid as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "Empty CSV" in msg:
            raise DataError(f"CSV file {path} is empty (no header row)") from None
        if ragged:
            expected, actual = ragged[0]
            found = _ragged_row(path, enc, delimiter, expected)
            where = (f"data row {found[0]} (line {found[1]})" if found else "a row")
            raise DataError(f"CSV file {path}: {where} has {actual} fields but the header has "
                            f"{expected} ({short_list(raw)})") from None
        raise DataError(f"CSV file {path} cannot be parsed: {msg}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from None
    pa.default_memory_pool().release_unused()   # give the parsing buffers back to the OS
    header = [nfc(n.strip()) for n in names]  # "café" typed or decomposed: one name
    seen = set()
    for h in header:
        if h in seen:
            if h:
                raise DataError(f"CSV file {path}: column name {h!r} appears twice in the "
                                "header; column names must be unique: rename one of them")
            raise DataError(f"CSV file {path}: more than one column has no name in the "
                            "header; name them (or remove trailing delimiters)")
        seen.add(h)
    if not builders or builders[0].n == 0:
        raise DataError(f"CSV file {path} has a header but no data rows")
    columns = {}
    for j, name in enumerate(header):
        b, builders[j] = builders[j], None   # release each builder once converted
        columns[name] = b.finish(na_values, name in text, _text)
        del b
    return Table(path.name, header, columns, path=path,
                 line_of=_line_finder(path, enc, delimiter))


def read_table(path, **options) -> Table:
    """``read_csv`` under its old name (kept for callers of the first version)."""
    return read_csv(path, **options)
