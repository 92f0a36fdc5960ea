"""``chainrule.save`` / ``chainrule.load``: checkpoints without pickle.

A file is a standard safetensors file (https://github.com/huggingface/safetensors)::

    [8 bytes: header length N, little-endian u64][N bytes: JSON header][raw array bytes]

Every tensor and NumPy array of the saved object is one safetensors entry named ``"0"``,
``"1"``, ... The header's ``__metadata__`` holds ``"format": "chainrule"``, the
``"chainrule_version"`` and ``"structure"``: a JSON tree describing the object, in which
plain JSON values (null, booleans, strings, integers, finite floats) stand for themselves
and every other node is an object with a ``"t"`` tag:

- ``{"t": "tensor", "k": "3", "rg": true}`` a tensor (entry ``"3"``; ``rg`` its
  ``requires_grad``; ``"cls": "Parameter"`` for an ``nn.Parameter``),
- ``{"t": "ndarray", "k": "4"}`` a NumPy array, ``{"t": "npscalar", "k": "5"}`` a NumPy scalar,
- ``{"t": "float", "v": "inf"}`` a non-finite float,
- ``{"t": "list" | "tuple", "v": [...]}``,
- ``{"t": "dict" | "odict", "v": [[key, value], ...]}`` (keys are any encodable value, so
  integer keys such as an optimizer state's parameter indices survive).

A tensor that appears several times (tied weights) is stored once and loads as one tensor.
Loading never executes anything: the header is parsed as JSON, checked against the file's
size, and the arrays are read by ``safetensors.numpy``. A safetensors file written by other
tools (no chainrule structure) loads as a dict of tensors.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

_FORMAT = "chainrule"
_DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def _safetensors():
    try:
        import safetensors.numpy as stn
    except ImportError:  # pragma: no cover - declared as a runtime dependency
        raise ImportError(
            "chainrule.save/load need the 'safetensors' package: pip install safetensors"
        ) from None
    return stn


# -- encoding ------------------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: dict[int, dict] = {}

    def _store(self, arr: np.ndarray, node: dict, obj) -> dict:
        key = str(len(self.arrays))
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        node["k"] = key
        self.seen[id(obj)] = (node, obj)
        return node

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"t": "float", "v": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) in self.seen:
                return dict(self.seen[id(obj)][0])
            node = {"t": "tensor", "rg": bool(obj.requires_grad)}
            if type(obj).__name__ == "Parameter":
                node["cls"] = "Parameter"
            return self._store(obj._data, node, obj)
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"chainrule.save: can't save a NumPy array of dtype {obj.dtype} "
                                f"at {where} (only bool, integer and float arrays)")
            if id(obj) in self.seen:
                return dict(self.seen[id(obj)][0])
            return self._store(obj, {"t": "ndarray"}, obj)
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"chainrule.save: can't save a NumPy scalar of dtype {obj.dtype} "
                                f"at {where}")
            return self._store(np.asarray(obj), {"t": "npscalar"}, obj)
        if isinstance(obj, (list, tuple)):
            tag = "tuple" if isinstance(obj, tuple) else "list"
            return {"t": tag, "v": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool, tuple)) and k is not None:
                    raise TypeError(f"chainrule.save: can't save a dict key of type "
                                    f"{type(k).__name__} at {where}")
                items.append([self.encode(k, where), self.encode(v, f"{where}[{k!r}]")])
            return {"t": tag, "v": items}
        raise TypeError(
            f"chainrule.save: can't save an object of type {type(obj).__module__}."
            f"{type(obj).__qualname__} at {where}; chainrule saves tensors, NumPy arrays, "
            "numbers, strings, bools, None and lists/tuples/dicts of them (save a model's "
            "state_dict(), not the model)"
        )


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors, arrays, numbers, strings and containers of them) to ``f``.

    ``f`` is a path (written atomically: a temporary file in the same directory, flushed,
    fsynced and renamed over the target, so an interrupted save leaves any old file intact)
    or a binary file object. The PyTorch-only arguments are accepted and ignored.

    Example::

        chainrule.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.pt")
    """
    if pickle_module is not None:
        raise ValueError("chainrule.save: pickle_module is not supported (chainrule never "
                         "pickles)")
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    meta = {"format": _FORMAT, "chainrule_version": _version(),
            "structure": json.dumps(structure, separators=(",", ":"))}
    data = _safetensors().save(enc.arrays, metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
        return
    _atomic_write(os.fspath(f), data)


def _version() -> str:
    from . import __version__

    return __version__


def _write_all(fh, data: bytes) -> None:
    fh.write(data)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".chainrule-", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (best effort: not every platform allows it)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# -- decoding ------------------------------------------------------------------------------
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object written by :func:`save` (or any safetensors file, as a dict of
    tensors). Never unpickles: a pickle or PyTorch zip checkpoint is rejected with an error,
    as is a truncated file or one whose header is inconsistent with its size.
    ``map_location``, ``weights_only`` and ``mmap`` are accepted for compatibility and ignored.
    """
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        data = f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    header = _check(data, name)
    try:
        arrays = _safetensors().load(data)
    except Exception as e:  # the Rust reader's own validation
        raise ValueError(f"chainrule.load: {name!r} is corrupt ({e})") from None
    meta = header.get("__metadata__") or {}
    if meta.get("format") != _FORMAT or "structure" not in meta:
        return {k: Tensor._make(v, False, None, 0) for k, v in arrays.items()}
    try:
        structure = json.loads(meta["structure"])
    except ValueError as e:
        raise ValueError(f"chainrule.load: {name!r} has a corrupt structure description "
                         f"({e})") from None
    return _Decoder(arrays, name).decode(structure)


def _check(data: bytes, name: str) -> dict:
    """Validate the safetensors framing and return the parsed header."""
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ValueError(f"chainrule.load: {name!r} is not a chainrule file (it looks like a "
                         "pickle; chainrule never unpickles)")
    if data[:4] == b"PK\x03\x04":
        raise ValueError(
            f"chainrule.load: {name!r} is not a chainrule file (it is a zip archive, like a "
            "PyTorch checkpoint, which holds a pickle; chainrule never unpickles). Convert it "
            "in PyTorch with safetensors.torch.save_file(state_dict, path)"
        )
    if len(data) < 8:
        raise ValueError(f"chainrule.load: {name!r} is truncated or not a chainrule file "
                         f"({len(data)} bytes, shorter than the 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(
            f"chainrule.load: {name!r} is truncated or not a chainrule file: its header "
            f"claims {n} bytes but only {len(data) - 8} follow"
        )
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"chainrule.load: {name!r} is not a chainrule file (its header is not "
                         "JSON)") from None
    if not isinstance(header, dict):
        raise ValueError(f"chainrule.load: {name!r} is not a chainrule file (bad header)")
    body = len(data) - 8 - n
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            start, stop = (int(x) for x in info["data_offsets"])
            size = _DTYPE_SIZES[info["dtype"]]
            count = math.prod(int(s) for s in info["shape"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"chainrule.load: {name!r} has a malformed header entry for "
                             f"{key!r}") from None
        if not 0 <= start <= stop <= body:
            raise ValueError(
                f"chainrule.load: {name!r} is truncated or its header lies: entry {key!r} "
                f"claims bytes [{start}, {stop}) but the data section has {body} bytes"
            )
        if stop - start != count * size:
            raise ValueError(
                f"chainrule.load: {name!r} has an inconsistent header: entry {key!r} of "
                f"dtype {info['dtype']} and shape {info['shape']} needs {count * size} "
                f"bytes but claims {stop - start}"
            )
        end = max(end, stop)
    if end != body:
        raise ValueError(f"chainrule.load: {name!r} is truncated or corrupt: the header "
                         f"describes {end} bytes of data but the file has {body}")
    return header


class _Decoder:
    def __init__(self, arrays: dict, name: str):
        self.arrays = arrays
        self.name = name
        self.made: dict[str, object] = {}

    def _array(self, node) -> np.ndarray:
        key = node.get("k")
        if key not in self.arrays:
            raise ValueError(f"chainrule.load: {self.name!r} refers to a missing array {key!r}")
        return self.arrays[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):  # never written by save; tolerate as a list
            return [self.decode(v) for v in node]
        tag = node.get("t") if isinstance(node, dict) else None
        if tag in ("tensor", "ndarray", "npscalar"):
            key = node.get("k")
            if key in self.made:
                return self.made[key]
            arr = self._array(node)
            if tag == "tensor":
                out = _make_tensor(arr, bool(node.get("rg")), node.get("cls"))
            elif tag == "ndarray":
                out = arr
            else:
                out = arr[()]
            self.made[key] = out
            return out
        if tag == "float":
            return float(node["v"])
        if tag in ("list", "tuple"):
            items = [self.decode(v) for v in node["v"]]
            return tuple(items) if tag == "tuple" else items
        if tag in ("dict", "odict"):
            pairs = ((_hashable(self.decode(k)), self.decode(v)) for k, v in node["v"])
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        raise ValueError(f"chainrule.load: {self.name!r} has an unknown structure node "
                         f"{str(node)[:80]}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _make_tensor(arr: np.ndarray, requires_grad: bool, cls: str | None):
    arr = np.array(arr, copy=True) if not arr.flags.writeable else arr
    if cls == "Parameter":
        try:
            from .nn import Parameter
        except ImportError:
            Parameter = None
        if Parameter is not None:
            return Parameter(Tensor._make(arr, False, None, 0), requires_grad=requires_grad)
    t = Tensor._make(arr, False, None, 0)
    if requires_grad and arr.dtype.kind == "f":
        t.requires_grad = True
    return t

