"""``record_function``: a named range in the profile (a context manager or a decorator).

Outside a profiler it costs one list check. Inside, the operations run in the block nest
under the range: its total time contains theirs, its self time is what is left.

Example::

    with chainrule.profiler.profile() as prof:
        with chainrule.profiler.record_function("model_inference"):
            model(x)
"""

from __future__ import annotations

import functools

from ._collector import _ACTIVE


class record_function:  # noqa: N801  (PyTorch's name)
    """Mark a range named ``name`` (``args``: an optional string kept with the event)."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._open = []

    def __enter__(self):
        self._open = [(c, c.open(self.name, kind="user_annotation")) for c in list(_ACTIVE)]
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self.run_callbacks_on_exit:
            self._close()
        return False

    def _close(self):
        for c, evt in reversed(self._open):
            c.close(evt)
        self._open = []

    def _call_end_callbacks_on_future(self, fut):
        """Close the range when ``fut`` completes (for asynchronous work); returns it."""
        self.run_callbacks_on_exit = False
        if hasattr(fut, "add_done_callback"):
            fut.add_done_callback(lambda _: self._close())
        elif hasattr(fut, "then"):
            fut.then(lambda f: (self._close(), f.value())[1])
        else:
            self._close()
        return fut

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


class _NoOpRange:
    """A context manager and decorator that does nothing (NVTX/ITT have no CPU effect)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled
        self.record_shapes = record_shapes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        return wrapper


class emit_nvtx(_NoOpRange):  # noqa: N801
    """``torch.autograd.profiler.emit_nvtx``: NVTX ranges for nvprof/Nsight. chainrule has
    no CUDA: a no-op context manager, so programs that use it run unchanged."""


class emit_itt(_NoOpRange):  # noqa: N801
    """``torch.autograd.profiler.emit_itt``: Intel ITT ranges for VTune; a no-op here."""
