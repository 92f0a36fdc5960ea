"""Named results of operations, as ``torch.return_types``: ``max``, ``sort``, ``topk``,
``linalg_qr``, ... Each is a named tuple (index it, unpack it or read its fields) printed as
PyTorch prints its structseqs::

    >>> chainrule.tensor([3.0, 1.0]).max(0)
    chainrule.return_types.max(
    values=tensor(3.),
    indices=tensor(0))
"""

from __future__ import annotations

import sys
from collections import namedtuple

__all__ = ["all_return_types"]

#: every result type made so far, by name (``torch.return_types.all_return_types``)
all_return_types: list = []


def _repr(self) -> str:
    from ._dtype import DISPLAY  # "torch" under chainrule.torch_compat

    body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"{DISPLAY[0]}.return_types.{type(self).__name__}(\n{body})"


def make(name: str, fields) -> type:
    """The result type ``name`` with ``fields`` (made once; later calls return it)."""
    module = sys.modules[__name__]
    known = getattr(module, name, None)
    if known is not None:
        if known._fields != tuple(fields):
            raise ValueError(f"return type {name!r} already has fields {known._fields}")
        return known
    cls = type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": _repr,
                                                   "__module__": __name__})
    setattr(module, name, cls)
    all_return_types.append(cls)
    __all__.append(name)
    return cls
