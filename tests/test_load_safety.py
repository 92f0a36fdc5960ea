"""chainrule.load on crafted files: every refusal is one LoadError (a ValueError) naming the
user's path, raised before anything large is allocated and without running anything."""

from __future__ import annotations

import io
import json
import os
import pickle  # only to build malicious files in a test; src/ never uses pickle
import random
import struct
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest
import safetensors.numpy

import chainrule as cr
from chainrule import nn
from chainrule.serialization import LoadError


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _refused(path, match, **kw) -> LoadError:
    with pytest.raises(LoadError, match=match) as info:
        cr.load(path, **kw)
    assert isinstance(info.value, ValueError)
    assert repr(str(path)) in str(info.value)  # names the user's path
    return info.value


def _parts(data: bytes):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _pack(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    cr.save(obj, buf)
    return buf.getvalue()


# -- pickles, archives and other formats -------------------------------------------------------
@pytest.mark.parametrize("protocol", range(6))
def test_pickles_of_every_protocol_are_refused_unexecuted(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"state": _Evil(str(marker))}, protocol=protocol))
    which = f"protocol {protocol}" if protocol >= 2 else "protocol 0 or 1"
    _refused(path, rf"is a pickle file \({which}\).*never unpickles")
    assert not marker.exists()
    # the same bytes from a file object
    with pytest.raises(LoadError, match="pickle file"):
        cr.load(io.BytesIO(path.read_bytes()))


@pytest.mark.parametrize("obj", [None, 7, "text", [1.5], (True,)])
def test_tiny_old_protocol_pickles_say_pickle(tmp_path, obj):
    path = tmp_path / "p.pt"
    for protocol in (0, 1):
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        _refused(path, "pickle file")


