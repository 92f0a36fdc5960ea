"""The DataLoader worker process: ``get_worker_info``, seeding and the fetch loop.

A worker receives tasks ``(task, indices)`` from the main process, fetches and collates the
batch, and sends it back (``_transport``). It never decides what to load: the sampler runs in
the main process. Its randomness is seeded from the loader's base seed: Python's ``random``
and chainrule's generator with ``base_seed + worker_id``, NumPy's legacy global generator
with a state derived from both (as torch's workers do), so each worker draws differently and
a seeded loader repeats exactly.
"""

from __future__ import annotations

import os
import random
import signal
import traceback

import numpy as np

from ...tensor import Tensor
from . import _transport

__all__ = ["WorkerInfo", "get_worker_info"]

STATUS_CHECK_INTERVAL = 1.0  # seconds between checks that the main process is alive
_worker_info = None


class WorkerInfo:
    """What a worker knows about itself (``torch.utils.data.get_worker_info()``).

    Attributes:
        id: this worker's index, ``0 <= id < num_workers``.
        num_workers: how many workers the loader has.
        seed: the seed this worker's generators were given (``base_seed + id``).
        dataset: this worker's copy of the dataset (shard an ``IterableDataset`` with it).
    """

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker process: its ``WorkerInfo`` (id, num_workers, seed,
    dataset). In the main process: None.

    Example (each worker reads its own share of a stream)::

        class Range(IterableDataset):
            def __iter__(self):
                info = get_worker_info()
                if info is None:
                    return iter(range(10))
                return iter(range(info.id, 10, info.num_workers))
    """
    return _worker_info


def numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """The four 32-bit words that seed NumPy's global generator in a worker."""
    return np.random.SeedSequence([worker_id, base_seed & (2**64 - 1)]).generate_state(4)


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    from ... import random as cr_random

    random.seed(seed)
    cr_random.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))


def _error_text(worker_id: int, exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (f"Caught {type(exc).__name__} in DataLoader worker process {worker_id}.\n"
            f"Original {tb}")


def _send_error(conn, task, worker_id: int, exc: BaseException) -> None:
    cls = type(exc)
    _transport.send(conn, "error", task, None, exc=[cls.__module__, cls.__qualname__],
                    text=_error_text(worker_id, exc))


class FetchSpec:
    """How a worker turns indices into a batch (the loader's settings a worker needs)."""

    def __init__(self, iterable: bool, auto_collation: bool, drop_last: bool, collate_fn,
                 fast: bool):
        self.iterable = iterable
        self.auto_collation = auto_collation
        self.drop_last = drop_last
        self.collate = collate_fn
        self.fast = fast


class _Fetcher:
    """Turns one task's indices into a collated batch (map-style or iterable dataset)."""

    def __init__(self, spec, dataset):
        from .dataset import _tensor_arrays

        self.spec = spec
        self.dataset = dataset
        self.stream = iter(dataset) if spec.iterable else None
        self.ended = False
        # the TensorDataset fast path, found here from the worker's own copy of the dataset
        self.fast = _tensor_arrays(dataset) if spec.fast else None

    def fetch(self, indices):
        spec = self.spec
        if spec.iterable:
            return self._fetch_stream(indices)
        if self.fast is not None:
            arrays, index_map = self.fast
            idx = np.asarray(indices, dtype=np.int64)
            if index_map is not None:
                idx = index_map[idx]
            return [Tensor._make(a[idx], False, None, 0) for a in arrays]
        if not spec.auto_collation:
            return spec.collate(self.dataset[indices])
        getitems = getattr(self.dataset, "__getitems__", None)
        idx = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
        samples = getitems(idx) if callable(getitems) else [self.dataset[i] for i in idx]
        return spec.collate(samples)

    def _fetch_stream(self, count):
        if self.ended:
            raise StopIteration
        if count is None:  # batch_size=None: one sample per task
            return self.spec.collate(next(self.stream))
        data = []
        for _ in range(count):
            try:
                data.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.spec.drop_last and len(data) < count):
            raise StopIteration
        return self.spec.collate(data)


def worker_loop(spec, dataset, conn, worker_id: int, num_workers: int, base_seed: int,
                init_fn, close_fds) -> None:
    """The body of worker ``worker_id`` (the target of its ``Process``)."""
    global _worker_info
    # Ctrl-C goes to the whole process group: the main process decides what happens (it
    # shuts the workers down), so a worker does not die half-way through a batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in close_fds:  # fork: the main process's ends of the sockets, so EOF works
        try:
            os.close(fd)
        except OSError:
            pass
    parent = os.getppid()
    seed = base_seed + worker_id
    _seed_worker(seed, base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                              dataset=dataset)
    init_error = None
    fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _Fetcher(spec, dataset)
    except Exception as e:
        init_error = e
    try:
        _serve(conn, worker_id, parent, fetcher, init_error, spec, dataset)
    except (EOFError, OSError):
        pass  # the main process closed its end: it is shutting down (or gone)
    finally:
        conn.close()


def _serve(conn, worker_id, parent, fetcher, init_error, spec, dataset) -> None:
    while True:
        if not conn.poll(STATUS_CHECK_INTERVAL):
            if os.getppid() != parent:
                return  # the main process died without telling us
            continue
        kind, task, indices, _ = _transport.recv(conn)
        if kind == "stop":
            return
        if kind == "resume":  # persistent workers: a new epoch
            if spec.iterable and init_error is None:
                try:
                    fetcher = _Fetcher(spec, dataset)
                except Exception as e:
                    init_error = e
            _transport.send(conn, "resumed")
            continue
        if init_error is not None:  # worker_init_fn or iter(dataset) failed: every task fails
            _send_error(conn, task, worker_id, init_error)
            continue
        try:
            batch = fetcher.fetch(indices)
        except StopIteration:
            _transport.send(conn, "end", task)
            continue
        except Exception as e:
            _send_error(conn, task, worker_id, e)
            continue
        try:
            _transport.send(conn, "data", task, batch)
        except (OSError, EOFError):
            raise
        except Exception as e:  # e.g. a tensor that requires grad with a history
            _send_error(conn, task, worker_id, e)
        del batch
