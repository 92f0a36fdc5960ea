"""``torch._dynamo``: the handful of names real programs reach for (``reset``, ``config``,
``disable``, ``mark_dynamic``, ``optimize`` ...), over ``chainrule.compile``.

``config`` accepts any setting (``suppress_errors``, ``cache_size_limit``, ``verbose``
...) and keeps it: chainrule's compiler already falls back to eager with one line instead
of raising (unless ``fullgraph=True``), records at most 8 programs per function, and
handles new shapes by recording again, so these settings change nothing here.
``mark_dynamic``/``mark_static`` and friends are accepted and do nothing for the same
reason; ``graph_break()`` does nothing (a recorded program runs the same NumPy calls
either way).
"""

from __future__ import annotations

from .compiler.api import compile as _compile
from .compiler.api import disable, is_compiling, reset
from .compiler.torch_api import (
    allow_in_graph, assume_constant_result, list_backends, substitute_in_graph,
)

__all__ = ["allow_in_graph", "assume_constant_result", "config", "disable",
           "disallow_in_graph", "forbid_in_graph", "graph_break", "is_compiling",
           "list_backends", "mark_dynamic", "mark_static", "mark_static_address",
           "maybe_mark_dynamic", "optimize", "reset", "substitute_in_graph"]


class _Config:
    """Settings are kept as given; defaults as torch's for the common ones."""

    def __init__(self):
        self.__dict__.update(suppress_errors=False, cache_size_limit=8,
                             recompile_limit=8, accumulated_cache_size_limit=256,
                             verbose=False, capture_scalar_outputs=False,
                             capture_dynamic_output_shape_ops=False,
                             automatic_dynamic_shapes=True, assume_static_by_default=True,
                             optimize_ddp=True)

    def patch(self, *args, **changes):
        """``config.patch(name=value)``: a context manager keeping the settings meanwhile."""
        import contextlib

        if args and isinstance(args[0], dict):
            changes = {**args[0], **changes}
        elif len(args) == 2:
            changes = {args[0]: args[1], **changes}

        @contextlib.contextmanager
        def ctx():
            old = {k: self.__dict__.get(k) for k in changes}
            self.__dict__.update(changes)
            try:
                yield
            finally:
                self.__dict__.update(old)

        return ctx()


config = _Config()


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None,  # noqa: A002
                 specialize_on=None) -> None:
    """Accepted; chainrule records a program per input shape (see the module's text)."""


def maybe_mark_dynamic(t, index) -> None:
    """Accepted; does nothing."""


def mark_static(t, index=None) -> None:
    """Accepted; does nothing."""


def mark_static_address(t, guard=True) -> None:
    """Accepted; does nothing."""


def graph_break() -> None:
    """Accepted; does nothing (see the module's text)."""


disallow_in_graph = forbid_in_graph = allow_in_graph


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None,
             guard_fail_fn=None, disable=False, dynamic=None):
    """``torch._dynamo.optimize(backend)``: a decorator compiling a function or module
    (``nopython=True`` is ``fullgraph=True``)."""
    if disable:
        return lambda fn: fn
    return lambda fn: _compile(fn, fullgraph=nopython, dynamic=dynamic)
