"""chainrule.export: the recorded forward as an inspectable, runnable, savable program."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.numpy as stn

import chainrule as cr
from chainrule import nn
from chainrule.compiler import Unsupported
from chainrule.compiler.serialize import FormatError


def _cnn():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5), nn.Softmax(1))
    return m.eval()


def test_export_runs_like_the_model_and_prints_a_table():
    m = _cnn()
    x = cr.randn(2, 1, 8, 8)
    ep = cr.export(m, (x,))
    assert np.array_equal(ep(x).numpy(), m(x).detach().numpy())
    assert np.array_equal(ep.module()(x).numpy(), m(x).detach().numpy())
    text = str(ep)
    for word in ("Conv2d", "MaxPool2d", "Linear", "Softmax", "(2, 1, 8, 8)", "float32",
                 "0.weight", "1.running_mean"):
        assert word in text
    ops = [n.op for n in ep.graph.nodes]
    assert ops[0] == "Conv2d" and ops[-1] == "Softmax"
    sig = ep.graph_signature
    assert sig["parameters"][:2] == ["0.weight", "0.bias"]
    assert "1.running_var" in sig["buffers"] and len(sig["user_inputs"]) == 1
    assert set(ep.state_dict) == set(m.state_dict())
    assert ep.run_decompositions() is ep
    # numpy-level view: the primitives' bodies, one NumPy call per line
    assert "np.matmul" in ep.graph.tabular(numpy_level=True)


def test_save_load_roundtrip(tmp_path):
    m = _cnn()
    x = cr.randn(3, 1, 8, 8)
    ep = cr.export(m, (x,))
    path = tmp_path / "model.pt2"
    ep.save(path)
    arrays = stn.load(path.read_bytes())  # a plain safetensors file
    assert "w.1" in arrays
    ep2 = cr.export.load(path)
    assert np.array_equal(ep2(x).numpy(), ep(x).numpy())
    assert str(ep2).count("\n") == str(ep).count("\n")
    cr.export.save(ep2, tmp_path / "again.pt2")
    assert np.array_equal(cr.export.load(tmp_path / "again.pt2")(x).numpy(), ep(x).numpy())


def _tamper(path, edit):
    data = path.read_bytes()
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        meta = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    body = json.loads(meta["program"])
    edit(body)
    meta["program"] = json.dumps(body)
    path.write_bytes(stn.save(arrays, metadata=meta))
    return data


@pytest.mark.parametrize("edit,match", [
    (lambda b: b["nodes"][0].update(fn="Evil"), "unknown primitive"),
    (lambda b: b["nodes"][0]["body"][0].update(kind="func", fn="load"), "not allowed"),
    (lambda b: b["nodes"][0]["body"][0].update(kind="method", fn="tofile"), "not allowed"),
    (lambda b: b["values"][0].update(dtype="object"), "bad value record"),
    (lambda b: b["nodes"][0].update(outputs=[10**6]), "out of range"),
])
def test_load_rejects_tampered_programs(tmp_path, edit, match):
    path = tmp_path / "m.pt2"
    cr.export(_cnn(), (cr.randn(1, 1, 8, 8),)).save(path)
    _tamper(path, edit)
    with pytest.raises(FormatError, match=match):
        cr.export.load(path)


def test_load_rejects_other_files(tmp_path):
    p = tmp_path / "w.safetensors"
    p.write_bytes(stn.save({"a": np.zeros(2, np.float32)}))
    with pytest.raises(FormatError, match="not a chainrule.export file"):
        cr.export.load(p)
    q = tmp_path / "x.pkl"
    q.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="pickle"):
        cr.export.load(q)


def test_export_checks_inputs_and_arguments():
    m = _cnn()
    ep = cr.export(m, (cr.randn(2, 1, 8, 8),))
    with pytest.raises(RuntimeError, match=r"expected input 0 of shape \(2, 1, 8, 8\)"):
        ep(cr.randn(5, 1, 8, 8))
    with pytest.raises(TypeError, match="tuple"):
        cr.export(m, cr.randn(2, 1, 8, 8))
    with pytest.raises(NotImplementedError, match="dynamic_shapes"):
        cr.export(m, (cr.randn(2, 1, 8, 8),), dynamic_shapes={"x": {0: "batch"}})


def test_export_a_function_and_what_cannot_be_exported():
    ep = cr.export(lambda x, y: (x.relu() * y, y.sum()), (cr.randn(4), cr.randn(4)))
    x, y = cr.randn(4), cr.randn(4)
    a, b = ep(x, y)
    assert np.array_equal(a.numpy(), (x.relu() * y).numpy())
    assert np.array_equal(b.numpy(), y.sum().numpy())

    def noisy(x):
        print(x)
        return x

    with pytest.raises(Unsupported, match="printing"):
        cr.export(noisy, (cr.randn(2),))

    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g

    ep = cr.export(lambda x: Square.apply(x), (cr.randn(3),))
    with pytest.raises(FormatError, match="custom autograd.Function"):
        ep.save(pytest.importorskip("io").BytesIO())
