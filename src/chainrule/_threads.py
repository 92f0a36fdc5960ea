"""Thread control (``set_num_threads`` / ``get_num_threads``): chainrule's intra-op pool
(``ops/_parallel.py``) and NumPy's BLAS, through threadpoolctl."""

from __future__ import annotations

import os

_limiter = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for chainrule's operations from now on (PyTorch's intra-op threads).

    chainrule's pool splits its large kernels (convolutions, pooling, ReLU, matrix products)
    over ``n`` threads, each calling NumPy's BLAS with one thread; NumPy's BLAS is set to one
    thread for the whole process (two pools on the same cores compete: DESIGN.md "Intra-op
    threads"). ``n = 1``: everything on the calling thread, BLAS at one thread.
    """
    global _limiter
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    from threadpoolctl import threadpool_limits

    from .ops import _parallel

    _parallel.set_threads(n)
    _limiter = threadpool_limits(limits=1, user_api="blas")


def get_num_threads() -> int:
    """The number of threads chainrule's operations use: the last ``set_num_threads``, else
    the number of threads NumPy's BLAS uses."""
    if _limiter is not None:
        from .ops import _parallel

        return _parallel.threads()
    from threadpoolctl import threadpool_info

    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return os.cpu_count() or 1
    return max(i["num_threads"] for i in infos)
