"""``chainrule.save`` / ``chainrule.load`` and ``chainrule.serialization`` (PyTorch's
``torch.serialization``): checkpoints and whole modules, without pickle.

A file is a standard safetensors file (https://github.com/huggingface/safetensors)::

    [8 bytes: header length N, little-endian u64][N bytes: JSON header][raw array bytes]

Every tensor and NumPy array of the saved object is one safetensors entry (a module's
tensors are named by their ``state_dict`` key, others ``"0"``, ``"1"``, ...). The header's
``__metadata__`` holds ``"format": "chainrule"``, the ``"chainrule_version"``,
``"structure"`` (a JSON tree describing the object) and, when the object contains modules,
``"modules"`` (a JSON list with one record per module). In the tree, plain JSON values (null,
booleans, strings, integers, finite floats) stand for themselves and every other node is an
object with a ``"t"`` tag:

- ``{"t": "tensor", "k": "3", "rg": true}`` a tensor (entry ``"3"``; ``rg`` its
  ``requires_grad``; ``"cls": "Parameter"`` for an ``nn.Parameter``),
- ``{"t": "ndarray", "k": "4"}`` a NumPy array, ``{"t": "npscalar", "k": "5"}`` a NumPy scalar,
- ``{"t": "float", "v": "inf"}`` a non-finite float,
- ``{"t": "list" | "tuple", "v": [...]}``,
- ``{"t": "dict" | "odict", "v": [[key, value], ...]}`` (keys are any encodable value, so
  integer keys such as an optimizer state's parameter indices survive),
- ``{"t": "dtype", "v": "float32"}``, ``{"t": "device", "v": "cpu"}``,
- ``{"t": "global", "v": "chainrule.nn.functional.relu"}`` a class or function, by path,
- ``{"t": "module", "i": 0}`` the module of record 0 of ``"modules"``.

A module record holds ``cls`` (the class's path), ``args``/``kwargs`` (the constructor
arguments it was built with, recorded by ``nn.Module``), ``ctor`` (true when an enclosing
module's constructor made it), ``children``, ``params``, ``buffers`` (with their persistent
flag) and ``attrs`` (plain data attributes). ``load`` calls the class with the saved
arguments, then makes the tree, tensors and attributes those of the file.

A tensor that appears several times (tied weights) is stored once and loads as one tensor.
Loading never unpickles and never imports or runs anything a file names unless allowed
(see :func:`add_safe_globals`); every refused file raises :class:`LoadError`.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tempfile

from .._dtype import _BY_NP
from ._decode import Decoder, make_tensor
from ._encode import Encoder
from ._globals import add_safe_globals, clear_safe_globals, get_safe_globals, resolve, safe_globals
from ._read import (
    MAX_DEPTH, MAX_HEADER_BYTES, LoadError, fail, open_source, parse_json, read_arrays,
    read_header, read_json_file,
)
from ._write import serialize

_FORMAT = "chainrule"
#: tensor elements a rebuilt module's constructors may create, beyond twice the file's own
REBUILD_SLACK_ELEMENTS = 1 << 24


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, arrays, numbers, strings, dtypes, modules and containers of
    them) to ``f``.

    A module is saved whole: its class (by import path), the constructor arguments it was
    built with, its submodules, parameters, buffers and plain attributes; ``load`` rebuilds
    it by calling the class (which must be allowed, see :func:`add_safe_globals`). A
    constructor argument that cannot be stored (not None, a bool, number, string, dtype,
    device, tensor, module, module-level class or function, or a list/tuple/dict of them)
    raises ``TypeError`` naming the module and the argument.

    ``f`` is a path (written atomically: a temporary file in the same directory, flushed,
    fsynced and renamed over the target, so an interrupted save leaves any old file intact)
    or a binary file object. The PyTorch-only arguments are accepted and ignored.

    Example::

        chainrule.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.pt")
        chainrule.save(model, "model.pt")        # whole module
    """
    if pickle_module is not None:
        raise ValueError("chainrule.save: pickle_module is not supported (chainrule never "
                         "pickles)")
    enc = Encoder()
    structure = enc.encode(obj, "obj")
    meta = {"format": _FORMAT, "chainrule_version": _version(),
            "structure": json.dumps(structure, separators=(",", ":"), allow_nan=False)}
    if enc.modules:
        meta["modules"] = json.dumps(enc.modules, separators=(",", ":"), allow_nan=False)
    data = serialize(enc.arrays, meta)  # sorted keys: the same bytes in every process
    if hasattr(f, "write"):
        f.write(data)
        return
    _atomic_write(os.fspath(f), data)


def _version() -> str:
    from .. import __version__

    return __version__


def _write_all(fh, data: bytes) -> None:
    fh.write(data)


