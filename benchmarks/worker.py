"""One measurement in a fresh process: ``python -m benchmarks.worker WORKLOAD LIBRARY``.

LIBRARY is ``chainrule``, ``torch`` or ``numpy``. The thread count is set in-process
(threadpoolctl for NumPy's BLAS, ``cr.set_num_threads`` for chainrule,
``torch.set_num_threads`` for PyTorch) on top of the ``*_NUM_THREADS`` variables the runner
puts in the environment. The result is printed as one JSON line prefixed ``BENCH_RESULT``:
``{"status": "ok", "items": {...}, ...}``, or ``"unavailable"`` (chainrule lacks a
feature the workload needs: an ImportError, AttributeError or NotImplementedError), or
``"error"`` with the exception. ``python -m benchmarks.worker --info`` prints the BLAS and
thread-pool facts of this environment instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import traceback

PREFIX = "BENCH_RESULT "
MISSING = (ImportError, AttributeError, NotImplementedError)
_IMPORT_ERRORS: list[str] = []


def _emit(obj) -> None:
    sys.stdout.write(PREFIX + json.dumps(obj) + "\n")
    sys.stdout.flush()


def _limit_blas(threads: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)  # kept for the life of the process


def _load_lib(library: str, threads: int):
    if library == "torch":
        import torch

        torch.set_num_threads(threads)
        _limit_blas(threads)
        return torch
    if library == "chainrule":
        import chainrule

        for sub in ("chainrule.nn", "chainrule.optim"):  # as `import torch` brings torch.nn
            try:
                importlib.import_module(sub)
            except Exception as e:  # noqa: BLE001  (reported if the workload needs it)
                _IMPORT_ERRORS.append(f"import {sub} failed: {type(e).__name__}: {e}")
        chainrule.set_num_threads(threads)
        _limit_blas(threads)
        return chainrule
    if library == "numpy":
        _limit_blas(threads)
        return None
    raise ValueError(f"unknown library {library!r}; expected chainrule, torch or numpy")


def info(threads: int) -> dict:
    """BLAS / thread-pool facts of a NumPy process and a PyTorch process's settings."""
    import numpy as np
    from threadpoolctl import threadpool_info

    _limit_blas(threads)
    np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)  # load the BLAS
    pools = [
        {k: p.get(k) for k in ("user_api", "internal_api", "version", "architecture",
                               "threading_layer", "num_threads", "filepath")}
        for p in threadpool_info()
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pools": pools,
        "env": {k: os.environ.get(k) for k in (
            "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", nargs="?")
    p.add_argument("library", nargs="?")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--info", action="store_true")
    args = p.parse_args(argv)
    if args.info:
        _emit(info(args.threads))
        return 0
    from benchmarks import workloads

    wl = workloads.load(args.workload)
    try:
        lib = _load_lib(args.library, args.threads)
        if args.library == "numpy":
            result = wl.numpy(args.quick)
            if result is None:
                _emit({"status": "unavailable", "reason": "no NumPy version"})
                return 0
        else:
            result = wl.framework(lib, args.quick)
    except MISSING as e:
        if args.library != "chainrule":
            raise
        reason = "; ".join([f"{type(e).__name__}: {e}", *_IMPORT_ERRORS])
        _emit({"status": "unavailable", "reason": reason})
        return 0
    except Exception as e:  # noqa: BLE001  (reported, not hidden: the runner prints it)
        traceback.print_exc()
        _emit({"status": "error", "reason": f"{type(e).__name__}: {e}"})
        return 1
    result["status"] = "ok"
    _emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
