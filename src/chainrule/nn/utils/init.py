"""``torch.nn.utils.skip_init``: build a module without running its initialisation (its
parameters and buffers then hold uninitialised memory)."""

from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with uninitialised parameters and buffers (PyTorch
    constructs on the meta device; chainrule constructs, then replaces the storage).

    Example::

        >>> m = nn.utils.skip_init(nn.Linear, 5, 1)
    """
    from ..module import Module

    if not isinstance(module_cls, type) or not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs).to_empty(device=device)
