"""``torch.nn.attention``'s backend selection: ``SDPBackend`` and ``sdpa_kernel``. chainrule
has one implementation of ``scaled_dot_product_attention`` (the math one), so the context
manager only checks its arguments; asking for no usable backend at all raises, as PyTorch
does when none of the requested kernels can run."""

from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "sdpa_kernel"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The kernels of scaled_dot_product_attention (PyTorch's names and values)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Restrict scaled_dot_product_attention to ``backends`` within the block. chainrule
    always runs the math kernel; a list without ``SDPBackend.MATH`` raises, since no
    requested kernel exists here.

    Example::

        >>> with sdpa_kernel(SDPBackend.MATH):
        ...     out = F.scaled_dot_product_attention(q, k, v)
    """
    items = list(backends) if isinstance(backends, (list, tuple, set)) else [backends]
    if not all(isinstance(b, SDPBackend) for b in items):
        raise TypeError("sdpa_kernel: backends must be SDPBackend members, got "
                        f"{[type(b).__name__ for b in items]}")
    if SDPBackend.MATH not in items:
        raise RuntimeError(f"sdpa_kernel: chainrule only has the MATH backend of "
                           f"scaled_dot_product_attention; requested {[b.name for b in items]}")
    yield
