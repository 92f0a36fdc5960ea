"""``chainrule.save`` writes the same bytes for the same object in every process (the
safetensors header is written with sorted keys), and the files stay standard safetensors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import safetensors.numpy

import chainrule as cr
from chainrule.serialization._write import serialize

SRC = str(Path(cr.__file__).resolve().parents[1])

_SAVE = textwrap.dedent("""
    import sys
    import chainrule as cr
    from chainrule import nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    model(cr.randn(4, 3)).sum().backward()
    opt.step()
    cr.save(model, sys.argv[1] + "/whole.pt")
    cr.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
             "names": {"b": 1, "a": 2, "c": [1.5, "x"]}}, sys.argv[1] + "/ckpt.pt")
""")


def _save_in_new_process(folder: Path, hashseed: str) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": hashseed}
    subprocess.run([sys.executable, "-c", _SAVE, str(folder)], check=True, env=env,
                   timeout=120)


def test_two_processes_write_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _save_in_new_process(a, "1")  # different hash seeds: dict/set order of str keys differs
    _save_in_new_process(b, "2")
    for name in ("whole.pt", "ckpt.pt"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    model = cr.load(a / "whole.pt")
    assert isinstance(model, cr.nn.Sequential) and model[3].weight.shape == (2, 8)
    ckpt = cr.load(a / "ckpt.pt")
    assert ckpt["epoch"] == 3 and ckpt["names"] == {"b": 1, "a": 2, "c": [1.5, "x"]}


def test_serialize_is_standard_safetensors():
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.array([1, -2]),
              "h": np.ones(3, np.float16), "flag": np.array([True, False]),
              "big": np.arange(3, dtype=">f8"), "e": np.zeros((0, 4), np.float64), "s": np.array(2.5)}
    data = serialize(arrays, {"z": "1", "a": "2"})
    back = safetensors.numpy.load(data)
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(back[k], v)
    n = int.from_bytes(data[:8], "little")
    assert n % 8 == 0
    header = data[8:8 + n].decode()
    assert header.index('"__metadata__"') < header.index('"big"') < header.index('"w"')
    assert header.index('"a":"2"') < header.index('"z":"1"')
    assert serialize(dict(reversed(list(arrays.items()))), {"a": "2", "z": "1"}) == data
