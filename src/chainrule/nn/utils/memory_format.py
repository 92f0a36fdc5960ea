"""``torch.nn.utils.memory_format``: chainrule's arrays have no channels-last layout, so the
conversions return the module unchanged (its numerics are the same in either layout)."""

from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module, memory_format):
    """Returns ``module`` unchanged (no memory formats in chainrule)."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Returns ``module`` unchanged (no memory formats in chainrule)."""
    return module
