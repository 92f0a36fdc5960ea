"""chainrule's intra-op thread pool: the large array kernels (convolution, pooling, ReLU, big
matrix products) split over the batch or the rows and run on ``threads()`` threads.

``chainrule.set_num_threads(n)`` with ``n > 1`` sets this pool to n threads and NumPy's BLAS
to one thread: two thread pools cannot share the cores (OpenBLAS's workers keep spinning for
a long time after each multi-threaded call and then compete with any other thread; measured
in DESIGN.md "Intra-op threads"), so chainrule owns the threads and every GEMM it runs is
a one-thread BLAS call on its piece, as PyTorch's intra-op pool runs its kernels. At one
thread (the default until ``set_num_threads`` is called) nothing here runs: each kernel is
called once, on the whole array, as before.

Rules:

* ``run(work, pieces)`` calls ``work(lo, hi)`` once per piece, the first piece in the
  calling thread, the others in the pool's worker threads, and returns when all are done;
  the first exception of any piece is raised in the caller (after every piece finished);
* pieces write disjoint parts of their results (or return partial results to be combined
  by the caller in a fixed order), so a result does not depend on the timing; it can differ
  from the one-thread result only where partial sums are added (a weight gradient's sum
  over the batch), by rounding;
* a kernel called inside a piece, or from a second Python thread while the pool is busy,
  or on arrays that are not plain ``ndarray`` (a ``chainrule.compile`` recording) runs
  unsplit, in the calling thread;
* after ``os.fork`` the child starts with no workers (they are created on first use);
* while ``chainrule.compile`` records a call (its arrays are an ndarray subclass), a split
  kernel is recorded as one call of itself (``record``), so the replay splits it too.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

_ND = np.ndarray
_N = 1  # threads for chainrule's kernels
_MIN_BYTES = 1 << 18  # kernels whose arrays are smaller than this run unsplit
_LOCAL = threading.local()
_BUSY = threading.Lock()  # one region at a time; others run unsplit
_WORKERS: list = []


def threads() -> int:
    """The number of threads chainrule's kernels use (``chainrule.set_num_threads``)."""
    return _N


def set_threads(n: int) -> None:
    global _N
    _N = max(1, int(n))


def pieces(units: int, nbytes: int, min_units: int = 1, arrays=()) -> list | None:
    """Even (lo, hi) ranges of ``units`` for the pool, or None when the call should run
    unsplit: one thread, small work (``nbytes`` below 256 KB), fewer than ``min_units``
    units per piece, inside a piece already, or some of ``arrays`` (None entries aside) not
    a plain ndarray (a recording's arrays, vmap's batched ones)."""
    k = _N
    if k == 1 or nbytes < _MIN_BYTES or getattr(_LOCAL, "inside", False):
        return None
    if any(a is not None and type(a) is not _ND for a in arrays):
        return None
    k = min(k, units // max(min_units, 1))
    if k < 2:
        return None
    return [(units * i // k, units * (i + 1) // k) for i in range(k)]


class _Worker(threading.Thread):
    """A daemon thread that runs one piece each time ``go`` is released."""

    def __init__(self):
        super().__init__(name="chainrule-intra-op", daemon=True)
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.task = self.error = None
        self.start()

    def run(self):
        _LOCAL.inside = True
        while True:
            self.go.acquire()
            work, lo, hi = self.task
            self.task = None
            try:
                work(lo, hi)
                self.error = None
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                self.error = e
            self.done.release()


def run(work, ranges) -> None:
    """``work(lo, hi)`` for every range, in parallel (see the module docstring)."""
    if len(ranges) == 1 or not _BUSY.acquire(blocking=False):
        for lo, hi in ranges:
            work(lo, hi)
        return
    try:
        while len(_WORKERS) < len(ranges) - 1:
            _WORKERS.append(_Worker())
        used = _WORKERS[: len(ranges) - 1]
        for w, (lo, hi) in zip(used, ranges[1:]):
            w.task = (work, lo, hi)
            w.go.release()
        _LOCAL.inside = True
        first = None
        try:
            work(*ranges[0])
        except BaseException as e:  # noqa: BLE001 - raised after the workers finished
            first = e
        finally:
            _LOCAL.inside = False
            for w in used:  # wait for every piece, even on Ctrl-C: they write our arrays
                while True:
                    try:
                        w.done.acquire()
                        break
                    except BaseException as e:  # noqa: BLE001
                        first = first or e
                if first is None and w.error is not None:
                    first = w.error
                w.error = None
        if first is not None:
            raise first
    finally:
        _BUSY.release()


# -- recording by chainrule.compile ------------------------------------------------------------
_RECORD = None  # set by chainrule.compiler.trace: record_kernel(fn, args) -> fn's result


def recording(*arrays) -> bool:
    """Whether a split kernel on these arrays is being recorded by ``chainrule.compile``
    (more than one thread, and some array is a recording's ndarray subclass)."""
    return _N > 1 and _RECORD is not None and any(
        isinstance(a, _ND) and type(a) is not _ND for a in arrays)


def record(fn, *args):
    """``fn(*args)``, recorded as one node of the program being captured."""
    return _RECORD(fn, args)



# -- matrix products ----------------------------------------------------------------------------
_MIN_FLOPS = 1 << 22  # products below 4 MFLOP run unsplit (about 80 us on one thread here)


def matmul(a, b):
    """``np.matmul(a, b)``, split over the pool when it is large: 2-D products by the rows of
    the result (or its columns when it has few rows), batched ones over their first batch
    axis. Each piece is one BLAS call into its part of the result, with the same sums in
    the same order as the whole product."""
    if _N == 1:
        return np.matmul(a, b)
    sa, sb = a.shape, b.shape
    if len(sa) == 2 == len(sb) and 2 * sa[0] * sa[1] * sb[1] < _MIN_FLOPS:
        return np.matmul(a, b)
    if len(sa) < 2 or len(sb) < 2:
        return np.matmul(a, b)
    m, k = sa[-2:]
    n = sb[-1]
    if 2 * m * n * k * max(math.prod(sa[:-2]), math.prod(sb[:-2])) < _MIN_FLOPS:
        return np.matmul(a, b)  # small: first, and cheaply (most products of small models)
    if recording(a, b):
        return record(matmul, a, b)
    if type(a) is not _ND or type(b) is not _ND or a.dtype != b.dtype \
            or a.dtype.kind not in "fc" or getattr(_LOCAL, "inside", False):
        return np.matmul(a, b)
    batch = sa[:-2]
    if len(sb) == 2 and batch and a.flags.c_contiguous:  # (..., m, k) @ (k, n): rows of a
        return matmul(a.reshape(-1, k), b).reshape(batch + (m, n))
    if sb[:-2] != batch:
        return np.matmul(a, b)
    out = np.empty(batch + (m, n), a.dtype)
    if batch:
        ranges = pieces(batch[0], _MIN_BYTES)
        work = (lambda lo, hi: np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi]))
    elif m >= 8 * _N:
        ranges = pieces(m, _MIN_BYTES, 4)
        work = (lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]))
    else:
        ranges = pieces(n, _MIN_BYTES, 4)
        work = (lambda lo, hi: np.matmul(a, b[:, lo:hi], out=out[:, lo:hi]))
    if ranges is None:
        return np.matmul(a, b)
    run(work, ranges)
    return out


def _after_fork() -> None:
    global _BUSY
    _WORKERS.clear()
    _BUSY = threading.Lock()
    _LOCAL.inside = False


os.register_at_fork(after_in_child=_after_fork)
