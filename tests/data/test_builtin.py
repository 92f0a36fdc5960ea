"""The Heart data ships inside the package; dataset names resolve to files; nothing in the
repository reads a data folder beside it."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

from chainrule import data
from chainrule.data import DataFileNotFoundError

ROOT = Path(__file__).resolve().parents[2]
HEART_SHA256 = "02f16f4df1c61974608de1e859991c490c14e036d357f9bf077609f15445bfbd"


def test_heart_is_package_data():
    ref = resources.files("chainrule.data").joinpath("_files", "Heart.csv")
    assert ref.is_file()
    assert hashlib.sha256(ref.read_bytes()).hexdigest() == HEART_SHA256
    readme = resources.files("chainrule.data").joinpath("_files", "README.md").read_text()
    assert "Introduction to Statistical Learning" in readme and "UCI" in readme
    assert "Licence" in readme


def test_resolve_dataset_names_and_paths(tmp_path, monkeypatch):
    heart = data.resolve_dataset("heart")
    assert heart.name == "Heart.csv" and heart.is_file()
    assert data.resolve_csv is data.resolve_dataset
    for name in ("Heart", "HEART", "heart.csv", " heart "):
        assert data.resolve_dataset(name) == heart
    mine = tmp_path / "mine.csv"
    mine.write_text("a,t\n1,2\n")
    assert data.resolve_dataset(mine) == mine
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Heart").mkdir()   # a directory (a run dir) never hides the name
    assert data.resolve_dataset("Heart") == heart
    (tmp_path / "heart").write_text("x,t\n1,2\n")   # an existing file wins over a name
    assert data.resolve_dataset("heart") == Path("heart")
    (tmp_path / "runs").mkdir()
    assert data.resolve_dataset("runs") == Path("runs")   # read_csv: "is a directory"
    with pytest.raises(DataFileNotFoundError, match=r"not found.*built-in dataset: heart"):
        data.resolve_dataset("hart")
    assert data.builtin_datasets()["heart"].target == "AHD"


def test_load_csv_accepts_a_builtin_name():
    ds = data.load_csv("heart", "AHD", val_split=0.2)
    assert ds.info["file"] == "Heart.csv" and ds.info["rows_kept"] == 297


def test_nothing_reads_beside_the_repository():
    """A fresh clone has no ../shared: no test or source file may look there."""
    # a path literal ("../shared/...", "/work/shared/...") or ROOT / ".." / "shared"; prose
    # that mentions the folder (a string with spaces) is not a read
    pattern = re.compile(r"""(["'](\.\./|/work/)shared[^"'\s]*["']"""
                         r"""|["']\.\.["']\s*/\s*["']shared["'])""")
    offenders = []
    for folder in ("src", "tests", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
