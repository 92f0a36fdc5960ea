"""BLAS thread-pool control (``set_num_threads`` / ``get_num_threads``) via threadpoolctl."""

from __future__ import annotations

import os

_limiter = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in NumPy's BLAS (OpenBLAS/MKL) from now on."""
    global _limiter
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    from threadpoolctl import threadpool_limits

    _limiter = threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses."""
    from threadpoolctl import threadpool_info

    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return os.cpu_count() or 1
    return max(i["num_threads"] for i in infos)
