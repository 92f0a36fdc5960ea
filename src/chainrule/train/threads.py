"""How many BLAS threads training uses when nobody said (``--threads auto``, ``fit``).

Measured with ``benchmarks/threads.py`` on 2 cores (ms per Adam step, 1 vs 2 threads):
below about 200 MFLOP per step a second BLAS thread never helps (the Heart MLP, 1 MFLOP:
1.00x; a 10-128-128-1 MLP at batch 256, 27 MFLOP: 0.96x) and, with the other core busy,
costs 2.5x; above it a second thread helps on a quiet machine (206 MFLOP: 0.85x, 1.2 GFLOP:
0.67x) but is 2x-19x slower when the other core is busy (OpenBLAS threads spin-wait for a
core). So the default is **1 thread below** :data:`MIN_FLOPS` **per step**, and above it
one thread per core that the 1-minute load average leaves free (counting this process),
at least 1. ``--threads N`` / ``chainrule.set_num_threads(N)`` override it.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

__all__ = ["MIN_FLOPS", "auto_threads", "blas_threads", "flops_per_step"]

#: FLOPs per training step below which one BLAS thread is always used
MIN_FLOPS = 2e8


def flops_per_step(n_params: int, batch_size: int) -> float:
    """About ``6 x batch x parameters``: forward and backward GEMMs of a dense network (a
    lower bound for convolutions, whose weights are reused across positions)."""
    return 6.0 * float(batch_size) * float(n_params)


def auto_threads(flops: float | None = None) -> int:
    """The default number of BLAS threads for a training step of ``flops`` FLOPs (None:
    small). See the module docstring for the measurement behind it."""
    cpus = os.cpu_count() or 1
    if cpus == 1 or flops is None or flops < MIN_FLOPS:
        return 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return 1
    return int(max(1, min(cpus, cpus - math.floor(load + 0.5) + 1)))


def _user_set() -> bool:
    from .. import _threads

    return getattr(_threads, "_limiter", None) is not None


@contextmanager
def blas_threads(threads, model=None, batch_size: int | None = None):
    """Limit BLAS to ``threads`` inside the block (``"auto"``: :func:`auto_threads` for
    ``model`` at ``batch_size`` unless ``chainrule.set_num_threads`` was called; None:
    leave BLAS alone)."""
    if threads is None or (threads == "auto" and _user_set()):
        yield
        return
    if threads == "auto":
        n_params = sum(p.numel() for p in model.parameters()) if model is not None else 0
        threads = auto_threads(flops_per_step(n_params, batch_size or 1))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        yield
        return
    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield
