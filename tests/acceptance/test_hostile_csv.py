"""Crafted CSV files: each is refused with one line naming the column, row and the fix, or
loads with a documented decision — never silently misread."""

from __future__ import annotations

import os

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data import DataError, load_csv


def _write(path, header, rows):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _table(tmp_path, cell, n=60, name="t.csv", delimiter=","):
    g = np.random.default_rng(0)
    rows = [delimiter.join([f"{g.normal():.3f}", cell(i, g), str(i % 2)]) for i in range(n)]
    return _write(tmp_path / name, delimiter.join(["a", "b", "y"]), rows)


def _refused(path, *needles, **kw):
    with pytest.raises(DataError) as e:
        load_csv(path, "y", **kw)
    msg = str(e.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, msg
    return msg


def test_thousands_separators_are_named_not_one_hot_encoded(tmp_path):
    # 30 distinct values: under max_categories, so they used to become 30 categories
    p = _table(tmp_path, lambda i, g: f'"{1000 + 37 * (i % 30):,}"')
    _refused(p, "column 'b' holds numbers written with thousands separators",
             "'1,000' in data row 1 (line 2)", "--drop b")


def test_decimal_commas_are_named(tmp_path):
    p = _table(tmp_path, lambda i, g: f"{g.normal():.2f}".replace(".", ","), delimiter=";")
    _refused(p, "column 'b' holds numbers written with a decimal comma", "data row 1")
    # the ';' file's other column is numbers with '.', and a ';' delimiter is sniffed
    assert "decimal comma" in _refused(p)


def test_numbers_with_a_few_stray_tokens_are_named(tmp_path):
    p = _table(tmp_path, lambda i, g: "n/a?" if i in (6, 20) else f"{g.normal():.3f}", n=30)
    _refused(p, "column 'b' holds numbers except 2 cell(s) such as 'n/a?'",
             "data row 7 (line 8)", "--impute", "--drop b")


def test_few_codes_with_a_marker_stay_categories(tmp_path):
    p = _table(tmp_path, lambda i, g: "unknown" if i % 10 == 0 else str(i % 4))
    ds = load_csv(p, "y")
    assert "b" in ds.info["categorical"]


def test_explicit_categorical_is_not_second_guessed(tmp_path):
    p = _table(tmp_path, lambda i, g: f'"{1000 + i % 5:,}"')
    ds = load_csv(p, "y", categorical=["b"])
    assert ds.info["categorical"]["b"] == ["1,000", "1,001", "1,002", "1,003", "1,004"]


def test_huge_feature_values_keep_their_information(tmp_path):
    # squares of 1e200 overflow float64: the std used to be inf, every value standardized
    # to 0 (and a RuntimeWarning printed)
    p = _table(tmp_path, lambda i, g: f"{(i % 2 * 2 - 1) * 1e200 * (1 + g.random()):.4e}")
    with np.errstate(all="raise"):
        ds = load_csv(p, "y", test_split=0)
    col = ds.X_train.numpy()[:, 1]
    assert np.isfinite(col).all() and col.std() == pytest.approx(1, rel=1e-3)


def test_targets_beyond_float32_training_are_refused(tmp_path):
    g = np.random.default_rng(1)
    rows = [f"{g.normal():.3f},{g.normal():.3f},{g.normal() * 1e30:.4e}" for _ in range(60)]
    p = _write(tmp_path / "big.csv", "a,b,y", rows)
    _refused(p, "target 'y' has values up to", "too large to train on in float32",
             "rescale the column")


def test_trailing_delimiter_column_is_dropped_with_a_note(tmp_path):
    p = _write(tmp_path / "t.csv", "a,b,y,", [f"{i},{i % 7},{i % 2}," for i in range(60)])
    ds = load_csv(p, "y")
    assert ds.n_features == 2
    assert "trailing delimiter" in ds.report


def test_column_names_wrong_case_and_duplicates(tmp_path):
    p = _write(tmp_path / "t.csv", "Age,y", [f"{i},{i % 2}" for i in range(20)])
    with pytest.raises(DataError, match=r"did you mean 'Age'\?"):
        load_csv(p, "y", features=["age"])
    with pytest.raises(DataError, match=r"did you mean 'y'\?"):
        load_csv(p, " Y ")
    p = _write(tmp_path / "d.csv", "a,a,y", ["1,2,0"] * 20)
    _refused(p, "column name 'a' appears twice", "rename one of them")
    p = _write(tmp_path / "e.csv", "a,,,y", ["1,,,0"] * 20)
    _refused(p, "more than one column has no name")


def test_symlink_loop_is_not_called_missing(tmp_path):
    os.symlink(tmp_path / "b.csv", tmp_path / "a.csv")
    os.symlink(tmp_path / "a.csv", tmp_path / "b.csv")
    _refused(tmp_path / "a.csv", "symbolic link that leads nowhere")
    (tmp_path / "z.csv").write_bytes(b"\x1f\x8b\x08\x00rest")
    _refused(tmp_path / "z.csv", "gzip-compressed data: decompress it first")


def test_cli_one_line_exit_2(tmp_path, capsys):
    p = _table(tmp_path, lambda i, g: f'"{1000 + 37 * (i % 30):,}"')
    assert main(["train", str(p), "--target", "y", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule: error: column 'b' holds numbers")
    assert not (tmp_path / "r").exists()  # nothing half-written


def test_file_that_grows_while_being_read(tmp_path, monkeypatch):
    from chainrule.data import _arrowread

    p = _table(tmp_path, lambda i, g: f"{g.normal():.3f}", n=200)
    real = _arrowread.count_lines

    def count_then_grow(path):  # another program appends right after the lines are counted
        n = real(path)
        with open(path, "a") as f:
            f.write("".join(f"{i * 0.1:.1f},{i},{i % 2}\n" for i in range(50)))
        return n

    monkeypatch.setattr(_arrowread, "count_lines", count_then_grow)
    _refused(p, "changed while it was being read (it grew)")


def test_unicode_spellings_of_one_name_are_one(tmp_path, capsys):
    import unicodedata

    nfc, nfd = (unicodedata.normalize(f, "Café") for f in ("NFC", "NFD"))
    rows = [f"{i % 7},{nfc if i % 2 else nfd},{i % 2}" for i in range(60)]
    p = _write(tmp_path / "u.csv", f"a,{nfd},y", rows)   # a decomposed header name
    ds = load_csv(p, "y", features=["a", nfc])           # found by the typed name
    assert ds.info["categorical"] == {nfc: [nfc]}        # one category, not two
    (tmp_path / "new.csv").write_text(f"a,{nfc},y\n1,{nfd},1\n", encoding="utf-8")
    run = tmp_path / "r"
    assert main(["train", str(p), "--target", "y", "--out", str(run), "--hidden", "0",
                 "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "new.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split(",")[-1] == ""   # scored: the decomposed cell is the known category


def test_wide_table_report_is_short_on_the_console(tmp_path, capsys):
    g = np.random.default_rng(0)
    cols = 300
    rows = [",".join(f"{v:.2f}" for v in g.normal(size=cols)) + f",{i % 2}" for i in range(40)]
    p = _write(tmp_path / "w.csv", ",".join(f"c{j}" for j in range(cols)) + ",y", rows)
    assert main(["train", str(p), "--target", "y", "--out", str(tmp_path / "r"), "--hidden",
                 "0", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "    ... 270 more columns (all of them in" in out
    assert out.count("numeric (train mean") == 30
    assert (tmp_path / "r" / "report.md").read_text().count("numeric (train mean") == cols
