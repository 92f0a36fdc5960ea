"""The MPI backend of ``chainrule.distributed``: mpi4py, deadlines, and ending a failed job.

mpi4py is imported on first use (``init_process_group``), never by ``import chainrule``;
without it the error names the extra to install (``pip install 'chainrule[mpi]'``: mpi4py
and the ``mpich`` wheel). On a cluster, build mpi4py against the site's MPI instead
(``pip install --no-binary mpi4py mpi4py`` with the site's ``mpicc`` on PATH, or the site's
module) and launch with the site's ``mpiexec``/``srun``: nothing else changes.

**Deadlines.** Every collective is started as a nonblocking MPI operation (``Iallreduce``,
``Ibcast``, ...) and completed by :func:`wait`, which polls ``MPI_Testall`` until the group's
timeout. Polling spins (yielding the core) for the first 2 ms, then sleeps for 5% of the
time waited so far (at most 1 ms), so a long wait costs little CPU and at most ~5% extra
latency. While it waits a rank answers *pings* on a private duplicate communicator. When
the deadline passes the rank pings every peer, waits a short grace period (a tenth of the
timeout, between 1 s and 5 s) for the answers, prints one line naming the ranks that did
not answer (dead, or stuck outside any collective) or, when all answered, what each was
waiting in (mismatched collectives), and calls ``MPI_Abort`` on ``COMM_WORLD``: the launcher
then stops every rank. So a job whose rank died stops within ``timeout + 5 s``.

**Uncaught exceptions.** ``init_process_group`` chains ``sys.excepthook``: after the usual
traceback, a rank of a multi-process job prints
``chainrule.distributed: rank R of N failed (Type: message); stopping all N ranks``
and calls ``MPI_Abort``, so the others stop at once instead of waiting for the deadline.
A rank killed by a signal (``kill -9``, the kernel's out-of-memory killer) is seen by
``mpiexec`` itself, which stops the others at once (MPICH prints a banner with the pid;
``chainrule train --nproc`` turns it into one line naming the rank).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time

_MPI = None
_PING, _PONG, _ARRIVE, _RELEASE = 1, 2, 3, 4
_SPIN_SECONDS = 0.002

#: environment variables that MPI launchers set to the number of processes
SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "MPI_LOCALRANKID")


def load():
    """``mpi4py.MPI``, imported on first use, with a clear error when it is missing."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "chainrule.distributed needs mpi4py and an MPI library: "
                "pip install 'chainrule[mpi]' (mpi4py and the mpich wheel), or on a cluster "
                f"build mpi4py against the site's MPI ({e})"
            ) from None
        _MPI = MPI
    return _MPI


def available() -> bool:
    """True when mpi4py can be imported (checked without initialising MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def launched_size() -> int:
    """The world size an MPI launcher announced in the environment (0 when not launched)."""
    for var in SIZE_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 0


def launched_rank() -> int:
    """This process' rank as the MPI launcher announced it (0 when not launched)."""
    for var in RANK_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 0


def timeout_seconds(timeout, what: str = "init_process_group") -> float:
    """A ``datetime.timedelta`` or number of seconds (None: ``CHAINRULE_DIST_TIMEOUT`` or
    60 s) as positive float seconds."""
    if timeout is None:
        env = os.environ.get("CHAINRULE_DIST_TIMEOUT", "").strip()
        if not env:
            return 60.0
        try:
            timeout = float(env)
        except ValueError:
            raise ValueError(f"CHAINRULE_DIST_TIMEOUT must be a number of seconds, got "
                             f"{env!r}") from None
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"{what}: timeout must be a positive datetime.timedelta or number of "
                         f"seconds, got {timeout!r}")
    return float(seconds)


# -- waiting with a deadline ------------------------------------------------------------
def wait(requests, pg, what: str, timeout: float | None = None, statuses=None) -> None:
    """Complete the MPI ``requests`` of ``pg``'s operation ``what`` or end the job when the
    deadline (``timeout`` or the group's) passes."""
    MPI = _MPI
    if MPI.Request.Testall(requests, statuses):
        return
    limit = pg._timeout if timeout is None else timeout
    start = time.monotonic()
    spin_end = start + _SPIN_SECONDS
    pg._waiting = what
    try:
        while not MPI.Request.Testall(requests, statuses):
            now = time.monotonic()
            if now < spin_end:
                os.sched_yield()  # spin, but let another process have an oversubscribed core
                continue
            waited = now - start
            if waited > limit:
                _timed_out(pg, what, waited)
            serve_pings(pg)
            time.sleep(min(0.001, 0.05 * waited))
    finally:
        pg._waiting = ""


