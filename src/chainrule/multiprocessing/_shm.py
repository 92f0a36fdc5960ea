"""Shared-memory blocks: a file descriptor plus a mapping that NumPy arrays can view.

A block is an anonymous in-memory file (``memfd_create`` on Linux; an unlinked temporary
file elsewhere) mapped ``MAP_SHARED``. Every process that maps the same file sees the same
bytes: a child started with ``fork`` inherits the mapping, and any other process can be
handed the descriptor (over a Unix socket, or by ``multiprocessing`` when it starts a
process) and map it itself. Nothing is ever named in the file system, so nothing leaks when a
process dies: the kernel frees the memory when the last descriptor and mapping are gone.

The mapping is made with ``mmap(2)`` through ``ctypes`` rather than Python's ``mmap`` module,
because ``mmap.mmap`` keeps a duplicate descriptor open for as long as the mapping lives; a
training loop that keeps thousands of batches received from DataLoader workers would run out
of descriptors. Here a mapping may outlive its descriptor; it is unmapped when the last NumPy
view of it is garbage-collected (by reference counting: no cycle holds it).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import tempfile
import weakref
from typing import NamedTuple

import numpy as np

__all__ = ["BlockInfo", "align", "allocate", "block_of", "map_fd", "new_fd", "shared_copy"]

_ALIGN = 64  # offsets of arrays packed in one block (cache-line aligned)
# pre-fault the pages in the mmap call itself (Linux): one kernel walk instead of one page
# fault per 4 KiB page on first touch
_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
_libc = None


class BlockInfo(NamedTuple):
    """What a process knows about one of its shared mappings (fd -1: descriptor closed)."""

    fd: int
    addr: int
    nbytes: int


def _c():
    global _libc
    if _libc is None:
        if os.name != "posix":  # pragma: no cover
            raise RuntimeError("chainrule shared memory needs a POSIX system (Linux, macOS)")
        lib = ctypes.CDLL(None, use_errno=True)
        lib.mmap.restype = ctypes.c_void_p
        lib.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                             ctypes.c_int, ctypes.c_long]
        lib.munmap.restype = ctypes.c_int
        lib.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        _libc = lib
    return _libc


def align(n: int) -> int:
    """``n`` rounded up to the block alignment (64 bytes)."""
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def new_fd(nbytes: int) -> int:
    """A descriptor of a new anonymous shared-memory file of ``nbytes`` bytes (zeros)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("chainrule", os.MFD_CLOEXEC)
    else:  # pragma: no cover - macOS / BSD: an unlinked file, in RAM where /dev/shm exists
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        with tempfile.TemporaryFile(dir=folder) as f:
            fd = os.dup(f.fileno())
    try:
        os.ftruncate(fd, max(int(nbytes), 1))
    except OSError:
        os.close(fd)
        raise
    return fd


def map_fd(fd: int, nbytes: int, keep_fd: bool = True) -> np.ndarray:
    """Map the shared file ``fd``: a uint8 array of ``nbytes`` viewing it.

    With ``keep_fd`` the descriptor stays open as long as the mapping (so the block can be
    sent on to another process); otherwise it is closed at once.
    """
    lib = _c()
    size = max(int(nbytes), 1)
    addr = lib.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, _FLAGS, fd, 0)
    if addr is None or addr == ctypes.c_void_p(-1).value:
        err = ctypes.get_errno()
        raise OSError(err, f"shared memory: mmap of {size} bytes failed: {os.strerror(err)}")
    raw = (ctypes.c_uint8 * size).from_address(addr)
    raw._cr_block = BlockInfo(fd if keep_fd else -1, addr, int(nbytes))
    fin = weakref.finalize(raw, _release, addr, size, fd if keep_fd else -1)
    fin.atexit = False  # never unmap while the interpreter shuts down (views may live on)
    if not keep_fd:
        os.close(fd)
    return np.frombuffer(raw, np.uint8, int(nbytes))


def _release(addr: int, size: int, fd: int) -> None:
    _c().munmap(addr, size)
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def allocate(nbytes: int) -> np.ndarray:
    """A new shared block of ``nbytes`` zero bytes, mapped here (descriptor kept)."""
    return map_fd(new_fd(nbytes), nbytes)


def block_of(arr: np.ndarray) -> BlockInfo | None:
    """The shared block an array's memory lives in, or None for ordinary memory."""
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    return getattr(base, "_cr_block", None)


def offset_in(arr: np.ndarray, info: BlockInfo) -> int:
    """Where ``arr``'s first element sits in its block (in bytes)."""
    return arr.__array_interface__["data"][0] - info.addr


def view(block: np.ndarray, dtype, shape, offset: int = 0, strides=None) -> np.ndarray:
    """An array of ``dtype`` and ``shape`` at byte ``offset`` of a block."""
    return np.ndarray(shape, dtype, buffer=block, offset=offset, strides=strides)


def shared_copy(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``arr`` in a new shared block."""
    out = view(allocate(arr.nbytes), arr.dtype, arr.shape)
    np.copyto(out, arr)
    return out
