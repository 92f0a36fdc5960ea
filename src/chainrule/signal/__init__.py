"""``chainrule.signal`` (``torch.signal``): window functions in ``signal.windows``."""

from . import windows  # noqa: F401

__all__ = ["windows"]
