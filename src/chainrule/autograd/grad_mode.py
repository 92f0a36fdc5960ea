"""Grad mode: whether operations are recorded for reverse mode.

The flag lives in one small state object read by ``Function.apply``. ``no_grad``,
``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` work as context managers and
as decorators, like PyTorch's.
"""

from __future__ import annotations

import functools

from .._state import STATE  # noqa: E402


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


class _GradModeContext:
    """Base of the grad-mode context managers; also usable as a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self._mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


_INFERENCE = []  # the modes of the inference_mode blocks being run, innermost last


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (``torch.is_inference_mode_enabled``)."""
    return bool(_INFERENCE and _INFERENCE[-1])


class no_grad(_GradModeContext):  # noqa: N801
    """Disable recording: operations inside create tensors with no ``grad_fn``."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Enable recording (inside a ``no_grad`` block, for example)."""

    _mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (chainrule has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self._mode = not mode

    def __enter__(self):
        _INFERENCE.append(not self._mode)
        return super().__enter__()

    def __exit__(self, *exc):
        _INFERENCE.pop()
        return super().__exit__(*exc)

    def __call__(self, fn):
        mode = not self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled:  # noqa: N801
    """Set grad mode on or off; works as a function call and as a context manager."""

    def __init__(self, mode: bool):
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False
