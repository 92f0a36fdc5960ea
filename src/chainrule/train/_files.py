"""Writing files atomically with errors that name the user's path."""

from __future__ import annotations

import os

from ..serialization import _atomic_write


def write_file(path, data: bytes | str) -> None:
    """Write ``path`` atomically (a temporary file in the same directory, renamed over it);
    an ``OSError`` names ``path``, never the temporary file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        _atomic_write(os.fspath(path), data)
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), os.fspath(path)) from None
