"""A per-thread allocation budget for code that runs constructors named by a file.

``chainrule.load`` rebuilds a whole module by calling its class with constructor arguments
read from the file. A crafted file could ask ``nn.Linear(10**6, 10**6)`` for 4 TB. While a
budget is set, the creation functions (``empty``, ``zeros``, ``randn``, ... through
``creation._shape``) charge each tensor's element count here and raise
:class:`BudgetExceededError` before NumPy allocates once the budget is spent.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

_local = threading.local()


class BudgetExceededError(MemoryError):
    """A creation function asked for more elements than the current budget allows."""


def charge(shape) -> None:
    """Count ``prod(shape)`` elements against the budget (no-op when none is set)."""
    left = getattr(_local, "left", None)
    if left is None:
        return
    n = math.prod(shape)
    if n > left:
        raise BudgetExceededError(f"a tensor of shape {tuple(shape)} ({n} elements) exceeds the "
                             f"remaining allocation budget of {left} elements")
    _local.left = left - n


@contextmanager
def limit(elements: int):
    """Allow at most ``elements`` tensor elements to be created in this thread inside the
    block (nested blocks keep the smaller remaining budget)."""
    old = getattr(_local, "left", None)
    _local.left = elements if old is None else min(old, elements)
    try:
        yield
    finally:
        spent = (elements if old is None else min(old, elements)) - _local.left
        _local.left = None if old is None else old - spent
