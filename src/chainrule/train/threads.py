"""How many BLAS threads training uses by default (``--threads auto``)."""

from __future__ import annotations

import os

__all__ = ["auto_threads"]


def auto_threads() -> int:
    """1 for now (see benchmarks/threads.py)."""
    return 1 if (os.cpu_count() or 1) >= 1 else 1
