"""The errors of the ONNX exporter (``torch.onnx.errors``)."""

from __future__ import annotations


class UnsupportedOperatorError(NotImplementedError):
    """An operation of the program has no ONNX translation (the message names it)."""
