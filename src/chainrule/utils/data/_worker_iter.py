"""The main-process side of a DataLoader with ``num_workers > 0`` (torch's
``_MultiProcessingDataLoaderIter``).

The sampler runs here: each batch's indices become one task, sent to the workers
round-robin, at most ``prefetch_factor * num_workers`` tasks ahead of what has been yielded.
Results come back on each worker's own connection and are yielded in task order (or as
they arrive with ``in_order=False``). Waiting watches the connections and the workers'
process sentinels together, so a worker that dies is noticed at once, and ``timeout`` bounds
each wait. The iterator shuts its workers down at the end of an epoch (unless
``persistent_workers``), when it is garbage-collected (a ``break`` out of the loop), and on
any error; a worker's exception is raised here with its original traceback text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time

from ...random import _gen
from . import _transport
from ._worker import FetchSpec, worker_loop
from .sampler import BatchSampler

__all__ = ["WorkerIter"]

SHUTDOWN_JOIN_SECONDS = 5.0  # how long a worker may take to finish its batch and exit


def resolve_context(ctx):
    """The multiprocessing context workers start in: the given one; else the start method the
    program chose (``multiprocessing.set_start_method``); else ``fork`` on Linux (nothing is
    pickled, fastest start) and the platform's default elsewhere."""
    if ctx is not None:
        return ctx
    chosen = multiprocessing.get_start_method(allow_none=True)
    if chosen is None and sys.platform.startswith("linux"):
        chosen = "fork"
    return multiprocessing.get_context(chosen)


