"""``chainrule train`` on several processes (``--nproc``) and on data larger than memory
(``--stream``): the options and the steps around the command's body.

* ``--nproc N`` outside an MPI job relaunches the command under ``mpiexec -n N``
  (``chainrule.distributed.launch``); ``mpiexec -n N chainrule train ...`` is the same.
* On the ranks of a job only rank 0 prints and writes the run directory (the others write
  theirs to a temporary directory that is removed, and ``--resume`` from a copy of it);
  ``fit`` trains data-parallel.
* An error on a rank before training starts (a bad file: the same on every rank) is
  printed by rank 0 alone and every rank exits with code 2; an error during training
  stops the whole job at once with one line naming the rank (``MPI_Abort``).
* ``--stream`` (or automatically when the estimated in-memory size — 4x the CSV file, 8x
  a Parquet file — exceeds ``--memory-budget``) trains from ``chainrule.data.TableStream``.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sys
import tempfile

from ..distributed import launch, mpi

MB = 1024 * 1024


def add_train_arguments(parser) -> None:
    """The ``--nproc``, ``--stream`` and ``--memory-budget`` options of ``chainrule train``."""
    parser.add_argument("--nproc", type=int, default=1,
                        help="train data-parallel on N processes (runs mpiexec; needs "
                        "chainrule[mpi])")
    parser.add_argument("--stream", action="store_true",
                        help="stream the file from disk in record batches (default: when it "
                        "would not fit the memory budget)")
    parser.add_argument("--memory-budget", type=float, default=None, metavar="MIB",
                        help="memory for data, in MiB (default: CHAINRULE_MEMORY_BUDGET, else "
                        "a quarter of the RAM)")


def memory_budget(a) -> int:
    """Bytes from ``--memory-budget``, ``CHAINRULE_MEMORY_BUDGET`` (MiB) or RAM / 4."""
    value = a.memory_budget
    if value is None and os.environ.get("CHAINRULE_MEMORY_BUDGET"):
        value = float(os.environ["CHAINRULE_MEMORY_BUDGET"])
    if value is not None:
        if not value > 0:
            raise ValueError(f"--memory-budget must be positive (MiB), got {value}")
        return int(value * MB)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 1024 * MB


def in_memory_estimate(path) -> int:
    """Rough bytes ``load_csv`` needs for ``path`` (4x a CSV file, 8x a Parquet file)."""
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    return size * (8 if str(path).endswith((".parquet", ".pq")) else 4)


def choose_trainer(a, train_csv):
    """``train_csv``, or the streaming trainer when asked or when the file is too big."""
    budget = memory_budget(a)
    if a.stream or in_memory_estimate(a.csv) > budget:
        from ._stream import train_stream

        if not a.stream and not a.quiet:
            print(f"note: {a.csv} is too big to load within the memory budget "
                  f"({budget / MB:.0f} MiB): streaming it from disk (--stream)")
        return functools.partial(train_stream, memory_budget=budget)
    return train_csv


def run_train_command(a, body) -> int:
    """Run ``chainrule train``'s ``body(a)`` as the process' role in the job requires."""
    if a.nproc < 1:
        raise ValueError(f"--nproc must be at least 1, got {a.nproc}")
    size = mpi.launched_size()
    if a.nproc > 1 and size <= 1:
        argv = getattr(a, "_argv", None) or sys.argv[1:]
        return launch.relaunch(a.nproc, launch.without_option(argv, "--nproc"))
    if size > 1 and a.nproc not in (1, size):
        raise ValueError(f"--nproc {a.nproc} but mpiexec started {size} processes")
    rank = mpi.launched_rank() if size > 1 else 0
    if rank > 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
        scratch = os.environ.get("CHAINRULE_DIST_PIDDIR")  # the launcher removes it, always
        a.out = tempfile.mkdtemp(prefix=f"chainrule-rank{rank}-",
                                 dir=scratch if scratch and os.path.isdir(scratch) else None)
        atexit.register(shutil.rmtree, a.out, True)
        a.quiet = True
        if getattr(a, "resume", None):  # resume from a private copy: only rank 0 writes
            a.resume = shutil.copytree(a.resume, os.path.join(a.out, "resume"))
    try:
        return body(a)
    except (ValueError, OSError) as e:
        from .. import distributed as dist

        if dist.is_initialized() and dist.get_world_size() > 1:
            mpi.abort(f"rank {rank}: chainrule: error: {' '.join(str(e).split())}", 2)
        if rank > 0:
            return 2  # the same error as rank 0's, which prints it
        raise