def serve_pings(pg) -> None:
    """Answer the pings peers sent while this rank waits (the answer says what it waits in)."""
    MPI = _MPI
    health = pg._health
    status = MPI.Status()
    while health.Iprobe(MPI.ANY_SOURCE, _PING, status):
        src = status.Get_source()
        health.Recv(bytearray(status.Get_count(MPI.BYTE)), src, _PING)
        answer = json.dumps({"waiting": pg._waiting or "(between collectives)",
                             "seq": pg._seq}).encode()
        pg._pongs.append(health.Isend(answer, src, _PONG))
    if pg._pongs:
        MPI.Request.Testall(pg._pongs)
        pg._pongs = [r for r in pg._pongs if r != MPI.REQUEST_NULL]


def probe_peers(pg, grace: float) -> dict:
    """Ping every other rank of ``pg``; ``{group rank: answer dict}`` for those answering
    within ``grace`` seconds."""
    MPI = _MPI
    health = pg._health
    me, n = health.Get_rank(), health.Get_size()
    sends = [health.Isend(b"?", r, _PING) for r in range(n) if r != me]
    answers = {}
    status = MPI.Status()
    end = time.monotonic() + grace
    while len(answers) < n - 1 and time.monotonic() < end:
        serve_pings(pg)
        while health.Iprobe(MPI.ANY_SOURCE, _PONG, status):
            src = status.Get_source()
            data = bytearray(status.Get_count(MPI.BYTE))
            health.Recv(data, src, _PONG)
            answers[src] = json.loads(data.decode())
        time.sleep(0.002)
    del sends  # never waited for: a dead peer would never take them
    return answers


def _timed_out(pg, what: str, waited: float) -> None:
    grace = min(5.0, max(1.0, pg._timeout / 10))
    answers = probe_peers(pg, grace)
    me = pg._comm.Get_rank()
    silent = [pg._ranks[r] for r in range(pg._comm.Get_size()) if r != me and r not in answers]
    if silent:
        who = ", ".join(str(r) for r in silent)
        cause = (f"rank{'s' if len(silent) > 1 else ''} {who} did not answer (the process "
                 "died or is stuck outside any collective)")
    else:
        cause = "every rank answered, so they wait in different collectives: " + "; ".join(
            f"rank {pg._ranks[r]} in {a['waiting']} (call {a['seq']})"
            for r, a in sorted(answers.items()))
    abort(f"rank {pg._ranks[me]}: {what} (call {pg._seq}) timed out after {waited:.0f} s; "
          f"{cause}; stopping the job (the limit is init_process_group(timeout=...) or "
          "CHAINRULE_DIST_TIMEOUT, in seconds)")


#: seconds between printing the reason and MPI_Abort (see ``abort``)
ABORT_GRACE_S = 0.5


def abort(message: str, code: int = 1) -> None:
    """Print ``chainrule.distributed: message`` on stderr and end every rank of the job."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    print(f"chainrule.distributed: {message}", file=sys.stderr, flush=True)
    # MPI_Abort tears the launcher's proxies down at once: output this rank has written
    # but the proxy has not forwarded yet is lost (seen under load: a traceback cut after
    # its first line). A short pause lets it through; it costs nothing on the good path.
    time.sleep(ABORT_GRACE_S)
    _MPI.COMM_WORLD.Abort(code)


# -- uncaught exceptions end the job ----------------------------------------------------
_HOOK = {"installed": False}


def install_excepthook(world) -> None:
    """After an uncaught exception's traceback, abort the whole job (see the module doc)."""
    _HOOK["world"] = world
    if _HOOK["installed"]:
        return
    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        pg = _HOOK.get("world")
        if pg is None or pg._destroyed or pg._comm.Get_size() < 2:
            return
        n = pg._comm.Get_size()
        text = " ".join(str(value).split())[:200]
        code = 130 if issubclass(tp, KeyboardInterrupt) else 1
        abort(f"rank {pg._comm.Get_rank()} of {n} failed ({tp.__name__}"
              f"{': ' + text if text else ''}); stopping all {n} ranks", code)

    sys.excepthook = hook
    _HOOK["installed"] = True