def base_seed(generator, dataset, epoch: int) -> int:
    """The workers' base seed for one iterator: a hash of the loader's generator state (the
    global generator when None), how many iterators the loader has made, and the dataset's
    class. Deterministic under ``manual_seed`` (two loaders whose generators are in the same
    state get the same seeds, as in torch), new every epoch, and it does not draw from the
    generator, so a seeded loader visits the same samples in the same order with and
    without workers."""
    text = json.dumps([_gen(generator).get_state(), epoch, type(dataset).__qualname__],
                      sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


class _KeyErrorMessage(str):
    """KeyError prints its argument's repr; this keeps the traceback text readable."""

    def __repr__(self):
        return self


def _exception_class(module: str, qualname: str):
    """The worker's exception class, looked up among modules already imported here (nothing
    is imported on the worker's say-so); None if it cannot be found."""
    cls = _transport.resolve(module, qualname)
    return cls if cls is not None and issubclass(cls, BaseException) else None


def _reraise(info: dict):
    text = info["text"]
    cls = _exception_class(*info["exc"])
    if cls is None:
        raise RuntimeError(text)
    msg = _KeyErrorMessage(text) if cls is KeyError else text
    try:
        exc = cls(msg)
    except Exception:
        raise RuntimeError(text) from None
    try:
        raise exc
    finally:
        del exc  # no frame -> exception -> traceback -> frame cycle keeps the iterator alive


class WorkerIter:
    """One DataLoader's worker processes and the tasks in flight."""

    def __init__(self, loader):
        from ._collate import default_collate, default_convert
        from .dataset import _tensor_arrays
        from .dataset import IterableDataset

        self._pid = os.getpid()
        self._closed = False
        self._workers, self._conns = [], []
        self._dataset = loader.dataset
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._batch_sampler = loader.batch_sampler
        self._sampler = loader.sampler
        self._batch_size = loader.batch_size
        self._auto = loader._auto_collation
        self._prefetch = loader.prefetch_factor
        self._in_order = loader.in_order
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        n = self._n = loader.num_workers
        collate = loader.collate_fn
        if collate is None:
            collate = default_collate if self._auto else default_convert
        fast = (not self._iterable and self._auto and loader.collate_fn in (None, default_collate)
                and _tensor_arrays(loader.dataset) is not None)
        spec = FetchSpec(self._iterable, self._auto, loader.drop_last, collate, fast)
        ctx = resolve_context(loader.multiprocessing_context)
        fork = ctx.get_start_method() == "fork"
        seed = base_seed(loader.generator, loader.dataset, loader._epochs)
        loader._epochs += 1
        try:
            for i in range(n):
                parent, child = ctx.Pipe(duplex=True)
                self._conns.append(parent)
                close_fds = [c.fileno() for c in self._conns] if fork else []
                w = ctx.Process(target=worker_loop, daemon=True,
                                args=(spec, loader.dataset, child, i, n, seed,
                                      loader.worker_init_fn, close_fds))
                try:
                    w.start()
                except Exception as e:
                    raise RuntimeError(
                        f"DataLoader: could not start worker {i} with the "
                        f"'{ctx.get_start_method()}' start method: {type(e).__name__}: {e}. "
                        "With 'spawn' or 'forkserver' the dataset, collate_fn and "
                        "worker_init_fn are sent to the worker by multiprocessing and must be "
                        "picklable (defined at module level); the default 'fork' context "
                        "(Linux) sends nothing.") from e
                finally:
                    child.close()
                self._workers.append(w)
        except BaseException:
            self._shutdown()
            raise
        self._reset(first=True)

    # -- epochs --------------------------------------------------------------------------
    def _index_source(self):
        if self._iterable:
            return itertools.repeat(self._batch_size if self._auto else None)
        if self._auto:
            if isinstance(self._batch_sampler, BatchSampler):
                return iter(self._batch_sampler._epoch_batches())
            return iter(self._batch_sampler)
        return iter(self._sampler)

    def _reset(self, first: bool = False) -> None:
        """Start an epoch: a fresh pass of the sampler; persistent workers are told to begin
        again (and anything they still send from the last epoch is dropped)."""
        self._indices = self._index_source()
        self._send_idx = self._rcvd_idx = 0
        self._owner = {}  # task -> worker, until the task's result is yielded
        self._results = {}  # task -> (kind, value), arrived and not yet yielded
        self._active = [True] * self._n  # False once a worker's stream is exhausted
        self._outstanding = [0] * self._n
        self._cycle = itertools.cycle(range(self._n))
        if not first:
            for c in self._conns:
                _transport.send(c, "resume")
            pending = self._n
            while pending:
                for _w, kind, *_ in self._receive():
                    pending -= kind == "resumed"
        for _ in range(self._prefetch * self._n):
            self._try_put()

    def _try_put(self) -> None:
        for _ in range(self._n):
            w = next(self._cycle)
            if self._active[w] and (self._in_order or self._outstanding[w] < self._prefetch):
                break
        else:
            return
        try:
            indices = next(self._indices)
        except StopIteration:
            return
        _transport.send(self._conns[w], "task", self._send_idx, indices)
        self._owner[self._send_idx] = w
        self._outstanding[w] += 1
        self._send_idx += 1

    # -- receiving -----------------------------------------------------------------------
    def _receive(self):
        """Wait for the next message(s) (bounded by ``timeout``): a list of
        ``(worker, kind, task, value, header)``. A dead worker raises RuntimeError."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        by_conn = {c: w for w, c in enumerate(self._conns)}
        sentinels = {p.sentinel: w for w, p in enumerate(self._workers)}
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._shutdown(graceful=False)
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            ready = multiprocessing.connection.wait(list(by_conn) + list(sentinels), remaining)
            got = []
            for r in ready:
                w = by_conn.get(r)
                if w is None:
                    continue
                try:
                    got.append((w, *_transport.recv(r)))
                except (EOFError, OSError):
                    self._worker_died()
                except BaseException:
                    self._shutdown(graceful=False)  # interrupted half-way through a message
                    raise
            if got:
                return got
            if any(r in sentinels for r in ready):
                self._worker_died()

    def _worker_died(self):
        msgs = []
        for w in self._workers:
            w.join(0.5)
            code = w.exitcode
            if code is None:
                continue
            if code < 0:
                try:
                    desc = signal.strsignal(-code) or f"signal {-code}"
                except ValueError:
                    desc = f"signal {-code}"
                msgs.append(f"DataLoader worker (pid {w.pid}) is killed by signal: {desc}.")
            else:
                msgs.append(f"DataLoader worker (pid(s) {w.pid}) exited unexpectedly "
                            f"with exit code {code}.")
        self._shutdown(graceful=False)
        raise RuntimeError(" ".join(msgs) or "DataLoader worker exited unexpectedly")

    # -- iteration -----------------------------------------------------------------------
    def __iter__(self):
        return self

    def __next__(self):
        if self._closed:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._owner:
                self._rcvd_idx += 1  # yielded already (in_order=False)
            if self._rcvd_idx >= self._send_idx:  # nothing in flight: the epoch is over
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            if self._in_order:
                task = self._rcvd_idx if self._rcvd_idx in self._results else None
            else:
                task = min(self._results) if self._results else None
            if task is None:
                for w, kind, t, value, header in self._receive():
                    if kind == "end":
                        self._active[w] = False
                    if kind in ("data", "end", "error") and t in self._owner:
                        self._results[t] = (kind, header if kind == "error" else value)
                continue
            kind, value = self._results.pop(task)
            self._outstanding[self._owner.pop(task)] -= 1
            self._try_put()
            if kind == "data":
                return value
            if kind == "error":
                _reraise(value)

    # -- shutdown ------------------------------------------------------------------------
    def _shutdown(self, graceful: bool = True) -> None:
        """Stop the workers: ask, then close the connections (a worker blocked on one sees
        it closed), join for a while (``SHUTDOWN_JOIN_SECONDS``; not after a timeout or a
        failure, when a worker may be stuck), then terminate and kill what is left."""
        if self._closed or os.getpid() != self._pid:
            return
        self._closed = True
        for c in self._conns:
            try:
                _transport.send(c, "stop")
            except (OSError, ValueError):
                pass
        for c in self._conns:
            c.close()
        deadline = time.monotonic() + (SHUTDOWN_JOIN_SECONDS if graceful else 0.05)
        for w in self._workers:
            w.join(max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join(1.0)
            if w.is_alive():
                w.kill()
                w.join()
            w.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:
            pass
