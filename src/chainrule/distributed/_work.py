"""``Work`` handles and the tensor <-> MPI buffer rules shared by every collective.

**No extra copies.** MPI reads and writes the tensor's own NumPy array through the buffer
protocol (``MPI_IN_PLACE`` for reductions). A copy is made only where MPI cannot address the
memory: a non-contiguous tensor (a transposed or strided view) is reduced in a contiguous
copy that is written back on completion, and list arguments (``all_gather`` into a list,
``gather``, ``scatter``, ``reduce_scatter``, ``all_to_all``) go through one flat buffer,
because one MPI call fills one buffer. ``all_gather_into_tensor``, ``reduce_scatter_tensor``
and ``all_to_all_single`` take flat tensors and copy nothing.
"""

from __future__ import annotations

import numpy as np

from ..futures import _from_work
from ..tensor import Tensor
from . import mpi
from .c10d import ReduceOp, RedOpType

_FLOAT = "fc"


def check_tensor(t, name: str, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: Invalid function argument. Expected parameter `{name}` of type "
                        f"chainrule.Tensor but got {type(t).__name__} instead.")


def check_list(ts, name: str, op: str) -> None:
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"{op}: Invalid function argument. Expected parameter `{name}` of type "
                        "List[chainrule.Tensor]")


def buffer(t: Tensor, write: bool = True):
    """``(array MPI uses, write-back function or None)`` for tensor ``t``."""
    a = t._data
    if a.flags.c_contiguous and (a.flags.writeable or not write):
        return a, None
    if not a.flags.writeable and a.flags.c_contiguous:
        t._data = a = a.copy()  # a read-only array (e.g. a broadcast view): own it
        return a, None
    tmp = np.ascontiguousarray(a)  # unavoidable: MPI needs contiguous memory

    def back():
        if not t._data.flags.writeable:
            t._data = t._data.copy()
        t._data[...] = tmp
    return tmp, back if write else None


_TABLES: dict = {}


def _tables():
    """ReduceOp -> MPI.Op for numbers and for booleans (built once)."""
    if not _TABLES:
        MPI = mpi.load()
        _TABLES["num"] = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM,
                          ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                          ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
                          ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
        # MPI reduces C booleans only with logical operations
        _TABLES["bool"] = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR,
                           ReduceOp.BOR: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND,
                           ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
                           ReduceOp.BXOR: MPI.LXOR}
    return _TABLES


def mpi_op(op, dtype: np.dtype, what: str):
    """``(MPI.Op, divide_by_size)`` for ``ReduceOp`` ``op`` on arrays of ``dtype``."""
    kind = dtype.kind
    if op is ReduceOp.SUM and kind in "fiu":  # the common case, without the checks below
        return _tables()["num"][op], False
    if not isinstance(op, RedOpType):
        raise TypeError(f"{what}: op must be a chainrule.distributed.ReduceOp (e.g. "
                        f"ReduceOp.SUM), got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise ValueError(f"{what}: ReduceOp.PREMUL_SUM is not supported by the MPI backend "
                         "(multiply the tensor first, then use ReduceOp.SUM)")
    if op is ReduceOp.AVG and kind not in _FLOAT:
        raise ValueError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype} "
                         "(use ReduceOp.SUM and divide, or convert with .double())")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise ValueError(f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got "
                         f"{dtype}")
    return _tables()["bool" if kind == "b" else "num"][op], op is ReduceOp.AVG


class Work:
    """The handle of an operation started with ``async_op=True`` (``torch.distributed.Work``).

    ``wait()`` blocks until it completes (within the group's timeout, or ``timeout``; when
    the deadline passes the job is stopped with a line naming the silent ranks, as for a
    blocking collective, rather than an exception that would leave the peers waiting);
    ``is_completed()`` tests without blocking. Results are in the tensors given to the call
    once either reports completion.
    """

    def __init__(self, pg, what: str, requests, finish=None, result=None, statuses=None):
        self._pg = pg
        self._what = what
        self._requests = list(requests)
        self._finish = finish
        self._result = result or []
        self._statuses = statuses
        self._done = False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        if not self._done and mpi.load().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            seconds = None if timeout is None else mpi.timeout_seconds(timeout, "Work.wait")
            mpi.wait(self._requests, self._pg, self._what, seconds, self._statuses)
            self._complete()
        return True

    def synchronize(self) -> None:
        self.wait()

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self):
        return None

    def result(self) -> list:
        self.wait()
        return list(self._result)

    def get_future(self):
        """A ``chainrule.futures.Future`` completed with the list of the call's tensors when
        the operation finishes (``fut.value()[0]`` is the reduced tensor of an
        ``all_reduce``); as in PyTorch, the way DDP communication hooks return results."""
        return _from_work(self, list(self._result))

    def source_rank(self) -> int:
        """The global rank a completed ``irecv`` received from."""
        self.wait()
        if not self._statuses:
            raise RuntimeError("source_rank: only a receive has a source rank")
        return self._pg._ranks[self._statuses[0].Get_source()]

    def __repr__(self) -> str:
        return f"Work({self._what}, {'completed' if self._done else 'pending'})"


def launch(pg, what: str, requests, finish, async_op: bool, result=None, statuses=None):
    """Return the Work (``async_op``) or wait for it and return None."""
    if async_op:
        return Work(pg, what, requests, finish, result, statuses)
    mpi.wait(requests, pg, what, None, statuses)
    if finish is not None:
        finish()
    return None


def chain(*steps):
    """One function calling each non-None step in order."""
    steps = [s for s in steps if s is not None]
    if not steps:
        return None

    def run():
        for s in steps:
            s()
    return run


def bump(*tensors):
    """A finish step that bumps the tensors' version counters (they changed in place)."""
    def run():
        for t in tensors:
            t._version += 1
    return run
