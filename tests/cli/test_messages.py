"""Every data option a message recommends exists as a flag, and every error is one line on
stderr with exit code 2 naming the flag, file, column or row (never a temporary file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main

QUICK = ["--hidden", "4", "--dropout", "0", "--weight-decay", "0", "--lr", "0.02",
         "--epochs", "3", "--quiet"]


def _error(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), err
    assert "Traceback" not in err and ".chainrule-" not in err
    return lines[0]


def _table(path: Path, header, rows, encoding="utf-8", sep=","):
    text = "\n".join([sep.join(header)] + [sep.join(map(str, r)) for r in rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.fixture
def numbers(tmp_path):
    g = np.random.default_rng(0)
    rows = [[f"{a:.3f}", f"{b:.3f}", f"{c:.3f}", int(a + b > 0)]
            for a, b, c in g.normal(size=(60, 3))]
    return _table(tmp_path / "n.csv", ["a", "b", "c", "y"], rows)


def test_seed_and_other_flags_are_named(numbers, capsys):
    assert "argument --seed: must be a non-negative integer, got -1" in _error(
        ["train", numbers, "--target", "y", "--seed", "-1"], capsys)
    assert "argument --threads: must be a positive integer" in _error(
        ["train", numbers, "--target", "y", "--threads", "0"], capsys)
    assert "argument --lr" in _error(["train", numbers, "--target", "y", "--lr", "-1"],
                                     capsys)
    assert "argument --hidden" in _error(["train", numbers, "--target", "y", "--hidden",
                                          "64,x"], capsys)
    assert "argument --max-categories" in _error(["train", numbers, "--target", "y",
                                                  "--max-categories", "0"], capsys)
    assert "argument --encoding: unknown encoding" in _error(
        ["train", numbers, "--target", "y", "--encoding", "klingon"], capsys)
    assert "argument --epochs" in _error(["demo", "--epochs", "-1"], capsys)
    assert "--target" in _error(["train", numbers], capsys)
    assert "--resume takes" in _error(["train", "--resume", "x", "--target", "y"], capsys)


def test_out_is_checked_before_reading_and_named(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    missing = str(tmp_path / "missing.csv")  # reading it would fail: --out is checked first
    msg = _error(["train", missing, "--target", "y", "--out", str(blocker / "run")], capsys)
    assert str(blocker / "run") in msg and "missing.csv" not in msg
    msg = _error(["train", missing, "--target", "y", "--out", str(blocker)], capsys)
    assert "--out" in msg and str(blocker) in msg


def test_predict_out_errors_name_the_users_path(numbers, tmp_path, capsys):
    assert main(["train", numbers, "--target", "y", "--out", str(tmp_path / "run")]
                + QUICK) == 0
    capsys.readouterr()
    target = tmp_path / "nodir" / "p.csv"
    msg = _error(["predict", str(tmp_path / "run"), numbers, "--out", str(target)], capsys)
    assert str(target) in msg
    msg = _error(["predict", str(tmp_path / "run"), numbers, "--out", str(tmp_path)], capsys)
    assert str(tmp_path) in msg and "directory" in msg


def test_binary_file_names_the_file(tmp_path, capsys):
    p = tmp_path / "blob.csv"
    p.write_bytes(bytes(range(256)) * 20)
    assert "blob.csv" in _error(["train", str(p), "--target", "y"], capsys)


def test_two_rows_free_text_target_and_non_finite_are_one_line(tmp_path, capsys):
    two = _table(tmp_path / "two.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, 1]])
    _error(["train", two, "--target", "y"], capsys)
    labels = _table(tmp_path / "t.csv", ["a", "y"], [[i, f"label {i}"] for i in range(300)])
    assert "300 classes in 300 rows" in _error(["train", labels, "--target", "y"], capsys)
    inf = _table(tmp_path / "inf.csv", ["a", "b", "y"],
                 [[1, "inf", 0]] + [[i, 2 * i, i % 2] for i in range(30)])
    msg = _error(["train", inf, "--target", "y"], capsys)
    assert "'b'" in msg and "row 1" in msg


def test_data_flags(tmp_path, capsys):
    g = np.random.default_rng(2)
    rows = []
    for i, (a, b) in enumerate(g.normal(size=(80, 2))):
        rows.append([f"id{i}", "" if i % 10 == 3 else f"{a:.3f}", f"{b:.3f}",
                     f"note {i}", "Zürich" if i % 2 else "Genève", int(a > 0)])
    header = ["key", "a", "b", "notes", "city", "y"]
    path = _table(tmp_path / "d.csv", header, rows, encoding="latin-1", sep=";")
    base = ["train", path, "--target", "y"] + QUICK
    msg = _error(base + ["--out", str(tmp_path / "r0")], capsys)
    assert "d.csv" in msg and "--encoding" in msg
    msg = _error(base + ["--encoding", "latin-1", "--out", str(tmp_path / "r0")], capsys)
    assert "--drop" in msg or "--id-column" in msg  # 'key'/'notes' look like free text
    out = tmp_path / "r1"
    assert main(base + ["--encoding", "latin-1", "--delimiter", ";", "--drop", "notes",
                        "--id-column", "key", "--impute", "--out", str(out)]) == 0
    capsys.readouterr()
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["kept"] == 80  # imputed, not dropped
    pre = config["preprocessing"]
    assert "notes" not in pre["features"] and "key" not in pre["features"]
    assert main(["predict", str(out), path, "--out", str(tmp_path / "p.csv")]) == 0
    capsys.readouterr()
    head = (tmp_path / "p.csv").read_text().splitlines()
    assert head[0].startswith("row,key,prediction") and head[1].startswith("1,id0,")
    out2 = tmp_path / "r2"
    assert main(base + ["--encoding", "latin-1", "--features", "a,city", "--impute",
                        "median", "--max-categories", "2", "--out", str(out2)]) == 0
    capsys.readouterr()
    assert json.loads((out2 / "config.json").read_text())["preprocessing"]["features"] == \
        ["a", "city"]


def test_explain_accepts_an_expression_starting_with_minus(capsys):
    assert main(["explain", "-x**2", "--at", "x=3"]) == 0
    assert "-6" in capsys.readouterr().out


def test_plot_hint_is_printed_once(tmp_path, numbers, capsys, monkeypatch):
    import chainrule.viz.plots as plots

    def missing(*a, **k):
        raise ImportError("chainrule.viz plots need matplotlib: pip install 'chainrule[plot]'")

    monkeypatch.setattr(plots, "_figure", missing)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["demo", "--epochs", "1", "--quiet"]) == 0
        assert capsys.readouterr().out.count("matplotlib") == 1
        assert main(["train", numbers, "--target", "y", "--out", "r"] + QUICK) == 0
        assert capsys.readouterr().out.count("matplotlib") == 1
    finally:
        os.chdir(cwd)


def test_demo_with_zero_epochs(tmp_path, capsys):
    assert main(["demo", "--epochs", "0", "--quiet", "--out", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "model.safetensors").exists()
    assert "wrote" in capsys.readouterr().out


def test_built_in_name_beside_a_directory_of_that_name(tmp_path, capsys):
    """``train heart --out heart``: the run directory exists (checked before reading) and
    must not hide the built-in dataset."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["train", "heart", "--target", "AHD", "--out", "heart"] + QUICK) == 0
        assert main(["evaluate", "heart", "heart"]) == 0
    finally:
        os.chdir(cwd)
    assert "accuracy" in capsys.readouterr().out
