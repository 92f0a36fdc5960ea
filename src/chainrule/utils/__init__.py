"""Utilities mirroring ``torch.utils``: ``data`` (datasets and loaders), ``checkpoint``
(activation checkpointing: runs the function) and ``tensorboard`` (a CSV-writing
``SummaryWriter``)."""

from . import checkpoint, data  # noqa: F401
