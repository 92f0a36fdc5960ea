"""``chainrule.cuda``: no GPU support; these answer the usual availability questions."""


def is_available() -> bool:
    """False: chainrule computes on the CPU with NumPy."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted for compatibility; there is no GPU generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility; there is no GPU generator to seed."""


import sys  # noqa: E402

from . import amp  # noqa: E402,F401  (torch.cuda.amp: autocast, GradScaler)

sys.modules[__name__ + ".amp"] = amp  # so that `from torch.cuda.amp import GradScaler` works
