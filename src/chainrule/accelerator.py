"""``chainrule.accelerator``: PyTorch's device-agnostic accelerator API. chainrule computes on
the CPU, which PyTorch does not count as an accelerator, so there is none."""

from __future__ import annotations


def is_available() -> bool:
    """False: no accelerator (CUDA, MPS, XPU, ...) is available to chainrule."""
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator."""
    return None


def current_device_index() -> int:
    return -1


def _refuse(*_, **__):
    raise RuntimeError("chainrule.accelerator: no accelerator is available (chainrule runs "
                       "on the CPU only)")


set_device_index = set_device_idx = synchronize = _refuse
