"""Utilities mirroring ``torch.utils``: ``chainrule.utils.data`` (datasets and loaders)."""

from . import data  # noqa: F401