def _pause_for_test(path: str) -> None:
    """Testing hook (``CHAINRULE_PAUSE_AT=atomic-write``): stop with the data written to the
    temporary file but not yet renamed over ``path``, until a signal arrives (60 s at most)."""
    import sys
    import time

    print(f"chainrule-test: paused at atomic-write {os.path.basename(path)}", file=sys.stderr,
          flush=True)
    time.sleep(60)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, fsynced
    and renamed over the target. A symlink is followed (the file it points to is replaced,
    the link kept, as ``open(path, "wb")`` would). A path that exists and is not a regular
    file — ``/dev/null``, ``/dev/stdout``, a FIFO — is written in place: renaming over it
    would replace the device itself (as root, ``/dev/null`` became a regular file)."""
    path = os.path.realpath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        with open(path, "wb") as fh:
            _write_all(fh, data)
        return
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".chainrule-", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            if os.environ.get("CHAINRULE_PAUSE_AT") == "atomic-write":  # testing hook
                _pause_for_test(path)
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


def _open_and_check(f, weights_only: bool):
    """Read and check everything but the arrays: (source, entries, structure, decoder)."""
    src = open_source(f)
    try:
        meta, entries = read_header(src)
        if meta.get("format") != _FORMAT or "structure" not in meta:
            return src, entries, None, None
        structure = parse_json(meta["structure"], src.name, "a structure description",
                               MAX_DEPTH)
        table = parse_json(meta["modules"], src.name, "a module table", MAX_DEPTH) \
            if "modules" in meta else []
        dec = Decoder(src.name, table, weights_only)
        dec.prepare(structure, entries)
        return src, entries, structure, dec
    except BaseException:
        src.close()
        raise


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object written by :func:`save` (or any safetensors file, as a dict of tensors).

    Never unpickles. Any file it refuses raises :class:`LoadError` (a ``ValueError``) naming
    the file: a pickle (every protocol) or zip archive (a PyTorch checkpoint), a truncated,
    malformed or inconsistent file, a header or structure beyond the limits
    (:data:`MAX_HEADER_BYTES`, :data:`MAX_DEPTH`), a path that is not a regular file (FIFO,
    device, directory; symlinks are followed first), or a whole module whose classes are not
    allowed. These checks run before any array is read or module built; reads never go past
    the sizes the header declares. A missing file raises ``FileNotFoundError``.

    ``weights_only`` (default True, as in PyTorch 2.6+): classes and functions named by the
    file must be chainrule's own or allowed with :func:`add_safe_globals` /
    :class:`safe_globals`, and rebuilt constructors may create at most twice the file's
    tensor elements plus :data:`REBUILD_SLACK_ELEMENTS`. ``weights_only=False`` imports
    whatever module the file names and lifts the limit: only for files you trust.
    ``map_location`` and ``mmap`` are accepted and ignored (chainrule runs on the CPU).
    """
    if pickle_module is not None:
        raise ValueError("chainrule.load: pickle_module is not supported (chainrule never "
                         "unpickles)")
    safe = weights_only is None or bool(weights_only)
    src, entries, structure, dec = _open_and_check(f, safe)
    try:
        arrays = read_arrays(src, entries)
    finally:
        src.close()
    if dec is None:
        out = {}
        for key, arr in arrays.items():
            if arr.dtype.newbyteorder("=") not in _BY_NP:
                raise fail(src.name, f"has entry {key!r} of dtype {arr.dtype}, which "
                                     "chainrule tensors do not support")
            out[key] = make_tensor(arr, False, None)
        return out
    total = sum(math.prod(e[2]) for e in entries)
    budget = 2 * total + REBUILD_SLACK_ELEMENTS if safe else None
    return dec.run(structure, arrays, budget)


def get_unsafe_globals_in_checkpoint(f) -> list:
    """The classes/functions a file names that ``load`` would refuse (without reading its
    arrays or importing anything), as ``"module.Name"`` strings."""
    src = open_source(f)
    try:
        meta, _ = read_header(src)
    finally:
        src.close()
    if meta.get("format") != _FORMAT:
        return []
    paths = set()
    for key in ("structure", "modules"):
        if key in meta:
            tree = parse_json(meta[key], src.name, "a structure description", MAX_DEPTH)
            if key == "modules" and isinstance(tree, list):
                paths |= {r["cls"] for r in tree if isinstance(r, dict)
                          and isinstance(r.get("cls"), str)}
            stack = [tree]
            while stack:
                v = stack.pop()
                if isinstance(v, dict):
                    if v.get("t") == "global" and isinstance(v.get("v"), str):
                        paths.add(v["v"])
                    stack.extend(v.values())
                elif isinstance(v, list):
                    stack.extend(v)
    return sorted(p for p in paths if resolve(p, True) is None)


__all__ = ["LoadError", "MAX_DEPTH", "MAX_HEADER_BYTES", "REBUILD_SLACK_ELEMENTS",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "load", "read_json_file", "safe_globals", "save"]
