"""chainrule.data.read_csv / load_csv on awkward files: huge fields, BOM, non-ASCII names,
delimiters, encodings, binary and non-regular files, pieces cut at record boundaries."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from chainrule.data import DataError, load_csv, read_csv, sniff_delimiter
from chainrule.data import _arrowread


def _write(tmp_path, text, name="d.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def _rows(n=40, sep=","):
    """n rows of a numeric feature, a category and a binary target."""
    return "".join(f"{i * 0.25}{sep}{'uvw'[i % 3]}{sep}{'ny'[i % 2]}\n" for i in range(n))


def _one_line_error(fn, *args, **kw) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("size", [131_073, 300_000, 5_000_000])
def test_huge_field(tmp_path, size):
    """The stdlib csv module stopped at 131,072 characters; pyarrow's block grows."""
    big = "x" * size
    p = _write(tmp_path, f"a,note,t\n1,{big},y\n2,short,n\n")
    table = read_csv(p)
    assert table.columns["note"][0] == big and table.columns["a"][1] == 2.0
    assert table.columns["note"].kind == "text"


def test_utf8_bom_and_non_ascii_names(tmp_path):
    p = _write(tmp_path, "\ufeffâge,Größe,東京,t\n" + "".join(
        f"{i},{i % 4},{'ab'[i % 2]},{'ny'[i % 2]}\n" for i in range(30)))
    table = read_csv(p)
    assert table.header == ["âge", "Größe", "東京", "t"]
    ds = load_csv(p, "t", categorical=["Größe"])
    assert ds.feature_names[:2] == ["âge", "Größe=0"] and "東京=a" in ds.feature_names
    assert "âge: numeric" in ds.report


@pytest.mark.parametrize("sep", [";", "\t"])
def test_delimiter_sniffed(tmp_path, sep):
    text = sep.join(["x", "c", "t"]) + "\n" + _rows(sep=sep)
    p = _write(tmp_path, text)
    assert sniff_delimiter(text) == sep
    ds = load_csv(p, "t", test_split=0.0)
    assert ds.feature_names == ["x", "c=u", "c=v", "c=w"] and ds.X_train.shape == (40, 4)


def test_semicolon_file_with_decimal_commas_is_not_split_on_commas(tmp_path):
    text = "x;y;t\n" + "".join(f"{i},5;{i};{'ab'[i % 2]}\n" for i in range(20))
    assert sniff_delimiter(text) == ";"
    assert read_csv(_write(tmp_path, text)).header == ["x", "y", "t"]


def test_delimiter_option(tmp_path):
    p = _write(tmp_path, "x|c|t\n" + _rows(sep="|"))
    assert read_csv(p, delimiter="|").header == ["x", "c", "t"]
    q = _write(tmp_path, "x\tc\tt\n" + _rows(sep="\t"), "tab.csv")
    for d in ("\t", "\\t", "tab"):
        assert read_csv(q, delimiter=d).header == ["x", "c", "t"]
    assert "delimiter must be one character" in _one_line_error(read_csv, p, delimiter="||")
    msg = _one_line_error(load_csv, q, "t", delimiter=";")
    assert "'t' not found" in msg and "--delimiter" in msg


def test_latin1_needs_encoding(tmp_path):
    text = "ville,été,t\n" + "".join(f"{'Orléans' if i % 2 else 'Paris'},{i},"
                                     f"{'ny'[i % 2]}\n" for i in range(20))
    p = _write(tmp_path, text, "latin.csv", encoding="latin-1")
    msg = _one_line_error(load_csv, p, "t")
    assert str(p) in msg and "UTF-8" in msg and "encoding='latin-1'" in msg
    assert "--encoding" in msg and "line 1" in msg
    ds = load_csv(p, "t", encoding="latin-1", test_split=0.0)
    assert "ville=Orléans" in ds.feature_names and "été" in ds.feature_names
    assert ds.preprocessor.csv_options == {"encoding": "latin-1"}


def test_decode_error_far_into_the_file_names_the_line(tmp_path):
    rows = "".join(f"{i},{'ab'[i % 2]},{'ny'[i % 2]}\n" for i in range(20_000))
    p = _write(tmp_path, ("x,c,t\n" + rows).encode() + b"1,caf\xe9,y\n")
    msg = _one_line_error(read_csv, p)
    assert str(p) in msg and "line 20002" in msg and "0xe9" in msg
    assert "encoding=" in msg


def test_utf16_file(tmp_path):
    text = "x,c,t\n" + _rows()
    p = _write(tmp_path, text, "w.csv", encoding="utf-16")
    assert "encoding='utf-16'" in _one_line_error(read_csv, p)
    table = read_csv(p, encoding="utf-16")
    assert table.header == ["x", "c", "t"] and table.n_rows == 40
    assert "unknown encoding" in _one_line_error(read_csv, p, encoding="no-such-codec")


