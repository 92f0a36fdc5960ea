"""``spawn`` / ``start_processes``: run ``fn(i, *args)`` in ``nprocs`` processes and join them
(``torch.multiprocessing.spawn``).

If a process raises, the others are terminated and the parent raises
``ProcessRaisedException`` holding the child's traceback text; a process killed by a signal
or exiting with a non-zero code gives ``ProcessExitedException``. The traceback travels as
UTF-8 text over a pipe (no pickle, no temporary files).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import signal
import sys
import time
import traceback
import warnings

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException",
           "ProcessRaisedException", "spawn", "start_processes"]


class ProcessException(Exception):  # noqa: N818  (torch's name)
    """A process started by ``spawn`` failed; ``error_index`` is its ``i``, ``error_pid``
    its pid."""

    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.error_pid = error_pid


class ProcessRaisedException(ProcessException):
    """The process's function raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """The process was killed by a signal (``signal_name``) or exited with ``exit_code``."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name


def _die_with_parent(sig: int) -> None:
    """Linux: have the kernel send ``sig`` to this process when its parent dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(1, int(sig))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _wrap(fn, i, args, error_conn):
    _die_with_parent(signal.SIGINT)
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting everything down
    except Exception:
        error_conn.send_bytes(traceback.format_exc().encode("utf-8", "replace"))
        sys.exit(1)
    finally:
        error_conn.close()


class ProcessContext:
    """The processes started by ``start_processes(..., join=False)``."""

    def __init__(self, processes, error_conns):
        self.processes = processes
        self.error_conns = error_conns
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def _join_all(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for p in self.processes:
            p.join(max(0.0, end - time.monotonic()))

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait (at most ``timeout`` seconds) for processes to end. Returns True when all have
        ended successfully, False while some still run. When one fails, the others get
        SIGTERM (after ``grace_period`` seconds, if given), then SIGKILL, and the failure is
        raised."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for s in ready:
            i = self.sentinels.pop(s)
            self.processes[i].join()
            if self.processes[i].exitcode != 0:
                failed = i
                break
        if failed is None:
            return not self.sentinels
        if grace_period is not None:
            self._join_all(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        self._join_all(30 if grace_period is None else grace_period)
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join()
        self._raise(failed)
        return True  # pragma: no cover

    def _raise(self, i: int):
        proc, conn = self.processes[i], self.error_conns[i]
        text = None
        try:
            if conn.poll(0):
                text = conn.recv_bytes().decode("utf-8", "replace")
        except (EOFError, OSError):
            text = None
        if text is not None:
            raise ProcessRaisedException(
                f"\n\n-- Process {i:d} terminated with the following error:\n{text}", i, proc.pid)
        code = proc.exitcode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"<Unknown signal {-code}>"
            raise ProcessExitedException(f"process {i:d} terminated with signal {name}", i,
                                         proc.pid, code, name)
        raise ProcessExitedException(f"process {i:d} terminated with exit code {code:d}", i,
                                     proc.pid, code)


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)`` with ``start_method``; with
    ``join`` wait for all of them (raising the first failure), else return a
    ``ProcessContext``. With ``spawn``/``forkserver``, ``fn`` must be importable (defined at
    the top level of a module) and ``args`` are sent by multiprocessing (chainrule tensors as
    shared memory, see ``chainrule.multiprocessing``)."""
    ctx = multiprocessing.get_context(start_method)
    processes, conns = [], []
    for i in range(nprocs):
        recv_end, send_end = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_wrap, args=(fn, i, args, send_end), daemon=daemon)
        p.start()
        send_end.close()
        processes.append(p)
        conns.append(recv_end)
    context = ProcessContext(processes, conns)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):
    """Spawn ``nprocs`` processes that run ``fn(i, *args)`` (``torch.multiprocessing.spawn``).

    Args:
        fn: called as ``fn(i, *args)`` with the process index ``i``; must be defined at the
            top level of a module (the ``spawn`` start method imports it).
        args: the other arguments (tensors arrive in shared memory).
        nprocs: the number of processes.
        join: wait for all processes; a failure in one terminates the others and is raised
            (``ProcessRaisedException`` with the child's traceback, or
            ``ProcessExitedException``).
        daemon: the processes' daemon flag.
        start_method: deprecated, always ``"spawn"`` (use ``start_processes`` for others).

    Returns:
        None with ``join=True``, else a ``ProcessContext``.

    Example::

        def train(rank, model):
            ...                      # hogwild: every process updates the shared model
        model.share_memory()
        mp.spawn(train, args=(model,), nprocs=2)
    """
    if start_method != "spawn":
        warnings.warn(
            f"This method only supports start_method=spawn (got: {start_method}).\n"
            "To use a different start_method use:\n\t\t"
            " chainrule.multiprocessing.start_processes(...)", FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
