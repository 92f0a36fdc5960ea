"""Run worker scripts under ``mpiexec`` from pytest (the MPI tests run real processes)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule

WORKERS = Path(__file__).parent / "workers"
SRC = str(Path(chainrule.__file__).resolve().parent.parent)


def mpiexec() -> str:
    """``mpiexec`` next to the Python executable (the mpich wheel's), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpi4py is installed but no mpiexec was found next to the Python "
                    "executable or on PATH (install the mpich wheel: pip install mpich)")
    return found


def require_mpi():
    """Skip only when mpi4py is absent (the [mpi] extra is not installed)."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'chainrule[mpi]')")


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = SRC + os.pathsep + e.get("PYTHONPATH", "")
    e["OMP_NUM_THREADS"] = e["OPENBLAS_NUM_THREADS"] = "1"
    for var in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                "MPI_LOCALNRANKS"):
        e.pop(var, None)
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run(n: int, worker: str, *args, timeout: float = 60, launcher_args=(), cwd=None,
        **extra_env) -> subprocess.CompletedProcess:
    """``mpiexec -n n python workers/<worker>.py args...``; returns the finished process."""
    require_mpi()
    cmd = [mpiexec(), *launcher_args, "-n", str(n), sys.executable,
           str(WORKERS / f"{worker}.py"), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=env(**extra_env), cwd=cwd)


def check(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