def test_binary_files_are_refused_by_name(tmp_path):
    p = _write(tmp_path, bytes(range(256)) * 4, "model.bin")
    msg = _one_line_error(load_csv, p, "t")
    assert str(p) in msg and "not a CSV text file" in msg
    z = tmp_path / "d.csv.gz"
    z.write_bytes(gzip.compress(b"x,t\n1,2\n"))
    assert "gzip" in _one_line_error(read_csv, z)
    assert "is a directory" in _one_line_error(read_csv, tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "not a regular file" in _one_line_error(read_csv, fifo)


def test_empty_header_only_and_ragged_files(tmp_path):
    for text in ("", "\n\n  \n"):
        p = _write(tmp_path, text)
        msg = _one_line_error(load_csv, p, "t")
        assert str(p) in msg and "empty" in msg
    p = _write(tmp_path, "x,c,t\n")
    assert "no data rows" in _one_line_error(load_csv, p, "t")
    p = _write(tmp_path, "x,c,t\n" + _rows(5) + "1,u\n" + _rows(5))
    msg = _one_line_error(load_csv, p, "t")
    assert str(p) in msg and "data row 6 (line 7) has 2 fields" in msg and "'x'" in msg


def test_old_parsing_rules_kept(tmp_path):
    """Padded numbers, Python float syntax, NA tokens, dates kept as text, quotes."""
    text = ("a,b,d,q,t\n"
            " 1 ,1_000,2020-01-01,\"x, \"\"quoted\"\"\",y\n"
            "NA,Infinity,2020-01-02,\"two\nlines\",n\n"
            "3, ? ,2020-01-03,plain,y\n")
    table = read_csv(_write(tmp_path, text))
    a, b, d, q = (table.columns[k] for k in "abdq")
    assert a.kind == "number" and list(a) == [1.0, None, 3.0]
    assert b.kind == "number" and b[0] == 1000.0 and b[1] == np.inf and b[2] is None
    assert d.kind == "text" and list(d) == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert list(q) == ['x, "quoted"', "two\nlines", "plain"]
    assert table.where(2) == "data row 3 (line 5)"   # the quoted newline takes a line


@pytest.mark.parametrize("piece", [64, 200, 4096])
def test_pieces_cut_at_record_boundaries(tmp_path, monkeypatch, piece):
    """Small pieces: quoted newlines and commas never split, types stay consistent."""
    g = np.random.default_rng(0)
    lines = ["id,val,word,t"]
    for i in range(300):
        word = '"a\nb, ""c"""' if i % 7 == 0 else f"w{i % 5}"
        val = "oops" if i == 250 else f"{g.normal():.3f}"
        lines.append(f"{i},{val},{word},{'ny'[i % 2]}")
    p = _write(tmp_path, "\n".join(lines) + "\n")
    whole = read_csv(p)
    monkeypatch.setattr(_arrowread, "PIECE", piece)
    cut = read_csv(p)
    assert cut.n_rows == whole.n_rows == 300
    for name in whole.header:
        assert list(cut.columns[name]) == list(whole.columns[name]), name
    assert cut.columns["id"].kind == "number" and cut.columns["val"].kind == "text"
    assert cut.columns["word"][7] == 'a\nb, "c"'
    monkeypatch.setattr(_arrowread, "PIECE", 64)
    ints_then_floats = _write(tmp_path, "n,t\n" + "".join(f"{i},y\n" for i in range(50)) +
                              "2.5,n\n", "late.csv")
    col = read_csv(ints_then_floats).columns["n"]
    assert col.kind == "number" and col[50] == 2.5


def test_text_columns_keep_their_text(tmp_path):
    p = _write(tmp_path, "pid,code,t\n007,1.0,y\n010,2.0,n\n")
    table = read_csv(p, text_columns=["pid", "code"])
    assert list(table.columns["pid"]) == ["007", "010"]
    assert list(table.columns["code"]) == ["1.0", "2.0"]
    assert read_csv(p).columns["pid"][0] == 7.0


@pytest.mark.parametrize("nl", ["\r\n", "\r", "\n"])
def test_line_endings_and_no_final_newline(tmp_path, nl):
    text = nl.join(["x,c,t"] + _rows(12).splitlines())
    for suffix in ("", nl):
        p = tmp_path / "e.csv"
        p.write_bytes((text + suffix).encode())
        table = read_csv(p)
        assert table.header == ["x", "c", "t"] and table.n_rows == 12
        assert table.columns["t"][11] == "y" and table.columns["x"][11] == 2.75
