"""Whole-module chainrule.save / chainrule.load: classes by path, constructor arguments,
the safe-globals allowlist, and nothing imported or run that the user did not allow."""

from __future__ import annotations

import io
import json
import struct
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule import serialization as S
from chainrule.nn import functional as F
from chainrule.serialization import LoadError


class MLP(nn.Module):
    def __init__(self, n_in, hidden=(8, 8), act=F.tanh, dtype=cr.float32, p=0.0):
        super().__init__()
        sizes = (n_in, *hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=dtype) for a, b in
                                    zip(sizes, sizes[1:]))
        self.drop = nn.Dropout(p)
        self.head = nn.Linear(sizes[-1], 1, dtype=dtype)
        self.act = act
        self.register_buffer("calls", cr.zeros((), dtype=cr.int64))

    def forward(self, x):
        for layer in self.layers:
            x = self.drop(self.act(layer(x)))
        return self.head(x)


class Wrapper(nn.Module):
    """Takes a module as a constructor argument (like Sequential)."""

    def __init__(self, inner, scale: float = 2.0):
        super().__init__()
        self.inner = inner
        self.scale = scale

    def forward(self, x):
        return self.inner(x) * self.scale


class TiedAutoencoder(nn.Module):
    def __init__(self, n, k):
        super().__init__()
        self.enc = nn.Linear(n, k, bias=False)
        self.dec = nn.Linear(k, n, bias=False)
        self.dec.weight = self.enc.weight  # a tie (shapes are transposed in use)

    def forward(self, x):
        return F.linear(self.enc(x), self.dec.weight.T)


class Tokenizer:
    pass


class NeedsTokenizer(nn.Module):
    def __init__(self, tok, n=3):
        super().__init__()
        self.fc = nn.Linear(n, n)


def my_activation(x):
    return x * 2


@pytest.fixture(autouse=True)
def _clean_allowlist():
    S.clear_safe_globals()
    yield
    S.clear_safe_globals()


def _round_trip(obj, **load_kw):
    buf = io.BytesIO()
    cr.save(obj, buf)
    buf.seek(0)
    return cr.load(buf, **load_kw)


def _same_outputs(a, b, x):
    assert a(x)._data.tobytes() == b(x)._data.tobytes()


def _path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def test_sequential_of_builtins_round_trips_with_modes_and_buffers():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.LayerNorm(8), nn.Linear(8, 2))
    x = cr.randn(16, 4)
    model(x)  # moves the BatchNorm running statistics
    model.eval()
    model[3].train()  # one submodule left in training mode
    back = _round_trip(model)
    assert type(back) is nn.Sequential and [type(m) for m in back] == [type(m) for m in model]
    assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
    assert back[1].running_mean._data.tobytes() == model[1].running_mean._data.tobytes()
    assert back[1].num_batches_tracked.item() == 1
    model[3].eval()
    back[3].eval()
    _same_outputs(model, back, cr.randn(5, 4))
    assert all(type(p) is nn.Parameter and p.is_leaf for p in back.parameters())
    assert repr(back) == repr(model)


def test_user_class_needs_allowing_and_names_the_fix():
    model = MLP(3, hidden=(5,), act=F.gelu, p=0.1)
    buf = io.BytesIO()
    cr.save(model, buf)
    with pytest.raises(LoadError, match=rf"names '{_path(MLP)}', which is not allowed.*"
                                        r"add_safe_globals\(\[MLP\]\).*safe_globals\(\[MLP\]\)"):
        cr.load(io.BytesIO(buf.getvalue()))
    S.add_safe_globals([MLP])
    assert S.get_safe_globals() == [MLP]
    back = cr.load(io.BytesIO(buf.getvalue()))
    assert type(back) is MLP and back.act is F.gelu and back.drop.p == 0.1
    _same_outputs(model.eval(), back.eval(), cr.randn(4, 3))


def test_safe_globals_context_manager_allows_only_inside():
    data = io.BytesIO()
    cr.save(MLP(2), data)
    with S.safe_globals([MLP]):
        assert S.get_safe_globals() == [MLP]
        back = cr.load(io.BytesIO(data.getvalue()))
    assert type(back) is MLP
    assert S.get_safe_globals() == []
    with pytest.raises(LoadError, match="not allowed"):
        cr.load(io.BytesIO(data.getvalue()))
    S.add_safe_globals([MLP])  # allowed before the block: still allowed after it
    with S.safe_globals([MLP]):
        pass
    assert S.get_safe_globals() == [MLP]


