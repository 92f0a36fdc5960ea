"""``chainrule.cpu`` (``torch.cpu``): the device-agnostic CPU API PyTorch offers next to
``torch.cuda``, so code written as ``getattr(torch, device_type).synchronize()`` runs.

There is one CPU device and one stream; streams and events are no-ops (NumPy computes
synchronously), as in PyTorch. ``get_capabilities()`` reports what can be read without
CPU-feature probing: the architecture, the core count and the CPU name.
"""

from __future__ import annotations

import os
import platform
import sys
from contextlib import AbstractContextManager

from . import amp  # noqa: F401  (torch.cpu.amp: autocast, GradScaler)

sys.modules[__name__ + ".amp"] = amp


class Stream:
    """A CPU stream: exists so that device-agnostic code can create and select one."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream) -> None:
        pass

    def record_event(self) -> None:
        pass

    def wait_event(self, event) -> None:
        pass


class Event:
    """A CPU event: always complete."""

    def query(self) -> bool:
        return True

    def record(self, stream=None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream=None) -> None:
        pass


_default_stream = Stream()
_current = [_default_stream]


class StreamContext(AbstractContextManager):
    """Makes ``stream`` the current CPU stream inside the block (None: no change)."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = _default_stream

    def __enter__(self):
        if self.stream is not None:
            self.prev_stream = _current[0]
            _current[0] = self.stream

    def __exit__(self, *exc) -> None:
        if self.stream is not None:
            _current[0] = self.prev_stream


def stream(stream) -> AbstractContextManager:
    """A context manager selecting ``stream`` (see ``StreamContext``)."""
    return StreamContext(stream)


def current_stream(device=None) -> Stream:
    return _current[0]


def is_available() -> bool:
    """True: chainrule computes on the CPU."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """1: all cores form one CPU device."""
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Accepted for device-agnostic code; there is only one CPU device."""


def synchronize(device=None) -> None:
    """Returns at once: NumPy has finished every operation when it returns."""


def get_capabilities() -> dict:
    """What this CPU offers, as far as the standard library can tell (PyTorch's answer adds
    instruction-set flags such as ``avx2``)."""
    cores = os.cpu_count() or 1
    return {"architecture": platform.machine(), "cpu_name": platform.processor() or
            platform.machine(), "num_logical_cores": cores}


__all__ = [
    "Event", "Stream", "StreamContext", "current_device", "current_stream", "device_count",
    "get_capabilities", "is_available", "is_initialized", "set_device", "stream",
    "synchronize",
]
