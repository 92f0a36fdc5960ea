"""One measurement in a fresh process: ``python -m benchmarks.worker WORKLOAD LIBRARY``.

LIBRARY is ``chainrule``, ``chainrule-compiled`` (the training step under
``chainrule.compile``), ``torch``, ``torch-compile`` (the same step under
``torch.compile``), ``jax-jit`` (a JAX version with the whole step under ``jax.jit``) or
``numpy``. The thread count is set in-process (threadpoolctl for NumPy's BLAS,
``cr.set_num_threads`` for chainrule, ``torch.set_num_threads`` for PyTorch, XLA flags for
JAX) on top of the ``*_NUM_THREADS`` variables the runner puts in the environment. The
result is printed as one JSON line prefixed ``BENCH_RESULT``: ``{"status": "ok", "items":
{...}, "rss_start_mb": ..., "rss_peak_mb": ...}``, or ``"unavailable"`` (chainrule lacks a
feature the workload needs: an ImportError, AttributeError or NotImplementedError; the
workload has no JAX version; torch.compile fails on this machine), or ``"error"`` with the
exception. ``python -m benchmarks.worker --info`` prints the BLAS and thread-pool facts of
this environment instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
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


LIBRARIES = ("chainrule", "chainrule-compiled", "torch", "torch-compile", "jax-jit", "numpy")
_BASE = {"chainrule-compiled": "chainrule", "torch-compile": "torch"}


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _limit_jax(threads: int) -> None:
    os.environ["JAX_PLATFORMS"] = "cpu"
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags.strip()


def _load_lib(library: str, threads: int):
    library = _BASE.get(library, library)
    if library == "jax-jit":
        _limit_jax(threads)
        _limit_blas(threads)
        return None
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
        chainrule.set_num_threads(threads)  # its own pool; NumPy's BLAS at one thread
        return chainrule
    if library == "numpy":
        _limit_blas(threads)
        return None
    raise ValueError(f"unknown library {library!r}; expected one of {', '.join(LIBRARIES)}")


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
    rss0 = rss_mb()
    try:
        lib = _load_lib(args.library, args.threads)
        rss0 = rss_mb()
        if args.library in ("numpy", "jax-jit"):
            fn = getattr(wl, "numpy" if args.library == "numpy" else "jax", None)
            result = fn(args.quick) if fn is not None else None
            if result is None:
                _emit({"status": "unavailable", "reason": f"no {args.library} version"})
                return 0
        elif args.library in _BASE and getattr(wl, "NO_COMPILE", None):
            _emit({"status": "unavailable", "reason": wl.NO_COMPILE})
            return 0
        else:
            result = wl.framework(lib, args.quick, compile=args.library in _BASE)
    except MISSING as e:
        if not args.library.startswith("chainrule"):
            raise
        reason = "; ".join([f"{type(e).__name__}: {e}", *_IMPORT_ERRORS])
        _emit({"status": "unavailable", "reason": reason})
        return 0
    except Exception as e:  # noqa: BLE001  (reported, not hidden: the runner prints it)
        traceback.print_exc()
        status = "unavailable" if args.library == "torch-compile" else "error"
        _emit({"status": status, "reason": f"{type(e).__name__}: {str(e)[:300]}"})
        return 0 if status == "unavailable" else 1
    result["status"] = "ok"
    result["rss_start_mb"] = rss0
    result["rss_peak_mb"] = peak_rss_mb()
    _emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
