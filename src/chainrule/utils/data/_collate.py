"""``default_collate`` and ``default_convert``: turn a list of samples into a batch.

The rules follow ``torch.utils.data.default_collate``:

| sample element              | batch                                              |
| --------------------------- | -------------------------------------------------- |
| Tensor of shape S           | Tensor of shape (B, *S), same dtype (stacked)      |
| NumPy array / NumPy scalar  | Tensor (B, *S), the array's dtype kept             |
| Python float                | float64 Tensor (B,)                                |
| Python int (bool)           | int64 (bool) Tensor (B,)                           |
| str / bytes                 | list of B values, unchanged                        |
| dict                        | dict, each key collated separately                 |
| namedtuple                  | the same namedtuple of collated fields             |
| tuple / list                | a list of collated fields (transposed)             |
"""

from __future__ import annotations

import collections.abc as cabc

import numpy as np

from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _wrap(arr: np.ndarray) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _stack_tensors(batch) -> Tensor:
    shapes = {t.shape for t in batch}
    if len(shapes) > 1:
        raise RuntimeError(
            "default_collate: stack expects each tensor to be equal size, but got shapes "
            f"{sorted(tuple(s) for s in shapes)} in one batch (pad the samples or pass a "
            "collate_fn)"
        )
    if any(t.requires_grad for t in batch):
        from ...functions.shape import stack

        return stack(list(batch), 0)
    return _wrap(np.stack([t._data for t in batch]))


def _np_ok(arr) -> bool:
    return arr.dtype.kind in "biuf"


def default_collate(batch):
    """Collate a list of samples into a batch (see the module docstring for the rules).

    Example::

        default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
        # [tensor of shape (2, 3) float64, tensor([1, 0])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if not _np_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack_tensors([_wrap(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic):
        if not _np_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _wrap(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, float):
        return _wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, bool):
        return _wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, cabc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        n = len(elem)
        if any(len(b) != n for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Convert NumPy arrays inside ``data`` to tensors (used when ``batch_size=None``)."""
    if isinstance(data, np.ndarray):
        return _wrap(data) if _np_ok(data) else data
    if isinstance(data, np.generic) and _np_ok(data):
        return _wrap(np.asarray(data))
    if isinstance(data, (Tensor, str, bytes)):
        return data
    if isinstance(data, cabc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, cabc.Sequence):
        return [default_convert(d) for d in data]
    return data

