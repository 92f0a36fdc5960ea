"""Start a command on N processes under ``mpiexec`` and name the rank that failed.

``chainrule train data.csv --target y --nproc 4`` runs
``mpiexec -n 4 python -m chainrule.cli train data.csv --target y`` through :func:`relaunch`.
When a rank dies from a signal (``kill -9``, the out-of-memory killer), MPICH's ``mpiexec``
stops the others at once and prints a banner with *a* pid (not necessarily the one that
failed). To say which rank it was, the launcher listens on a Unix socket in a private
directory; every rank connects when it joins the process group (:func:`announce`) and
keeps the connection open, so the kernel closes it the moment the process dies. The first
connection to close is the failed rank, and the banner is replaced by one line::

    chainrule: rank 1 (pid 8672) was killed by signal 9 (SIGKILL: killed, or out of memory); mpiexec stopped the other ranks

(The socket is local: this names ranks of jobs on one machine; on a cluster, launch with
the site's ``mpiexec``/``srun`` yourself — ``mpiexec -n N chainrule train ...`` works too.)

``mpiexec`` is looked up in ``CHAINRULE_MPIEXEC``, next to the Python executable (where the
``mpich`` wheel puts it), then on PATH.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_PIDDIR = "CHAINRULE_DIST_PIDDIR"
_SIGNALS = {9: "SIGKILL: killed, or out of memory", 15: "SIGTERM", 11: "SIGSEGV: a crash",
            6: "SIGABRT", 2: "SIGINT"}


def find_mpiexec() -> str:
    """The ``mpiexec`` to use (see the module doc)."""
    env = os.environ.get("CHAINRULE_MPIEXEC")
    if env:
        return env
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("no mpiexec found (next to the Python executable or on PATH): "
                           "pip install 'chainrule[mpi]' brings MPICH's, or use the cluster's "
                           "MPI module; CHAINRULE_MPIEXEC=/path/to/mpiexec picks one")
    return found


_HELD: list = []  # this rank's connection to the launcher, open for the process' life


def announce(rank: int) -> None:
    """Tell the launcher (when there is one) this process' rank and pid, and keep the
    connection open so that it sees the moment the process ends."""
    directory = os.environ.get(_PIDDIR)
    if not directory or not os.path.isdir(directory):
        return
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(os.path.join(directory, "ranks.sock"))
        conn.sendall(f"{rank} {os.getpid()}\n".encode())
        _HELD.append(conn)
    except OSError:
        pass  # no launcher listening: nothing to tell


class _Watch(threading.Thread):
    """Accepts the ranks' connections and records when each one closes."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1024)
        self.ended = []  # (time, rank, pid) in the order the processes ended
        self.stop = False

    def run(self):
        conns = {}
        while not self.stop:
            ready, _, _ = select.select([self.server, *conns], [], [], 0.1)
            now = time.monotonic()
            for s in ready:
                if s is self.server:
                    conn, _ = self.server.accept()
                    conns[conn] = None
                    continue
                data = s.recv(256)
                if data and conns[s] is None:
                    conns[s] = data.decode().split()
                elif not data:
                    who = conns.pop(s)
                    s.close()
                    if who:
                        self.ended.append((now, who[0], who[1]))


def without_option(args, name: str) -> list[str]:
    """``args`` without ``name VALUE`` / ``name=VALUE``."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out


def relaunch(nproc: int, args, module: str = "chainrule.cli") -> int:
    """Run ``python -m module args`` on ``nproc`` processes; returns mpiexec's exit code.
    Unless the environment sets it, each process gets ``cpu_count // nproc`` BLAS threads."""
    cmd = [find_mpiexec(), "-n", str(nproc), sys.executable, "-m", module, *args]
    piddir = tempfile.mkdtemp(prefix="chainrule-ranks-")
    watch = _Watch(os.path.join(piddir, "ranks.sock"))
    watch.start()
    env = dict(os.environ, **{_PIDDIR: piddir})
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    if not any(v in os.environ for v in threads):  # N processes share the cores (as torchrun)
        env.update({v: str(max(1, (os.cpu_count() or 1) // nproc)) for v in threads})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the ranks
    previous_term = signal.signal(signal.SIGTERM, _terminated)
    proc = None
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        _copy_output(proc.stdout, watch)
        code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a late TERM must not cut the cleanup
        if proc is not None and proc.poll() is None:  # the launcher is being stopped
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        watch.stop = True
        watch.join(1.0)
        shutil.rmtree(piddir, ignore_errors=True)
    return code


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # run relaunch's cleanup: stop mpiexec, remove the files


def _copy_output(stream, watch) -> None:
    held = []  # a rule line of "=" that may open MPICH's failure banner
    banner = None
    for line in stream:
        if banner is not None:
            banner.append(line)
            if "FAQ" in line or len(banner) > 16:
                _report(banner, watch)
                banner = None
            continue
        if held:
            if "BAD TERMINATION" in line:
                banner, held = held + [line], []
                continue
            sys.stdout.write("".join(held))
            held = []
        if line.strip() and set(line.strip()) == {"="} and len(line.strip()) > 20:
            held = [line]
            continue
        sys.stdout.write(line)
        sys.stdout.flush()
    if held:
        sys.stdout.write("".join(held))
    if banner:
        _report(banner, watch)
    sys.stdout.flush()


def _report(banner, watch) -> None:
    text = "".join(banner)
    code = re.search(r"EXIT CODE: (\d+)", text)
    time.sleep(0.2)  # let the watcher see every closed connection
    ended = sorted(watch.ended)
    if not ended:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _, rank, pid = ended[0]
    number = int(code.group(1)) if code else 0
    how = (f"was killed by signal {number} ({_SIGNALS.get(number, 'a signal')})"
           if "signal" in text or number in _SIGNALS else f"ended with exit code {number}")
    print(f"chainrule: rank {rank} (pid {pid}) {how}; mpiexec stopped the other ranks",
          file=sys.stderr, flush=True)
