"""``Tensor.share_memory_()``, ``Tensor.is_shared()`` and ``Module.share_memory()``.

A tensor is shared when its array lives in a shared-memory block (see ``_shm``). Moving a
tensor there replaces its array by a copy in a new block; processes started afterwards with
``fork`` inherit the mapping, so an in-place update made by any of them (an optimizer step)
is seen by all. Processes started with ``spawn``/``forkserver``, or tensors sent through a
``chainrule.multiprocessing.Queue``, receive the block's descriptor and map the same memory
(``reductions``). The bytes never go through pickle.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _shm

__all__ = ["is_shared", "module_share_memory", "share_memory_"]


def is_shared(self: Tensor) -> bool:
    """True when this tensor's memory is in a shared-memory block (``Tensor.is_shared``)."""
    return _shm.block_of(self._data) is not None


def share_memory_(self: Tensor) -> Tensor:
    """Move this tensor's data to shared memory, in place; a no-op if it is already shared.

    After ``share_memory_()``, processes started with ``fork`` (and tensors sent to other
    processes through ``chainrule.multiprocessing``) use the same memory: an in-place change
    in one process is visible in all. Other tensors that viewed the old array (e.g. made by
    ``detach()`` before the call) keep the old, private memory.

    Returns:
        ``self``.

    Example::

        w = cr.zeros(3).share_memory_()
        p = mp.Process(target=lambda: w.add_(1)); p.start(); p.join()
        w  # tensor([1., 1., 1.])
    """
    if _shm.block_of(self._data) is None:
        _move([self])
    return self


def module_share_memory(self):
    """Move every parameter, parameter gradient and buffer of the module to shared memory
    (``Module.share_memory``); they are packed in one block. Returns the module."""
    tensors, seen = [], set()
    for t in _module_tensors(self):
        if id(t._data) not in seen and _shm.block_of(t._data) is None:
            seen.add(id(t._data))
            tensors.append(t)
    _move(tensors)
    return self


def _module_tensors(module):
    for p in module.parameters():
        yield p
        if p.grad is not None:
            yield p.grad
    for b in module.buffers():
        if b is not None:
            yield b


def _move(tensors) -> None:
    """Copy the tensors' arrays into one new shared block and point the tensors at it.
    Tensors that share one array keep sharing it."""
    if not tensors:
        return
    total = sum(_shm.align(t._data.nbytes) for t in tensors)
    block = _shm.allocate(total)
    offset = 0
    for t in tensors:
        arr = t._data
        new = _shm.view(block, arr.dtype, arr.shape, offset)
        np.copyto(new, arr)
        offset += _shm.align(arr.nbytes)
        t._data = new
