"""Messages between the DataLoader and its worker processes, without pickle.

Each message on a worker's ``multiprocessing`` connection (a Unix socket pair) is a small
JSON header, followed by the bytes of the arrays it carries:

* header ``{"k": kind, "i": task, "v": tree, "a": [[dtype, shape, offset], ...], "n": bytes,
  "m": mode}``. ``tree`` is the batch's structure in JSON: ``None``, booleans, numbers and
  strings as themselves; ``{"l": [...]}`` a list, ``{"t": [...]}`` a tuple, ``{"d": [[key,
  value], ...]}`` a dict, ``{"T": [k, requires_grad]}`` a tensor, ``{"A": k}`` a NumPy array,
  ``{"G": k}`` a NumPy scalar, ``{"b": base64}`` bytes, ``{"S": [k, values, size,
  coalesced]}`` a sparse COO tensor, ``{"N": [module, qualname, [...]]}`` a namedtuple (its
  class looked up among the receiver's imported modules); ``k`` indexes the array table.
* the arrays, packed at 64-byte-aligned offsets: with mode ``"shm"`` (``n`` >=
  ``SHM_MIN_BYTES``) in a new anonymous shared-memory file whose descriptor follows over
  the socket, which the receiver maps without copying (the batch's tensors view it, as
  torch's batches view shared memory); with mode ``"inline"`` as one byte message read
  straight into a fresh buffer (cheaper for small batches than creating a file).

What the tree cannot hold (dataclasses, any other object a custom ``collate_fn`` returns)
makes the header say ``"p": true`` and the object follows through ``Connection.send``, i.e.
multiprocessing's own transport, which pickles internally (chainrule tensors inside still
travel as shared memory, see chainrule.multiprocessing). It works for anything picklable,
at a cost: measured with a batch of two small tensors, 1.07 ms of main-process CPU per batch
against 0.19 ms through the JSON tree (each tensor's descriptor is fetched separately).
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import sys
from multiprocessing import reduction

import numpy as np

from ...multiprocessing import _shm
from ...tensor import Tensor

__all__ = ["recv", "send"]

# Smaller payloads go inline through the socket. Measured (main-process cost of receiving one
# batch and reading it, worker already done): 64 KiB inline 0.10 ms vs shared memory 0.17 ms;
# 256 KiB 0.49 vs 0.21 ms; 4 MiB 5.1 vs 1.1 ms.
SHM_MIN_BYTES = 128 * 1024


class _UnencodableError(Exception):
    """The object holds something the JSON tree cannot describe."""


class SendError:
    """Sent through the fallback transport when the object itself could not be sent."""

    def __init__(self, text: str):
        self.text = text


def _encode(obj, arrays: list):
    t = type(obj)
    if obj is None or t is bool or t is int or t is float or t is str:
        return obj
    if t is list:
        return {"l": [_encode(o, arrays) for o in obj]}
    if t is tuple:
        return {"t": [_encode(o, arrays) for o in obj]}
    if isinstance(obj, tuple) and hasattr(t, "_fields"):  # a namedtuple (default_collate keeps it)
        return {"N": [t.__module__, t.__qualname__, [_encode(o, arrays) for o in obj]]}
    if t is dict:
        return {"d": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if t.__name__ == "SparseTensor" and isinstance(obj, Tensor):
        arrays.append(obj._idx)
        return {"S": [len(arrays) - 1, _encode(obj._vals, arrays), list(obj.shape),
                      obj.is_coalesced()]}
    if isinstance(obj, Tensor) and t.__name__ in ("Tensor", "Parameter", "Buffer"):
        if obj.requires_grad and obj.grad_fn is not None:
            raise RuntimeError(
                "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
                "autograd does not support crossing process boundaries.  If you just want to "
                "transfer the data, call detach() on the tensor before serializing (e.g., "
                "returning it from the worker).")
        arrays.append(obj._data)
        return {"T": [len(arrays) - 1, bool(obj.requires_grad)]}
    if t is np.ndarray and obj.dtype.kind in "biufc":
        arrays.append(obj)
        return {"A": len(arrays) - 1}
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
        arrays.append(np.asarray(obj))
        return {"G": len(arrays) - 1}
    if t is bytes:
        return {"b": base64.b64encode(obj).decode("ascii")}
    raise _UnencodableError(t.__name__)


def _decode(node, arrays: list):
    if not isinstance(node, dict):
        return node
    ((tag, v),) = node.items()
    if tag == "l":
        return [_decode(o, arrays) for o in v]
    if tag == "t":
        return tuple(_decode(o, arrays) for o in v)
    if tag == "d":
        return {_decode(k, arrays): _decode(x, arrays) for k, x in v}
    if tag == "T":
        t = Tensor._make(arrays[v[0]], False, None, 0)
        return t.requires_grad_(True) if v[1] else t
    if tag == "A":
        return arrays[v]
    if tag == "G":
        return arrays[v][()]
    if tag == "b":
        return base64.b64decode(v)
    if tag == "N":
        cls = resolve(v[0], v[1])
        items = [_decode(o, arrays) for o in v[2]]
        if cls is None or not issubclass(cls, tuple):
            return tuple(items)  # the class is not importable here: its fields, in order
        return cls(*items)
    if tag == "S":
        from ...sparse import SparseTensor

        return SparseTensor._new(arrays[v[0]], _decode(v[1], arrays), tuple(v[2]), v[3])
    raise ValueError(f"DataLoader worker message: unknown tag {tag!r}")


def resolve(module: str, qualname: str):
    """A class by module and qualified name, looked up among the modules already imported in
    this process (nothing is imported because a message names it); None if absent."""
    obj = builtins if module == "builtins" else sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def _write_all(fd: int, data: np.ndarray, offset: int) -> None:
    view = memoryview(np.ascontiguousarray(data).reshape(-1)).cast("B")
    while view.nbytes:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def send(conn, kind: str, task: int | None = None, obj=None, **extra) -> None:
    """Send ``obj`` (a batch, indices, or None) as message ``kind`` for ``task``."""
    header = {"k": kind, "i": task, **extra}
    arrays: list = []
    try:
        header["v"] = _encode(obj, arrays)
    except _UnencodableError:
        header["p"] = True
        conn.send_bytes(json.dumps(header).encode())
        try:
            conn.send(obj)  # multiprocessing's transport (pickles internally)
        except Exception as e:  # nothing was written: tell the receiver what went wrong
            conn.send(SendError(f"{type(e).__name__}: {e}"))
        return
    offsets, n = [], 0
    for a in arrays:
        offsets.append(n)
        n += _shm.align(a.nbytes)
    header["a"] = [[a.dtype.str, list(a.shape), o] for a, o in zip(arrays, offsets)]
    header["n"] = n
    header["m"] = "shm" if n >= SHM_MIN_BYTES else "inline"
    payload = fd = None
    # everything that can fail happens before the header is sent, so a failure never leaves
    # half a message on the connection
    if arrays and header["m"] == "inline":
        payload = np.zeros(n, np.uint8)
        for a, o in zip(arrays, offsets):
            payload[o:o + a.nbytes] = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    elif arrays:
        fd = _shm.new_fd(n)
        try:
            for a, o in zip(arrays, offsets):
                _write_all(fd, a, o)
        except BaseException:
            os.close(fd)
            raise
    try:
        conn.send_bytes(json.dumps(header).encode())
        if payload is not None:
            conn.send_bytes(payload)
        elif fd is not None:
            reduction.send_handle(conn, fd, None)
    finally:
        if fd is not None:
            os.close(fd)


def recv(conn):
    """Receive one message: ``(kind, task, obj, header)``."""
    header = json.loads(conn.recv_bytes())
    if header.get("p"):
        obj = conn.recv()
        if isinstance(obj, SendError):
            raise RuntimeError(f"DataLoader worker could not send its result: {obj.text}")
        return header["k"], header["i"], obj, header
    table = header.get("a") or []
    arrays = []
    if table:
        n = header["n"]
        if header["m"] == "inline":
            block = np.empty(n, np.uint8)
            conn.recv_bytes_into(block)
        else:
            block = _shm.map_fd(reduction.recv_handle(conn), n, keep_fd=False)
        for dt, shape, off in table:
            dtype = np.dtype(dt)
            if dtype.kind not in "biufc":
                raise ValueError(f"DataLoader worker message: unexpected dtype {dtype}")
            arrays.append(_shm.view(block, dtype, tuple(shape), off))
    return header["k"], header["i"], _decode(header["v"], arrays), header
