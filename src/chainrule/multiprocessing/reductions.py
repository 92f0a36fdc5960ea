"""How chainrule tensors cross process boundaries inside ``multiprocessing``.

``multiprocessing`` serialises what it sends (``Queue.put``, the arguments of a process
started with ``spawn``/``forkserver``) with its own ``ForkingPickler``; this module registers
a reduction for chainrule tensors with it, as ``torch.multiprocessing`` does for torch's.
A tensor is reduced to its shared-memory block's file descriptor (handed over by
``multiprocessing``'s descriptor passing) plus offset, shape, strides, dtype and
``requires_grad``: the data itself is never serialised. A tensor not yet in shared memory is
moved there first (``share_memory_``), so sender and receiver then share one copy, as in
PyTorch.

Plain ``pickle`` still refuses chainrule tensors (``Tensor.__reduce_ex__``); only
``multiprocessing``'s transport between the processes of one program uses this reduction,
and chainrule never imports ``pickle`` itself.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from multiprocessing import util
from multiprocessing.reduction import DupFd, ForkingPickler

import numpy as np

from ..tensor import Tensor
from . import _shm
from ._sharing import _move

__all__ = ["init_reductions", "rebuild_block", "rebuild_tensor", "reduce_tensor"]

# blocks already mapped in this process, by the (device, inode) of their shared file, so
# tensors of one block received in separate messages map it once
_MAPPED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class _BlockHandle:
    """Stands for one shared block while a message is serialised: ``ForkingPickler``
    memoises it, so a block holding many tensors (a module's parameters) has its descriptor
    sent once per message (``spawn`` also refuses one descriptor listed twice)."""

    __slots__ = ("fd", "nbytes", "__weakref__")

    def __init__(self, fd: int, nbytes: int):
        self.fd, self.nbytes = fd, nbytes


_HANDLES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _handle(info: _shm.BlockInfo) -> _BlockHandle:
    h = _HANDLES.get(info.addr)
    if h is None or h.fd != info.fd:
        h = _HANDLES[info.addr] = _BlockHandle(info.fd, info.nbytes)
    return h


# How long a process that sent tensors through a queue waits, when it exits, for the receivers
# to take their descriptors (which its ``multiprocessing`` resource sharer hands out): without
# it a child that puts a tensor and returns would be gone before the parent's ``get``.
EXIT_WAIT_SECONDS = 10.0


def _reduce_block(h: _BlockHandle):
    return (rebuild_block, (DupFd(h.fd), h.nbytes))


class _ExitWait:
    """Registers ``_wait_for_receivers`` to run at process exit, in this process and in every
    child forked from it (multiprocessing clears finalizers in a new child). Its priority, 5,
    puts it after the queues are closed (10) and before the resource sharer's listening
    socket is unlinked (0)."""

    def register(self) -> None:
        util.Finalize(None, _wait_for_receivers, exitpriority=5)


def _wait_for_receivers() -> None:
    """At exit: let the queues' feeder threads write what is buffered, then wait until every
    descriptor this process offered has been taken; at most ``EXIT_WAIT_SECONDS`` in all."""
    from multiprocessing import resource_sharer

    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    for th in threading.enumerate():
        if th.name == "QueueFeederThread" and th is not threading.current_thread():
            th.join(max(0.0, deadline - time.monotonic()))
    sharer = resource_sharer._resource_sharer
    while getattr(sharer, "_cache", None) and time.monotonic() < deadline:
        time.sleep(0.005)


def rebuild_block(dup_fd, nbytes: int) -> np.ndarray:
    """Map a received block, or reuse this process's mapping of the same shared file."""
    fd = dup_fd.detach()
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino)
    raw = _MAPPED.get(key)
    if raw is not None:
        os.close(fd)
        return np.frombuffer(raw, np.uint8, nbytes)
    block = _shm.map_fd(fd, nbytes)
    base = block
    while isinstance(base, np.ndarray):
        base = base.base
    _MAPPED[key] = base
    return block


def _kind(t: Tensor) -> str:
    from ..nn.parameter import Buffer, Parameter

    return "parameter" if isinstance(t, Parameter) else "buffer" if isinstance(t, Buffer) else ""


def reduce_tensor(t: Tensor):
    """(rebuild function, arguments) for ``ForkingPickler``: the block (sent as its
    descriptor) and the array's layout in it."""
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
            "autograd does not support crossing process boundaries.  If you just want to "
            "transfer the data, call detach() on the tensor before serializing (e.g., "
            "putting it on the queue)."
        )
    info = _shm.block_of(t._data)
    if info is None or info.fd < 0:
        _move([t])  # private memory, or a block whose descriptor was closed: copy it over
        info = _shm.block_of(t._data)
    arr = t._data
    return (rebuild_tensor, (_kind(t), _handle(info), _shm.offset_in(arr, info), arr.shape,
                             arr.strides, arr.dtype.str, bool(t.requires_grad)))


def rebuild_tensor(kind, block, offset, shape, strides, dtype, requires_grad):
    """The receiving side of ``reduce_tensor``: view the array in the mapped block."""
    dt = np.dtype(dtype)
    if dt.kind not in "biufc":
        raise TypeError(f"chainrule.multiprocessing: cannot rebuild a tensor of dtype {dt}")
    arr = _shm.view(block, dt, tuple(shape), offset, tuple(strides))
    if kind == "parameter":
        from ..nn.parameter import Parameter

        return Parameter(Tensor._make(arr, False, None, 0), requires_grad)
    if kind == "buffer":
        from ..nn.parameter import Buffer

        return Buffer(Tensor._make(arr, False, None, 0))
    t = Tensor._make(arr, False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def init_reductions() -> None:
    """Register the reductions with ``multiprocessing`` (done when chainrule is imported)."""
    from ..nn.parameter import Buffer, Parameter

    for cls in (Tensor, Parameter, Buffer):
        ForkingPickler.register(cls, reduce_tensor)
    ForkingPickler.register(_BlockHandle, _reduce_block)
    _EXIT_WAIT.register()
    util.register_after_fork(_EXIT_WAIT, _ExitWait.register)


_EXIT_WAIT = _ExitWait()
