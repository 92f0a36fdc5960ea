"""Reading a safetensors file without trusting it.

Order of checks (nothing large is allocated before the file has shown it is consistent):

1. a path must be a regular file (``os.stat`` follows symlinks, so a link to ``/dev/zero``
   is refused before it is opened); it is opened non-blocking and re-checked with ``fstat``;
2. the 8-byte header length must be at most :data:`MAX_HEADER_BYTES` and fit in the file;
   otherwise the first bytes are diagnosed (pickle of any protocol, zip archive, ``.npy``);
3. the header must be a JSON object of well-typed entries whose byte ranges tile the data
   section exactly and whose sizes match dtype x shape, the whole adding up to the file size;
4. the structure description (JSON inside the metadata) must nest at most
   :data:`MAX_DEPTH` levels;
5. only then are the arrays read, each straight into its own array of the declared size.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import sys

import numpy as np

MAX_HEADER_BYTES = 100_000_000  #: the safetensors reference implementation's own limit
MAX_DEPTH = 256  #: nesting levels allowed in a structure description (JSON)
_CHUNK = 1 << 24  # reads from streams of unknown size grow 16 MB at a time

#: safetensors dtype tags chainrule reads (little-endian, as the format specifies)
DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
          "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8", "F64": "<f8"}


class LoadError(ValueError):
    """``chainrule.load`` refused a file: it is truncated, malformed, oversized, nested too
    deep, not a regular file, a pickle or zip archive, or it names a class that is not
    allowed. The message names the file and says what was wrong (and, for a class, how to
    allow it). A ``ValueError`` subclass, so ``except ValueError`` also catches it."""


def fail(name: str, what: str) -> LoadError:
    return LoadError(f"chainrule.load: {name!r} {what}")


# -- sources ---------------------------------------------------------------------------------
class Source:
    """A binary stream with the number of bytes it still holds (``size``; None if unknown)."""

    def __init__(self, fh, name: str, size: int | None, owned: bool):
        self.fh, self.name, self.size, self.owned = fh, name, size, owned

    def read(self, n: int) -> bytes:
        """At most ``n`` bytes (fewer only at the end of the stream)."""
        parts, got = [], 0
        while got < n:
            b = self.fh.read(min(n - got, _CHUNK))
            if not b:
                break
            parts.append(b)
            got += len(b)
        return b"".join(parts)

    def read_array(self, dtype: np.dtype, shape, nbytes: int, key: str) -> np.ndarray:
        if self.size is not None and hasattr(self.fh, "readinto"):  # size already checked
            arr = np.empty(shape, dtype)
            view = memoryview(arr.reshape(-1).view(np.uint8)) if nbytes else memoryview(b"")
            got = 0
            while got < nbytes:
                n = self.fh.readinto(view[got:])
                if not n:
                    break
                got += n
        else:  # unknown length: grow with the bytes that really arrive
            buf = bytearray(self.read(nbytes))
            got = len(buf)
            arr = np.frombuffer(buf, dtype).reshape(shape) if got == nbytes else None
        if got != nbytes:
            raise fail(self.name, f"is truncated: entry {key!r} needs {nbytes} bytes but "
                                  f"only {got} remain")
        return arr

    def close(self):
        if self.owned:
            self.fh.close()


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((k for test, k in _KINDS if test(mode)), "not a regular file")


def open_source(f) -> Source:
    """A :class:`Source` for a path (checked to be a regular file) or a binary file object."""
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        return Source(f, name, _remaining(f), owned=False)
    name = os.fspath(f)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    st = os.stat(name)  # follows symlinks: a link to /dev/zero is judged by its target
    if not stat.S_ISREG(st.st_mode):
        link = f"a symbolic link to {os.path.realpath(name)!r}, " if os.path.islink(name) else ""
        raise fail(name, f"is {link}{_kind(st.st_mode)}, not a regular file; chainrule.load "
                         "reads only regular files")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(name, flags)  # non-blocking: a FIFO swapped in meanwhile cannot hang us
    try:
        st2 = os.fstat(fd)
        if not stat.S_ISREG(st2.st_mode) or (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino):
            raise fail(name, "changed while it was being opened")
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return Source(fh, name, st2.st_size, owned=True)


def _remaining(fh) -> int | None:
    try:
        if not fh.seekable():
            return None
        pos = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(pos)
        return max(end - pos, 0)
    except (AttributeError, OSError, ValueError):
        return None


# -- diagnosis of files that are not safetensors ---------------------------------------------
_PICKLE0_START = set(b"(}])cIJKLMFGNSTUVXBCPghpq\x88\x89\x8a\x8b\x8c\x8d\x8e\x95")


def diagnose(head: bytes, last: bytes | None) -> str | None:
    """What the first bytes (and the last byte, if known) say the file is, or None."""
    if head[:1] == b"\x80" and head[1:2] and 1 <= head[1] <= 5:
        return (f"is a pickle file (protocol {head[1]}), not a chainrule file; chainrule never "
                "unpickles, because unpickling can run any code")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return ("is a zip archive (like a PyTorch checkpoint, which holds a pickle), not a "
                "chainrule file; chainrule never unpickles. If you trust it, convert it in "
                "PyTorch: safetensors.torch.save_file(torch.load(path), 'model.safetensors')")
    if head[:6] == b"\x93NUMPY":
        return "is a NumPy .npy file, not a chainrule file; read it with numpy.load"
    if head[:1] and head[0] in _PICKLE0_START and last in (b".", None):
        sure = "is" if last == b"." else "looks like"
        return (f"{sure} a pickle file (protocol 0 or 1), not a chainrule file; chainrule "
                "never unpickles, because unpickling can run any code")
    return None


def _last_byte(src: Source) -> bytes | None:
    fh = src.fh
    try:
        if src.size is None or src.size == 0:
            return None
        pos = fh.tell()
        fh.seek(pos + src.size - 1 - 8)  # 8 bytes were read already
        b = fh.read(1)
        fh.seek(pos)
        return b
    except (AttributeError, OSError, ValueError):
        return None


# -- the header ------------------------------------------------------------------------------
def json_error_text(e: Exception) -> str:
    """What is wrong with JSON text, for a user: Python's limit on integer digits is named
    as such (its message advises ``sys.set_int_max_str_digits()``, which no user of a file
    should call)."""
    msg = " ".join(str(e).split())
    if "integer string conversion" in msg:
        return f"an integer of more than {sys.get_int_max_str_digits()} digits"
    return msg or type(e).__name__


def parse_json(text, name: str, what: str, max_depth: int):
    """``json.loads`` with nesting refused beyond ``max_depth`` (checked without recursion)."""
    try:
        obj = json.loads(text)
    except RecursionError:
        raise fail(name, f"has {what} nested too deep (more than {max_depth} levels)") from None
    except (ValueError, TypeError) as e:  # includes UnicodeDecodeError and huge integers
        raise fail(name, f"has {what} that is not valid JSON ({json_error_text(e)})") from None
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise fail(name, f"has {what} nested too deep (more than {max_depth} levels)")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return obj


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_header(src: Source):
    """Validate the framing and header; return ``(metadata, entries)`` where entries are
    ``(key, dtype_tag, shape, nbytes)`` in file order, with the stream at the data."""
    name = src.name
    head = src.read(8)
    if len(head) < 8:
        what = diagnose(head, head[-1:] or None)
        raise fail(name, what or f"is truncated or not a chainrule file ({len(head)} bytes, "
                                 "shorter than the 8-byte header length)")
    (n,) = struct.unpack("<Q", head)
    room = None if src.size is None else src.size - 8
    if n > MAX_HEADER_BYTES or (room is not None and n > room) or n < 2:
        what = diagnose(head, _last_byte(src))
        if what:
            raise fail(name, what)
        if room is not None and n > room:
            raise fail(name, f"is truncated or not a chainrule file: its header claims {n} "
                             f"bytes but only {room} follow")
        raise fail(name, f"is not a chainrule file: its header length {n} is outside "
                         f"[2, {MAX_HEADER_BYTES}]")
    raw = src.read(n)
    if len(raw) < n:
        raise fail(name, f"is truncated: its header claims {n} bytes but only {len(raw)} "
                         "follow")
    if raw.lstrip()[:1] != b"{":
        what = diagnose(head, _last_byte(src))
        raise fail(name, what or "is not a chainrule file (its header is not a JSON object)")
    header = parse_json(raw, name, "a header", 4)
    meta = header.pop("__metadata__", None) if isinstance(header, dict) else None
    if not isinstance(header, dict) or (meta is not None and not (
            isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values()))):
        raise fail(name, "has a malformed header (expected an object of entries and string "
                         "metadata)")
    entries = []
    for key, info in header.items():
        entries.append(_entry(name, key, info))
    entries.sort(key=lambda e: e[4])
    at = 0
    for key, _, _, nbytes, start in entries:
        if start != at:
            raise fail(name, f"has a malformed header: entry {key!r} starts at byte {start} "
                             f"of the data but the previous entry ends at {at} (holes and "
                             "overlaps are not allowed)")
        at += nbytes
    if room is not None and 8 + n + at != src.size:
        if 8 + n + at > src.size:
            raise fail(name, f"is truncated or its header lies: the header describes {at} "
                             f"bytes of data but only {src.size - 8 - n} follow")
        raise fail(name, f"is corrupt: {src.size - 8 - n - at} unexpected bytes follow the "
                         f"{at} bytes of data its header describes (truncated or corrupt)")
    return (meta or {}), [e[:4] for e in entries]


def _entry(name: str, key: str, info):
    if not (isinstance(info, dict) and isinstance(info.get("dtype"), str)
            and isinstance(info.get("shape"), list) and all(_int(s) and s >= 0
                                                             for s in info["shape"])
            and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2
            and all(_int(o) for o in info["data_offsets"])):
        raise fail(name, f"has a malformed header entry {key!r} (expected dtype, shape of "
                         "non-negative integers and two integer data_offsets)")
    tag, shape = info["dtype"], tuple(info["shape"])
    if tag not in DTYPES:
        raise fail(name, f"has entry {key!r} of dtype {tag[:20]!r}, which chainrule cannot "
                         f"read (supported: {', '.join(DTYPES)})")
    start, stop = info["data_offsets"]
    nbytes = math.prod(shape) * np.dtype(DTYPES[tag]).itemsize
    if not 0 <= start <= stop or stop - start != nbytes:
        raise fail(name, f"has an inconsistent header: entry {key!r} of dtype {tag} and "
                         f"shape {list(shape)} needs {nbytes} bytes but claims "
                         f"[{start}, {stop})")
    return key, tag, shape, nbytes, start


def read_arrays(src: Source, entries) -> dict:
    """Read every entry (in file order) into its own array."""
    out = {}
    for key, tag, shape, nbytes in entries:
        out[key] = src.read_array(np.dtype(DTYPES[tag]), shape, nbytes, key)
    return out


def read_json_file(path, max_bytes: int = 10_000_000, max_depth: int = 64):
    """A small JSON file (a run directory's ``config.json``, say) read like ``load`` reads:
    a regular file only, at most ``max_bytes`` read, nesting at most ``max_depth``; any
    problem is a :class:`LoadError` naming ``path``."""
    src = open_source(path)
    try:
        if src.size is not None and src.size > max_bytes:
            raise fail(src.name, f"is {src.size} bytes, more than the {max_bytes} bytes allowed")
        raw = src.read(max_bytes + 1)
    finally:
        src.close()
    if len(raw) > max_bytes:
        raise fail(src.name, f"is more than the {max_bytes} bytes allowed")
    return parse_json(raw, src.name, "JSON", max_depth)
