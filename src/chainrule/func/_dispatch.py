"""The dispatcher ``Function.apply`` calls inside vmap: unwrap the highest level, run the
primitive's batching rule (or the loop fallback), wrap the result (see ``_batched``)."""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from ._batched import BatchedArray, level_of, unwrap_at, wrap


class Info:
    """What a batching rule is told besides its arguments."""

    __slots__ = ("cls", "level", "size")

    def __init__(self, cls, level, size):
        self.cls, self.level, self.size = cls, level, size


_RULE_FOR = []  # [_batching.rule_for], set there on import (it builds on this module)


def batched_apply(cls, args):
    level = 0
    for a in args:
        d = a._data if isinstance(a, Tensor) else a
        c = d.__class__
        if c is BatchedArray:
            lv = d._level
        elif c is np.ndarray:
            b = d.base
            if b.__class__ is not BatchedArray or b.shape != d.shape:
                continue
            lv = b._level
        elif c is tuple:
            lv = level_of(d)
        else:
            continue
        if lv > level:
            level = lv
    if not level:
        return NotImplemented
    vals, bdims = [], []
    size = None
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if d.__class__ is BatchedArray:
                v, b = (d._value, d._bdim) if d._level == level else (a, None)
            elif d.base.__class__ is not BatchedArray:
                v, b = a, None
            else:
                v, b = unwrap_at(a, level)
        elif a.__class__ in (np.ndarray, tuple, BatchedArray):
            v, b = unwrap_at(a, level)
        else:
            v, b = a, None
        vals.append(v)
        bdims.append(b)
        if size is None and b is not None:
            size = _size_of(v, b)
    info = Info(cls, level, size)
    rule = _RULE_FOR[0](cls)
    out, obd = rule(info, vals, bdims) if rule is not None else loop(info, vals, bdims)
    if isinstance(out, tuple):
        return tuple(wrap(o, b, level) if isinstance(o, Tensor) else o
                     for o, b in zip(out, obd))
    return wrap(out, obd, level)


def _size_of(v, b):
    if isinstance(b, tuple):
        for e, eb in zip(v, b):
            if eb is not None:
                return _size_of(e, eb)
    return (v._data if isinstance(v, Tensor) else v).shape[b]


_WARNED = set()


def warn_fallback(name):
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(
            f"vmap: there is no batching rule for {name}, so it runs once per batch element "
            "(a Python loop; results are the same, only slower)", UserWarning, stacklevel=4)


def take(v, b, i):
    """Element i of v along its batch dim b (v: tensor, array or index tuple)."""
    if b is None:
        return v
    if isinstance(b, tuple):
        return tuple(take(e, eb, i) for e, eb in zip(v, b))
    idx = (slice(None),) * b + (i,)
    if isinstance(v, Tensor):
        from ..ops.shape import Getitem

        return Getitem.apply(v, idx)
    return v[idx]


def loop(info, vals, bdims, name=None):
    """The fallback: call the primitive once per batch element and stack the results."""
    warn_fallback(name or info.cls.__name__)
    outs = [info.cls.apply(*[take(v, b, i) for v, b in zip(vals, bdims)])
            for i in range(info.size)]
    return stack_results(outs)


def stack_results(outs):
    from ..functions import shape as FS

    if isinstance(outs[0], tuple):
        res = tuple(FS.stack([o[k] for o in outs]) if isinstance(outs[0][k], Tensor)
                    else outs[0][k] for k in range(len(outs[0])))
        return res, tuple(0 if isinstance(r, Tensor) else None for r in res)
    return FS.stack(outs), 0


from ..autograd.function import PLUGINS  # noqa: E402

PLUGINS.batched_apply = batched_apply  # Function.apply hands calls inside vmap to it
