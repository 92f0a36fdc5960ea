"""Hostile and broken run directories: every one is a RunError (a ValueError) with a clear
message, before anything large is allocated or a FIFO/device is read; the CLI shows it as
one line with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train import RunError, load_run
from chainrule.train import rundir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("rundir")
    g = np.random.default_rng(0)
    X = g.normal(size=(60, 2))
    lines = ["a,b,y"] + [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in X]
    (d / "d.csv").write_text("\n".join(lines) + "\n")
    assert main(["train", str(d / "d.csv"), "--target", "y", "--out", str(d / "run"),
                 "--hidden", "4", "--dropout", "0", "--weight-decay", "0", "--lr", "0.01",
                 "--epochs", "2", "--quiet"]) == 0
    return d / "run"


@pytest.fixture
def copy(run, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(run, dst)
    return dst


def _refused(directory, capsys, match):
    with pytest.raises(RunError, match=match):
        load_run(directory)
    assert main(["summary", str(directory)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


def test_run_error_is_a_documented_value_error():
    assert issubclass(RunError, ValueError)
    assert "malformed" in RunError.__doc__


def test_deeply_nested_config_is_one_line(copy, capsys):
    (copy / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    msg = _refused(copy, capsys, "nests 100000 levels deep")
    assert "RecursionError" not in msg


def test_huge_hidden_sizes_are_refused_without_allocating(copy, capsys):
    config = json.loads((copy / "config.json").read_text())
    config["architecture"]["hidden"] = [1_000_000, 1_000_000]
    (copy / "config.json").write_text(json.dumps(config))
    tracemalloc.start()
    try:
        with pytest.raises(RunError, match="other tensors"):
            load_run(copy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # the model would take 4 TB
    assert main(["summary", str(copy)]) == 2
    assert "model.safetensors holds other tensors" in capsys.readouterr().err


def test_model_file_symlinked_to_dev_zero(copy, capsys):
    (copy / "model.safetensors").unlink()
    os.symlink("/dev/zero", copy / "model.safetensors")
    _refused(copy, capsys, "is a device, not a regular file")


def test_fifo_model_and_config_are_refused_without_blocking(copy, run):
    """In a subprocess with a timeout: a blocking open of a FIFO would hang forever."""
    (copy / "model.safetensors").unlink()
    os.mkfifo(copy / "model.safetensors")
    other = copy.parent / "run2"
    shutil.copytree(run, other)
    (other / "config.json").unlink()
    os.mkfifo(other / "config.json")
    code = ("import sys\nfrom chainrule.cli import main\n"
            "sys.exit(main(['summary', sys.argv[1]]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    for d in (copy, other):
        p = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True,
                           text=True, timeout=60, env=env)
        assert p.returncode == 2
        assert "is a FIFO, not a regular file" in p.stderr and len(
            p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content,match", [
    (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.", "pickle"),
    (b"PK\x03\x04" + b"\x00" * 40, "zip"),
    (b"\x05\x00", "truncated"),
    (b"\xff" * 8 + b"{}", "truncated|header"),
    (b"\x00" * 64, "cannot be loaded"),
])
def test_corrupt_model_files(copy, capsys, content, match):
    (copy / "model.safetensors").write_bytes(content)
    _refused(copy, capsys, match)


def test_lying_tensor_sizes_and_malformed_structure(copy, run, capsys):
    data = (run / "model.safetensors").read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    first = next(k for k in header if k != "__metadata__")
    lie = dict(header)
    lie[first] = {**header[first], "shape": [10**6, 10**6]}
    _write_header(copy / "model.safetensors", lie, data[8 + n:])
    _refused(copy, capsys, "cannot be loaded")
    bad = dict(header)
    bad["__metadata__"] = {**header["__metadata__"], "structure": json.dumps(
        {"t": "odict", "v": [[["0", "weight"], {"t": "tensor", "k": "0"}]]})}
    _write_header(copy / "model.safetensors", bad, data[8 + n:])
    _refused(copy, capsys, "cannot be loaded|does not hold")


def _write_header(path, header, body):
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + body)


@pytest.mark.parametrize("edit,match", [
    (lambda c: c["architecture"].update(hidden="64"), "hidden must be a list"),
    (lambda c: c["architecture"].update(activation="os.system"), "unknown activation"),
    (lambda c: c["architecture"].update(dropout=2), "dropout"),
    (lambda c: c.update(task="evil"), "task must be one of"),
    (lambda c: c.update(classes=None), "class labels"),
    (lambda c: c.pop("architecture"), "architecture"),
    (lambda c: c.update(preprocessing={"version": 2, "features": 5}), "preprocessing"),
    (lambda c: c["architecture"].update(n_inputs=7), "other tensors"),
])
def test_config_fields_are_checked(copy, capsys, edit, match):
    config = json.loads((copy / "config.json").read_text())
    edit(config)
    (copy / "config.json").write_text(json.dumps(config))
    _refused(copy, capsys, match)


def test_config_size_limit_and_encoding(copy, capsys, monkeypatch):
    (copy / "config.json").write_bytes(b"\xff\xfe{}")
    _refused(copy, capsys, "not UTF-8")
    (copy / "config.json").write_text(json.dumps({"format": "chainrule.run", "x": "a" * 5000}))
    monkeypatch.setattr(rundir, "MAX_CONFIG_BYTES", 4096)
    _refused(copy, capsys, "more than the 4096 bytes")


def test_a_good_run_still_loads(run):
    loaded = load_run(run)
    assert isinstance(loaded.model, cr.nn.Sequential)
    assert loaded.config["status"] == "complete"


def test_a_new_run_replaces_only_the_old_runs_files(copy, capsys, tmp_path):
    (copy / "search" / "notes.txt").write_text("mine")
    (copy / "mine.csv").write_text("x")
    (copy / "search" / "c7.safetensors").write_bytes(b"old candidate")
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    assert main(["train", str(data), "--target", "y", "--out", str(copy), "--hidden", "2",
                 "--dropout", "0", "--weight-decay", "0", "--lr", "0.01", "--epochs", "1",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert (copy / "search" / "notes.txt").read_text() == "mine"
    assert (copy / "mine.csv").exists() and not (copy / "search" / "c7.safetensors").exists()
    assert json.loads((copy / "config.json").read_text())["data"]["file"] == "d.csv"
