"""``chainrule.multiprocessing``: Python's ``multiprocessing`` with chainrule tensors in shared
memory (``torch.multiprocessing``).

Every name of ``multiprocessing`` is here (``Process``, ``Queue``, ``get_context``,
``set_start_method``, ``cpu_count``, ...), plus ``spawn``/``start_processes``. Tensors sent
through a ``Queue`` or passed to a process started with ``spawn``/``forkserver`` are moved to
shared memory and the receiver maps the same memory (their bytes are never pickled); with
``fork`` (the default start method on Linux) a tensor shared before the fork is shared with
the child. ``Tensor.share_memory_()``, ``Tensor.is_shared()`` and ``Module.share_memory()``
are defined here.

Hogwild-style training::

    import chainrule.multiprocessing as mp

    def train(model):
        opt = cr.optim.SGD(model.parameters(), lr=0.01)
        for xb, yb in loader:                # each process updates the one shared model
            opt.zero_grad(); loss_fn(model(xb), yb).backward(); opt.step()

    model.share_memory()
    procs = [mp.Process(target=train, args=(model,)) for _ in range(2)]
    for p in procs: p.start()
    for p in procs: p.join()
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403

from ..nn.module import Module
from ..tensor import Tensor
from ._sharing import is_shared, module_share_memory, share_memory_
from .reductions import init_reductions
from .spawn import (  # noqa: F401
    ProcessContext, ProcessException, ProcessExitedException, ProcessRaisedException, spawn,
    start_processes,
)

__all__ = [
    "ProcessContext", "ProcessException", "ProcessExitedException", "ProcessRaisedException",
    "get_all_sharing_strategies", "get_sharing_strategy", "set_sharing_strategy", "spawn",
    "start_processes",
] + list(multiprocessing.__all__)

if sys.platform in ("darwin", "win32"):
    _all_sharing_strategies = {"file_system"}
else:
    _all_sharing_strategies = {"file_descriptor", "file_system"}
_sharing_strategy = "file_system" if sys.platform in ("darwin", "win32") else "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Accepted for PyTorch compatibility: chainrule always shares a tensor as the descriptor
    of an anonymous in-memory file ("file_descriptor"); "file_system" is recorded but
    behaves the same (nothing is ever named in the file system)."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise ValueError(f"set_sharing_strategy: invalid sharing strategy {new_strategy!r}, "
                         f"expected one of {sorted(_all_sharing_strategies)}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    return set(_all_sharing_strategies)


Tensor.share_memory_ = share_memory_
Tensor.is_shared = is_shared
Module.share_memory = module_share_memory
init_reductions()