def test_allowing_under_another_path():
    data = io.BytesIO()
    cr.save(MLP(2), data)
    raw = data.getvalue().replace(_path(MLP).encode(), b"__main__.MLPxx")
    (n,) = struct.unpack("<Q", raw[:8])  # the header got 1 byte longer or shorter: re-frame
    header = raw[8:8 + n + len(b"__main__.MLPxx") - len(_path(MLP))]
    raw = struct.pack("<Q", len(header)) + header + data.getvalue()[8 + n:]
    S.add_safe_globals([(MLP, "__main__.MLPxx")])
    assert type(cr.load(io.BytesIO(raw))) is MLP


def test_nested_custom_modules_and_modules_as_arguments():
    S.add_safe_globals([MLP, Wrapper])
    model = Wrapper(nn.Sequential(MLP(3, hidden=(4,)), nn.Tanh(), Wrapper(nn.Linear(1, 2), 0.5)),
                    scale=3.0)
    back = _round_trip(model)
    assert type(back.inner[0]) is MLP and type(back.inner[2]) is Wrapper
    assert back.scale == 3.0 and back.inner[2].scale == 0.5
    _same_outputs(model, back, cr.randn(6, 3))


def test_constructor_argument_that_cannot_be_stored_is_named(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), NeedsTokenizer(Tokenizer()))
    with pytest.raises(TypeError, match=r"module at obj.1 \(NeedsTokenizer\) whole: its "
                                        r"constructor argument 'tok' is a .*Tokenizer.*"
                                        r"state_dict\(\)"):
        cr.save(model, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(TypeError, match=r"argument 'act' .*<lambda>.* is defined inside a "
                                        r"function or is a lambda"):
        cr.save(MLP(2, act=lambda x: x), tmp_path / "m.pt")

    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="its class .*Local is defined inside a function"):
        cr.save(Local(), tmp_path / "m.pt")


def test_tied_weights_stay_tied():
    S.add_safe_globals([TiedAutoencoder])
    model = TiedAutoencoder(5, 2)
    back = _round_trip(model)
    assert back.dec.weight is back.enc.weight
    assert len(list(back.parameters())) == 1
    _same_outputs(model, back, cr.randn(3, 5))


def test_changes_after_construction_are_kept():
    S.add_safe_globals([MLP])
    model = MLP(3, hidden=(4, 4))
    model.head = nn.Linear(4, 7)  # replaced: not what the constructor makes
    model.layers.append(nn.Linear(4, 4))
    del model.drop
    model.register_buffer("mean", cr.arange(3.0))  # added later
    model.register_buffer("cache", cr.ones(2), persistent=False)
    model.layers[0].weight.requires_grad_(False)  # frozen
    model.threshold = 0.7  # a plain attribute
    model.double()
    model.drop = nn.Identity()
    back = _round_trip(model)
    assert back.head.out_features == 7 and back.head.weight.shape == (7, 4)
    assert len(back.layers) == 3 and isinstance(back.drop, nn.Identity)
    assert back.mean.tolist() == [0.0, 1.0, 2.0] and back.cache.tolist() == [1.0, 1.0]
    assert "cache" not in back.state_dict() and "mean" in back.state_dict()
    assert not back.layers[0].weight.requires_grad and back.layers[1].weight.requires_grad
    assert back.threshold == 0.7 and back.head.weight.dtype == cr.float64
    assert list(back.state_dict()) == list(model.state_dict())
    _same_outputs(model, back, cr.randn(2, 3, dtype=cr.float64))


def test_module_inside_a_checkpoint_dict_keeps_identities():
    S.add_safe_globals([MLP])
    model = MLP(2)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(3, 2)).sum().backward()
    opt.step()
    back = _round_trip({"model": model, "head": model.head, "w": model.head.weight,
                        "opt": opt.state_dict(), "epoch": 3})
    assert back["head"] is back["model"].head and back["w"] is back["model"].head.weight
    opt2 = cr.optim.Adam(back["model"].parameters(), lr=0.01)
    opt2.load_state_dict(back["opt"])
    assert back["epoch"] == 3


def test_entries_are_named_by_state_dict_keys():
    buf = io.BytesIO()
    cr.save(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), buf)
    data = buf.getvalue()
    (n,) = struct.unpack("<Q", data[:8])
    keys = set(json.loads(data[8:8 + n])) - {"__metadata__"}
    assert keys == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                    "1.running_var", "1.num_batches_tracked"}


def test_user_function_arguments_need_allowing_too():
    S.add_safe_globals([MLP])
    buf = io.BytesIO()
    cr.save(MLP(2, act=my_activation), buf)
    assert S.get_unsafe_globals_in_checkpoint(io.BytesIO(buf.getvalue())) == [
        _path(my_activation)]
    with pytest.raises(LoadError, match="my_activation"):
        cr.load(io.BytesIO(buf.getvalue()))
    S.add_safe_globals([my_activation])
    assert cr.load(io.BytesIO(buf.getvalue())).act is my_activation


