"""chainrule.save / chainrule.load: round trips and atomic writes."""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import chainrule as cr
from chainrule import serialization


def _same_tensor(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.requires_grad == b.requires_grad
    assert a._data.tobytes() == b._data.tobytes()  # bit for bit


def test_round_trip_nested_containers(tmp_path):
    rng = np.random.default_rng(0)
    base = cr.tensor(rng.normal(size=(4, 6)), dtype=cr.float64)
    obj = {
        "f32": cr.tensor(rng.normal(size=(3, 5)).astype(np.float32), requires_grad=True),
        "f64": cr.tensor([np.nan, -np.inf, 1e-310, -0.0], dtype=cr.float64),
        "i64": cr.tensor([[1, -2], [3, 2**62]]),
        "bool": cr.tensor([True, False]),
        "scalar": cr.tensor(3.5),
        "empty": cr.zeros(0, 3),
        "view": base[:, ::2],  # non-contiguous
        "np": rng.normal(size=(2, 2)).astype(np.float32),
        "np_scalar": np.float32(1.25),
        "numbers": [1, -2.5, float("inf"), float("nan"), True, None, "text", 2**70],
        "tuple": (1, (2, "x")),
        3: "int key",
        (1, "a"): "tuple key",
        "od": OrderedDict([("b", 1), ("a", 2)]),
        "deep": {"a": [{"b": (cr.ones(2),)}]},
    }
    path = tmp_path / "obj.pt"
    cr.save(obj, path)
    back = cr.load(path, map_location="cpu", weights_only=True)
    assert list(back) == list(obj)
    for k in ("f32", "f64", "i64", "bool", "scalar", "empty"):
        _same_tensor(back[k], obj[k])
    assert back["view"]._data.tobytes() == np.ascontiguousarray(obj["view"]._data).tobytes()
    assert isinstance(back["np"], np.ndarray) and back["np"].dtype == np.float32
    assert back["np"].tobytes() == obj["np"].tobytes()
    assert isinstance(back["np_scalar"], np.float32) and back["np_scalar"] == 1.25
    nums = back["numbers"]
    assert nums[:3] == [1, -2.5, float("inf")] and np.isnan(nums[3])
    assert nums[4:] == [True, None, "text", 2**70]
    assert type(nums[0]) is int and type(nums[1]) is float and type(nums[4]) is bool
    assert back["tuple"] == (1, (2, "x"))
    assert back[3] == "int key" and back[(1, "a")] == "tuple key"
    assert type(back["od"]) is OrderedDict and list(back["od"]) == ["b", "a"]
    _same_tensor(back["deep"]["a"][0]["b"][0], obj["deep"]["a"][0]["b"][0])
    assert back["f32"].is_leaf and back["f32"].grad is None


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    t = cr.arange(6, dtype=cr.float32)
    cr.save(t, tmp_path / "t.pt")
    back = cr.load(tmp_path / "t.pt")
    back.add_(1)  # must not fail (the arrays read from bytes are copied when read-only)
    assert t[0].item() == 0.0 and back[0].item() == 1.0


def test_tied_tensors_load_as_one(tmp_path):
    w = cr.randn(3, 3)
    cr.save({"a": w, "b": w, "c": [w]}, tmp_path / "tied.pt")
    back = cr.load(tmp_path / "tied.pt")
    assert back["a"] is back["b"] is back["c"][0]


def test_parameters_round_trip_as_parameters(tmp_path):
    nn = pytest.importorskip("chainrule.nn")
    p = nn.Parameter(cr.randn(2, 3))
    frozen = nn.Parameter(cr.randn(2), requires_grad=False)
    cr.save([p, frozen], tmp_path / "p.pt")
    back = cr.load(tmp_path / "p.pt")
    _same_tensor(back[0], p)
    _same_tensor(back[1], frozen)


def test_saved_file_has_the_usual_permissions(tmp_path):
    cr.save(cr.ones(1), tmp_path / "m.pt")
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    cr.save({"x": cr.ones(2, 2)}, buf)
    buf.seek(0)
    _same_tensor(cr.load(buf)["x"], cr.ones(2, 2))


def test_unsupported_object_names_its_place(tmp_path):
    with pytest.raises(TypeError, match=r"builtins.object at obj\['b'\]\[1\]"):
        cr.save({"a": 1, "b": [2, object()]}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match=r"<lambda> at obj\['b'\]\[1\]: it is defined inside"):
        cr.save({"a": 1, "b": [2, lambda: 0]}, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_plain_safetensors_file_loads_as_dict(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array([7])}
    (tmp_path / "m.safetensors").write_bytes(safetensors.numpy.save(arrays))
    back = cr.load(tmp_path / "m.safetensors")
    assert set(back) == {"w", "n"}
    np.testing.assert_array_equal(back["w"]._data, arrays["w"])
    assert back["n"].dtype == cr.int64


def test_file_is_standard_safetensors_with_json_structure(tmp_path):
    cr.save({"w": cr.ones(2)}, tmp_path / "s.pt")
    data = (tmp_path / "s.pt").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    assert meta["format"] == "chainrule"
    assert json.loads(meta["structure"])["t"] == "dict"
    np.testing.assert_array_equal(safetensors.numpy.load(data)["0"], np.ones(2, np.float32))


# -- models and optimizers ---------------------------------------------------------------
def test_model_outputs_bit_for_bit(tmp_path):
    nn = pytest.importorskip("chainrule.nn")
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    cr.save(model.state_dict(), tmp_path / "model.pt")
    cr.manual_seed(123)  # a differently initialised copy
    other = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x = cr.randn(5, 4)
    assert not np.array_equal(other(x)._data, model(x)._data)
    other.load_state_dict(cr.load(tmp_path / "model.pt"))
    assert other(x)._data.tobytes() == model(x)._data.tobytes()


@pytest.mark.parametrize("make", [
    lambda p: cr.optim.Adam(p, lr=0.05, amsgrad=True),
    lambda p: cr.optim.SGD(p, lr=0.002, momentum=0.9, nesterov=True),
    lambda p: cr.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    lambda p: cr.optim.LBFGS(p, lr=0.5, max_iter=3, line_search_fn="strong_wolfe"),
], ids=["Adam", "SGD", "RMSprop", "LBFGS"])
def test_resume_from_checkpoint_equals_uninterrupted(tmp_path, make):
    rng = np.random.default_rng(3)
    A, b0 = rng.normal(size=(6, 3)), rng.normal(size=6)
    w_init = rng.normal(size=3)

    def run(n_steps, w=None, opt=None):
        if w is None:
            w = cr.tensor(w_init, dtype=cr.float32, requires_grad=True)
            opt = make([w])
        At, bt = cr.tensor(A, dtype=cr.float32), cr.tensor(b0, dtype=cr.float32)

        def closure():
            opt.zero_grad()
            loss = ((At @ w - bt) ** 2).sum() + (w**4).sum()
            loss.backward()
            return loss

        for _ in range(n_steps):
            opt.step(closure)
        return w, opt

    w_full, _ = run(8)
    w, opt = run(4)
    cr.save({"w": w, "opt": opt.state_dict(), "epoch": 4}, tmp_path / "ckpt.pt")
    ckpt = cr.load(tmp_path / "ckpt.pt")
    w2 = ckpt["w"]
    w_mid = w2._data.copy()
    assert w2.requires_grad and ckpt["epoch"] == 4
    opt2 = make([w2])
    opt2.load_state_dict(ckpt["opt"])
    run(4, w2, opt2)
    assert np.isfinite(w_full._data).all()
    assert not np.array_equal(w_full._data, w_mid)  # training moved on
    assert w2._data.tobytes() == w_full._data.tobytes()


# (crafted and hostile files: tests/test_load_safety.py; whole modules: tests/test_module_save.py)


# -- atomic writes -------------------------------------------------------------------------
def test_interrupted_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    old = {"w": cr.arange(5, dtype=cr.float32)}
    cr.save(old, path)

    def crash(fh, data):
        fh.write(data[: len(data) // 2])
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(serialization, "_write_all", crash)
    with pytest.raises(KeyboardInterrupt):
        cr.save({"w": cr.randn(1000)}, path)
    _same_tensor(cr.load(path)["w"], old["w"])
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file was removed


def test_killed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    cr.save({"w": cr.ones(3)}, path)
    script = textwrap.dedent(f"""
        import sys, time
        import chainrule as cr
        from chainrule import serialization

        def slow(fh, data):
            fh.write(data[: len(data) // 2])
            fh.flush()
            print("half", flush=True)
            time.sleep(60)
            fh.write(data[len(data) // 2:])

        serialization._write_all = slow
        cr.save({{"w": cr.zeros(100000)}}, {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "half"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _same_tensor(cr.load(path)["w"], cr.ones(3))
