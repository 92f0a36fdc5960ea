"""``Parameter`` (a tensor a Module learns) and ``Buffer`` (a tensor it keeps but does not learn)."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..tensor import Tensor, _to_array


def _init_tensor(t: Tensor, data, requires_grad: bool) -> None:
    if data is None:
        arr = np.empty((0,), _dtype.get_default_dtype().np)
    elif isinstance(data, Tensor):
        arr = data._data  # shares the array, like torch.nn.Parameter(t)
    else:
        arr = _to_array(data)
    t._setup(arr, requires_grad)


class Parameter(Tensor):
    """A tensor that is a module parameter: assigned as a Module attribute it is registered
    and returned by ``parameters()``. It requires grad by default and shares the data of the
    tensor it wraps.

    Args:
        data: the initial value (a tensor or array-like); an empty tensor when None.
        requires_grad: whether the parameter is trained (default True).

    Example::

        >>> w = nn.Parameter(cr.zeros(3))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        _init_tensor(self, data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._make(self._data.copy(), False, None, 0), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor._make(self.grad._data.copy(), False, None, 0)
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """A tensor that is module state but not a parameter (``torch.nn.Buffer``): assigned as a
    Module attribute it is registered as a buffer (``persistent`` decides whether it goes into
    ``state_dict``)."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        _init_tensor(self, data, False)
        self.persistent = persistent


def is_lazy(param) -> bool:
    """True for the data-less parameters and buffers of lazy modules (``nn.lazy``)."""
    from .lazy import UninitializedTensorMixin

    return isinstance(param, UninitializedTensorMixin)


def __getattr__(name):  # torch.nn.parameter's lazy-module classes live in nn/lazy.py
    if name in ("UninitializedParameter", "UninitializedBuffer", "UninitializedTensorMixin"):
        from . import lazy

        return getattr(lazy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
