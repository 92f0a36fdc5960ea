"""``Parameter`` (a tensor a Module learns), ``Buffer`` (a tensor it keeps but does not
learn), and the uninitialized parameters and buffers of lazy modules (as
``torch.nn.parameter``)."""

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


class UninitializedTensorMixin:
    """Data-less until ``materialize(shape)``, which turns it into ``cls_to_become``."""

    __slots__ = ()
    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate (uninitialised) data of ``shape`` and become a ``cls_to_become``."""
        dt = self._data.dtype if dtype is None else _dtype.to_dtype(dtype).np
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.empty(shape, dt)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (lazy modules); ``materialize`` makes it a
    ``Parameter``."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        dt = _dtype.to_dtype(dtype).np if dtype is not None else _dtype.get_default_dtype().np
        _init_tensor(self, np.empty((0,), dt), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet; ``materialize`` makes it a ``Tensor``."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True):
        dt = _dtype.to_dtype(dtype).np if dtype is not None else _dtype.get_default_dtype().np
        _init_tensor(self, np.empty((0,), dt), requires_grad)


def is_lazy(t) -> bool:
    return isinstance(t, UninitializedTensorMixin)
