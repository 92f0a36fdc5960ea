"""``torch.profiler.itt``: Intel ITT annotations for VTune. chainrule has no ITT library:
``is_available()`` is False and the others do nothing (programs that call them still run).
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["is_available", "range_push", "range_pop", "mark", "range"]


def is_available() -> bool:
    """False: no ITT in chainrule."""
    return False


def range_push(msg):
    """Open an ITT range (a no-op here)."""


def range_pop():
    """Close the innermost ITT range (a no-op here)."""


def mark(msg):
    """An instantaneous ITT event (a no-op here)."""


@contextmanager
def range(msg, *args, **kwargs):  # noqa: A001  (PyTorch's name)
    """A context manager around ``range_push``/``range_pop``."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
