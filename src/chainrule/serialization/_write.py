"""Writing the safetensors framing ourselves, byte-reproducibly.

The format (https://github.com/huggingface/safetensors)::

    [8 bytes: N, little-endian u64][N bytes: JSON header, padded with spaces][data]

The header maps each entry name to ``{"dtype": tag, "shape": [...], "data_offsets":
[begin, end]}`` (offsets into the data section) and ``"__metadata__"`` to a str -> str
object. The safetensors library writes the metadata keys in hash order, so the same object
saved by two processes gave two different files; here every JSON object is written with
sorted keys, entries are laid out by decreasing item size then name (the library's order,
so the data stay aligned to their item size), and the header is padded to a multiple of 8
bytes. Same object in, same bytes out, in any process.
"""

from __future__ import annotations

import json
import struct

import numpy as np

#: NumPy dtype (native or little-endian) -> safetensors dtype tag
_TAGS = {np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
         np.dtype(np.int16): "I16", np.dtype(np.uint16): "U16", np.dtype(np.float16): "F16",
         np.dtype(np.int32): "I32", np.dtype(np.uint32): "U32", np.dtype(np.float32): "F32",
         np.dtype(np.int64): "I64", np.dtype(np.uint64): "U64", np.dtype(np.float64): "F64"}


def _little_endian(arr: np.ndarray) -> np.ndarray:
    dt = arr.dtype
    if dt.byteorder == ">" or (dt.byteorder == "=" and not np.little_endian):
        arr = arr.astype(dt.newbyteorder("<"))
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # keeps 0-d arrays 0-d


def serialize(arrays: dict, metadata: dict | None = None) -> bytes:
    """The safetensors bytes of ``arrays`` (name -> NumPy array) with ``metadata``
    (str -> str), identical for identical input in every process.

    Raises ``TypeError`` for a dtype safetensors has no tag for.

    Example::

        data = serialize({"w": np.ones((2, 3), np.float32)}, {"format": "chainrule"})
        safetensors.numpy.load(data)["w"]     # the standard library reads it
    """
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    tagged = []
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        tag = _TAGS.get(arr.dtype.newbyteorder("="))
        if tag is None:
            raise TypeError(f"chainrule.save: entry {name!r} has dtype {arr.dtype}, which "
                            "safetensors cannot store")
        tagged.append((name, tag, _little_endian(arr)))
    tagged.sort(key=lambda e: (-e[2].dtype.itemsize, e[0]))
    offset = 0
    for name, tag, arr in tagged:
        header[name] = {"data_offsets": [offset, offset + arr.nbytes], "dtype": tag,
                        "shape": [int(s) for s in arr.shape]}
        offset += arr.nbytes
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    parts += [arr.tobytes() for _, _, arr in tagged]
    return b"".join(parts)
