"""The ``meta`` device, for modules: ``model.to("meta")`` keeps each parameter's and buffer's
shape and dtype and drops its values, as PyTorch does (the ``torch.func`` model-ensembling
tutorial makes such a "base model" and only ever calls it through ``functional_call`` with
real parameters). ``module.to_empty(device="cpu")`` gives them storage again.

A meta tensor's array is a ``MetaArray``: one element broadcast to the shape (no memory),
read-only. Anything that would read its values (an operation, printing the values,
``.item()``, ``.numpy()``) raises one clear error instead of computing with made-up numbers;
``t.device`` is ``device('meta')``, ``t.is_meta`` is True, and it prints as PyTorch's
``tensor(..., device='meta', size=(2, 3))``. Only modules move to ``meta``; creating meta
tensors directly (``torch.empty(..., device="meta")``) is refused like any other device.
"""

from __future__ import annotations

import numpy as np

_MSG = ("a tensor on the 'meta' device has no data (it was moved with .to('meta')): use it "
        "through torch.func.functional_call with real tensors, or give it storage with "
        "module.to_empty(device='cpu')")


class MetaArray(np.ndarray):
    """Shape and dtype without values (see the module docstring)."""

    def __array_ufunc__(self, *args, **kwargs):
        raise RuntimeError(_MSG)

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.shape, np.ndim, np.size, np.result_type):
            return func(*[a.view(np.ndarray) if isinstance(a, MetaArray) else a
                          for a in args], **kwargs)
        raise RuntimeError(_MSG)

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError(_MSG)

    def copy(self, *args, **kwargs):  # deepcopy of a module keeps it meta
        return meta_like(self)

    def __deepcopy__(self, memo):
        return meta_like(self)

    def astype(self, dtype, *args, **kwargs):
        return meta_array(self.shape, dtype)

    def item(self, *args):
        raise RuntimeError(_MSG)

    def tolist(self):
        raise RuntimeError(_MSG)

    def __float__(self):
        raise RuntimeError(_MSG)


def meta_array(shape, dtype) -> MetaArray:
    arr = np.broadcast_to(np.zeros((), dtype), tuple(shape)).view(MetaArray)
    return arr


def meta_like(arr) -> MetaArray:
    return meta_array(arr.shape, arr.dtype)


def is_meta(arr) -> bool:
    return type(arr) is MetaArray


def meta_repr(t) -> str:
    """PyTorch's print of a meta tensor."""
    from ._dtype import get_default_dtype

    dt = t.dtype
    extra = "" if dt == get_default_dtype() else f", dtype={dt!r}"
    grad = ", requires_grad=True" if t.requires_grad else ""
    return f"tensor(..., device='meta', size={tuple(t.shape)}{extra}{grad})"