# -- nothing named in a file is imported or run unless allowed --------------------------------
class _ImportSpy:
    """A meta-path finder that records every module name Python tries to import."""

    def __init__(self):
        self.asked = []

    def find_spec(self, name, path=None, target=None):
        self.asked.append(name)
        return None


def _crafted(tmp_path, cls_path, arg=None):
    record = {"cls": cls_path, "args": [] if arg is None else [arg], "kwargs": [],
              "ctor": False, "children": [], "params": [], "buffers": [], "attrs": []}
    import safetensors.numpy

    meta = {"format": "chainrule", "structure": json.dumps({"t": "module", "i": 0}),
            "modules": json.dumps([record])}
    path = tmp_path / "evil.pt"
    path.write_bytes(safetensors.numpy.save({}, metadata=meta))
    return path


@pytest.mark.parametrize("cls_path, arg", [
    ("os.system", None),
    ("builtins.eval", None),
    ("evil_module_xyz.Thing", None),
    ("chainrule.nn.Identity", {"t": "global", "v": "os.system"}),
    ("chainrule.nn.Identity", {"t": "global", "v": "evil_module_xyz.payload"}),
    ("chainrule.serialization.save", None),
    ("chainrule.nn.Identity", {"t": "global", "v": "chainrule.serialization.save"}),
    ("chainrule.nn.Identity", {"t": "global", "v": "chainrule.manual_seed"}),
])
def test_files_naming_anything_not_allowed_are_refused_without_importing(tmp_path, cls_path,
                                                                         arg):
    path = _crafted(tmp_path, cls_path, arg)
    spy = _ImportSpy()
    sys.meta_path.insert(0, spy)
    try:
        with pytest.raises(LoadError, match="not allowed.*add_safe_globals"):
            cr.load(path)
        assert S.get_unsafe_globals_in_checkpoint(path)
    finally:
        sys.meta_path.remove(spy)
    assert spy.asked == []
    assert "evil_module_xyz" not in sys.modules


def test_weights_only_false_imports_what_the_file_names(tmp_path, monkeypatch):
    (tmp_path / "trusted_models_abc.py").write_text(textwrap.dedent("""
        from chainrule import nn

        class Net(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.fc = nn.Linear(n, 1)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import trusted_models_abc

    buf = io.BytesIO()
    cr.save(trusted_models_abc.Net(4), buf)
    monkeypatch.delitem(sys.modules, "trusted_models_abc")
    with pytest.raises(LoadError, match="'trusted_models_abc.Net', which is not allowed"):
        cr.load(io.BytesIO(buf.getvalue()))
    assert "trusted_models_abc" not in sys.modules
    back = cr.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert type(back).__name__ == "Net" and back.fc.in_features == 4
    assert "trusted_models_abc" in sys.modules


def test_constructor_arguments_cannot_allocate_beyond_the_file(tmp_path):
    buf = io.BytesIO()
    cr.save(nn.Linear(3, 2), buf)
    data = buf.getvalue()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    table = json.loads(header["__metadata__"]["modules"])
    table[0]["args"] = [100_000, 100_000]  # 10^10 elements: 40 GB
    header["__metadata__"]["modules"] = json.dumps(table)
    raw = json.dumps(header).encode()
    (tmp_path / "big.pt").write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match="more memory than the tensors in the file justify"):
            cr.load(tmp_path / "big.pt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_constructor_recording_is_the_outermost_call():
    class Sub(nn.Linear):
        def __init__(self, n):
            super().__init__(n, n + 1, bias=False)

    m = Sub(3)
    assert m._init_args == ((3,), {})
    seq = nn.Sequential(m)
    assert seq._init_args == ((m,), {}) and seq._built_by is None
    mlp = MLP(2)
    assert mlp.head._built_by == id(mlp) and mlp.layers._built_by == id(mlp)
    assert mlp.layers[0]._built_by == id(mlp.layers)  # the generator ran inside ModuleList


def test_loaded_model_trains_like_the_original():
    S.add_safe_globals([MLP])
    cr.manual_seed(0)
    model = MLP(3, hidden=(6,))
    back = _round_trip(model)
    x, y = cr.randn(10, 3), cr.randn(10, 1)
    for m in (model, back):
        opt = cr.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            F.mse_loss(m(x), y).backward()
            opt.step()
    for p, q in zip(model.parameters(), back.parameters()):
        assert np.array_equal(p._data, q._data)