def test_zip_archive_and_npy_are_named(tmp_path):
    with zipfile.ZipFile(tmp_path / "ckpt.pt", "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    _refused(tmp_path / "ckpt.pt", "zip archive.*never unpickles")
    np.save(tmp_path / "a.npy", np.arange(3))
    _refused(tmp_path / "a.npy", r"NumPy \.npy file")


def test_torch_checkpoint_is_refused(tmp_path, torch):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    _refused(tmp_path / "model.pt", "zip archive")
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    _refused(tmp_path / "legacy.pt", r"pickle file \(protocol 2\)")


# -- files that are not regular -----------------------------------------------------------------
def _in_thread(fn, timeout=10):
    out = {}

    def run():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "chainrule.load blocked"
    return out.get("error")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_symlink_to_dev_zero_is_refused_before_reading(tmp_path):
    link = tmp_path / "model.safetensors"
    link.symlink_to("/dev/zero")
    err = _in_thread(lambda: cr.load(link))
    assert isinstance(err, LoadError)
    assert repr(str(link)) in str(err) and "symbolic link to '/dev/zero'" in str(err)
    assert "character device, not a regular file" in str(err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    err = _in_thread(lambda: cr.load(fifo))
    assert isinstance(err, LoadError) and "FIFO" in str(err) and str(fifo) in str(err)


def test_directory_is_refused(tmp_path):
    _refused(tmp_path, "is a directory, not a regular file")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nope.pt")


# -- sizes and truncation -------------------------------------------------------------------------
def test_truncated_files_are_refused(tmp_path):
    data = _saved({"w": cr.randn(10, 10), "b": cr.zeros(10), "m": nn.Linear(2, 2)})
    for cut in (0, 5, 8, 20, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        _refused(tmp_path / "cut.pt", "truncated")
    (tmp_path / "long.pt").write_bytes(data + b"extra")
    _refused(tmp_path / "long.pt", "5 unexpected bytes follow")


def test_lying_sizes_are_refused_without_allocating(tmp_path):
    header, body = _parts(_saved({"w": cr.randn(4, 4)}))
    lies = {
        "offsets past the data": ({"data_offsets": [0, 10**12]}, "needs 64 bytes but claims"),
        "shape and offsets agree but exceed the file": (
            {"shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}, "only 64 follow"),
        "shape bigger than its bytes": ({"shape": [400, 400]}, "inconsistent header"),
        "negative offset": ({"data_offsets": [-64, 0]}, "inconsistent header"),
    }
    tracemalloc.start()
    try:
        for edit, match in lies.values():
            (tmp_path / "bad.pt").write_bytes(_pack({**header, "0": {**header["0"], **edit}},
                                                     body))
            _refused(tmp_path / "bad.pt", match)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
    # header length fields beyond the file and beyond the limit
    raw = json.dumps(header).encode()
    (tmp_path / "bad.pt").write_bytes(struct.pack("<Q", len(raw) + 10**6) + raw + body)
    _refused(tmp_path / "bad.pt", "header claims .* but only")
    (tmp_path / "bad.pt").write_bytes(struct.pack("<Q", 2**63) + raw + body)
    _refused(tmp_path / "bad.pt", "header claims")


def test_overlapping_and_holey_entries_are_refused(tmp_path):
    header, body = _parts(_saved({"a": cr.ones(2), "b": cr.ones(2)}))
    keys = [k for k in header if k != "__metadata__"]
    header[keys[1]]["data_offsets"] = header[keys[0]]["data_offsets"]  # overlap
    (tmp_path / "bad.pt").write_bytes(_pack(header, body))
    _refused(tmp_path / "bad.pt", "holes and overlaps are not allowed")


def test_header_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    from chainrule.serialization import _read

    data = _saved({"w": cr.ones(3)})
    monkeypatch.setattr(_read, "MAX_HEADER_BYTES", 64)
    (tmp_path / "big.pt").write_bytes(data)
    _refused(tmp_path / "big.pt", r"header length \d+ is outside \[2, 64\]")


class _Stream:
    """A non-seekable stream (like a pipe): only read()."""

    def __init__(self, data):
        self._buf = io.BytesIO(data)

    def read(self, n=-1):
        return self._buf.read(n)


def test_non_seekable_streams_load_and_cap_their_reads():
    obj = {"w": cr.randn(3, 3), "n": 4}
    back = cr.load(_Stream(_saved(obj)))
    assert back["n"] == 4 and np.array_equal(back["w"]._data, obj["w"]._data)
    header, body = _parts(_saved({"w": cr.ones(2)}))
    header["0"].update(shape=[10**5, 10**5], data_offsets=[0, 4 * 10**10])
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match="truncated"):
            cr.load(_Stream(_pack(header, body)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000


# -- malformed headers and structures ------------------------------------------------------------
def _structure_file(tmp_path, structure, arrays=None, modules=None):
    meta = {"format": "chainrule", "structure": structure if isinstance(structure, str)
            else json.dumps(structure)}
    if modules is not None:
        meta["modules"] = modules if isinstance(modules, str) else json.dumps(modules)
    path = tmp_path / "crafted.pt"
    path.write_bytes(safetensors.numpy.save(arrays or {}, metadata=meta))
    return path


def test_deep_json_is_refused(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    _refused(_structure_file(tmp_path, deep), "structure description nested too deep")
    _refused(_structure_file(tmp_path, [], modules=deep), "module table nested too deep")
    just_over = {"t": "list", "v": []}
    for _ in range(200):
        just_over = {"t": "list", "v": [just_over]}
    _refused(_structure_file(tmp_path, just_over), "nested too deep")
    raw = ('{"a":' * 100_000 + "1" + "}" * 100_000).encode()
    (tmp_path / "h.pt").write_bytes(struct.pack("<Q", len(raw)) + raw)
    _refused(tmp_path / "h.pt", "header nested too deep")


def test_objects_nested_too_deep_are_refused_by_save(tmp_path):
    obj = []
    for _ in range(100):
        obj = [obj]
    with pytest.raises(TypeError, match="nested more than 64 levels"):
        cr.save(obj, tmp_path / "x.pt")
    ok = []
    for _ in range(60):
        ok = [ok]
    cr.save(ok, tmp_path / "ok.pt")
    assert cr.load(tmp_path / "ok.pt") == ok


@pytest.mark.parametrize("structure, match", [
    ({"t": "tensor", "k": "99"}, "missing array '99'"),
    ({"t": 5}, "unknown node"),
    ({"t": "list", "v": "abc"}, "unknown node"),
    ({"t": "dict", "v": [[1]]}, "unknown node"),
    ({"t": "dict", "v": [[{"t": "dict", "v": []}, 1]]}, "unhashable"),
    ({"t": "float", "v": "1e999999"}, "unknown node"),
    ({"t": "dtype", "v": "complex128"}, "unknown node"),
    ({"t": "module", "i": 0}, "module reference 0 is not in the table"),
    ({"t": "global", "v": 7}, "unknown node"),
    ("{not json", "not valid JSON"),
    ('{"t": "list", "v": [' + "9" * 5000 + "]}", "not valid JSON"),
])
def test_malformed_structures_are_refused(tmp_path, structure, match):
    _refused(_structure_file(tmp_path, structure, {"0": np.ones(2, np.float32)}), match)


@pytest.mark.parametrize("edit, match", [
    (lambda h: h.__setitem__("__metadata__", {"format": 5}), "malformed header"),
    (lambda h: h["0"].__setitem__("shape", ["2"]), "malformed header entry '0'"),
    (lambda h: h["0"].__setitem__("shape", [True, 2]), "malformed header entry"),
    (lambda h: h["0"].__setitem__("dtype", "C64"), "dtype 'C64', which chainrule cannot read"),
    (lambda h: h["0"].pop("data_offsets"), "malformed header entry"),
    (lambda h: h.__setitem__("0", [1, 2]), "malformed header entry"),
])
def test_malformed_headers_are_refused(tmp_path, edit, match):
    header, body = _parts(_saved({"w": cr.ones(2)}))
    edit(header)
    (tmp_path / "bad.pt").write_bytes(_pack(header, body))
    _refused(tmp_path / "bad.pt", match)


def test_header_that_is_not_an_object(tmp_path):
    for raw in (b"[1, 2, 3]", b"\xff\xfe{", b'"just a string"'):
        (tmp_path / "bad.pt").write_bytes(struct.pack("<Q", len(raw)) + raw)
        _refused(tmp_path / "bad.pt", "not a chainrule file|malformed header|not valid JSON")


@pytest.mark.parametrize("table, match", [
    ([{"cls": "chainrule.nn.Linear"}], "module record 0 is not of the form"),
    ([{"cls": "chainrule.nn.ReLU", "args": [], "kwargs": [], "ctor": False,
       "children": [["a", 0]], "params": [], "buffers": [], "attrs": []}],
     "a module contains itself"),
    ([{"cls": "chainrule.nn.ReLU", "args": [], "kwargs": [], "ctor": False,
       "children": [["a", 5]], "params": [], "buffers": [], "attrs": []}],
     "child that is not in the table"),
    ([{"cls": "chainrule.nn.ReLU", "args": [], "kwargs": [], "ctor": False, "children": [],
       "params": [["w", None]], "buffers": [["w", None, True]], "attrs": []}],
     "repeated or invalid member names"),
    ([{"cls": "chainrule.nn.ReLU", "args": [], "kwargs": [], "ctor": False, "children": [],
       "params": [], "buffers": [], "attrs": [["__class__", 1]]}], "malformed attribute"),
    ([{"cls": "chainrule.nn.ReLU", "args": [], "kwargs": [], "ctor": False, "children": [],
       "params": [], "buffers": [], "attrs": [["x", {"t": "global", "v": "os.system"}]]}],
     "malformed attribute"),
    ([{"cls": "chainrule.nn.functional.relu", "args": [], "kwargs": [], "ctor": False,
       "children": [], "params": [], "buffers": [], "attrs": []}], "not a chainrule.nn.Module"),
    ([{"cls": "chainrule.nn.Linear", "args": [2, 2], "kwargs": [], "ctor": False,
       "children": [], "params": [["weight", {"t": "ndarray", "k": "0"}]], "buffers": [],
       "attrs": []}], "'weight' is not a saved parameter"),
    ([{"cls": "chainrule.nn.Linear", "args": ["two"], "kwargs": [], "ctor": False,
       "children": [], "params": [], "buffers": [], "attrs": []}],
     "rebuilding chainrule.nn.Linear .* failed: TypeError"),
])
def test_malformed_module_tables_are_refused(tmp_path, table, match):
    path = _structure_file(tmp_path, {"t": "module", "i": 0}, {"0": np.ones(2, np.float32)},
                           table)
    _refused(path, match)


def test_random_header_corruption_only_ever_raises_load_error(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    data = _saved({"model": model, "opt": {"lr": 0.1, 3: (1, 2.5)}, "x": cr.ones(2)})
    (n,) = struct.unpack("<Q", data[:8])
    rng = random.Random(0)
    outcomes = set()
    for _ in range(300):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            bad[rng.randrange(8, 8 + n)] = rng.randrange(256)
        try:
            cr.load(io.BytesIO(bytes(bad)))
            outcomes.add("loaded")
        except LoadError:
            outcomes.add("refused")
    assert "refused" in outcomes


def test_unsupported_tensor_dtype_in_a_plain_file(tmp_path):
    (tmp_path / "u.safetensors").write_bytes(
        safetensors.numpy.save({"u": np.arange(3, dtype=np.uint32)}))
    _refused(tmp_path / "u.safetensors", "dtype uint32, which chainrule tensors do not support")


def test_read_json_file_for_run_directories(tmp_path):
    from chainrule.serialization import read_json_file

    (tmp_path / "config.json").write_text('{"hidden": [64, 64]}')
    assert read_json_file(tmp_path / "config.json") == {"hidden": [64, 64]}
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LoadError, match="nested too deep"):
        read_json_file(tmp_path / "deep.json")
    (tmp_path / "big.json").write_text("[" + "1," * 100 + "1]")
    with pytest.raises(LoadError, match="more than the 50 bytes allowed"):
        read_json_file(tmp_path / "big.json", max_bytes=50)
    with pytest.raises(LoadError, match="is a directory"):
        read_json_file(tmp_path)
