"""Raw NumPy on batched placeholders (``BatchedArray``): the non-differentiable helpers of the
public functions (comparisons, ``argmax``, masks, casts) work on whole batches.

Ufuncs align their batched operands with the batch dim first (unbatched operands broadcast);
reductions shift their axes past it. A handful of array functions have batched forms here;
any other runs once per batch element (warned once), and functions that read values out
raise.
"""

from __future__ import annotations

import sys

import numpy as np

from ._batched import BatchedArray, level_of, unwrap_at, wrap_array
from ._dispatch import warn_fallback


def _front(a, b):
    return a if b == 0 else np.moveaxis(a, b, 0)


def _align(inputs, level):
    """Operands with their batch dim first and padded to a common logical rank."""
    rank = max(np.ndim(x) if not isinstance(x, BatchedArray) else x.ndim for x in inputs)
    out = []
    size = None
    for x in inputs:
        v, b = unwrap_at(x, level)
        if b is None:
            out.append(x)
            continue
        v = _front(v, b)
        size = v.shape[0]
        nd = v.ndim - 1
        if nd < rank:
            v = v.reshape((size,) + (1,) * (rank - nd) + v.shape[1:])
        out.append(v)
    return out, size


def _norm_axes(axis, nd):
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(a % max(nd, 1) + 1 for a in axis)
    return axis % max(nd, 1) + 1


def array_ufunc(ufunc, method, inputs, kwargs):
    level = level_of(tuple(inputs))
    out = kwargs.pop("out", None)
    if out is not None:
        out = out[0] if isinstance(out, tuple) else out
    if method == "__call__":
        args, _ = _align(inputs, level)
        res = wrap_array(ufunc(*args, **kwargs), 0, level)
    elif method in ("reduce", "accumulate") and len(inputs) == 1:
        v, b = unwrap_at(inputs[0], level)
        nd = inputs[0].ndim
        axis = kwargs.pop("axis", 0)
        ax = _norm_axes(axis, nd)
        res = wrap_array(getattr(ufunc, method)(_front(v, b), axis=ax, **kwargs), 0, level)
    else:
        raise NotImplementedError(f"vmap: numpy {ufunc.__name__}.{method} on batched values")
    if out is not None:
        np.copyto(out, res, casting="unsafe")
        return out
    return res


def reshape(a, shape):
    v, b = unwrap_at(a, a._level)
    v = _front(v, b)
    return wrap_array(v.reshape((v.shape[0],) + tuple(shape)), 0, a._level)


def getitem(a, idx):
    level = a._level
    if not isinstance(idx, tuple):
        idx = (idx,)
    if level_of(idx) or any(isinstance(i, (np.ndarray, list)) for i in idx):
        return _per_element(lambda x, i: x[i], (a, idx), level)
    v, b = unwrap_at(a, level)
    return wrap_array(_front(v, b)[(slice(None),) + idx], 0, level)


def _per_element(fn, args, level, name=None):
    if name:
        warn_fallback(f"numpy.{name}")
    flat = []
    for x in args:
        flat.append(unwrap_at(x, level))
    size = next(_size(v, b) for v, b in flat if b is not None)
    res = []
    for i in range(size):
        res.append(fn(*[_take(v, b, i) for v, b in flat]))
    if not all(isinstance(r, np.ndarray) or np.isscalar(r) for r in res):
        raise RuntimeError(f"vmap: numpy.{name or 'indexing'} cannot be batched here")
    return wrap_array(np.stack([np.asarray(r) for r in res]), 0, level)


def _size(v, b):
    if isinstance(b, tuple):
        return next(_size(e, eb) for e, eb in zip(v, b) if eb is not None)
    return v.shape[b]


def _take(v, b, i):
    if b is None:
        return v
    if isinstance(b, tuple):
        return tuple(_take(e, eb, i) for e, eb in zip(v, b))
    return v[(slice(None),) * b + (i,)]


def _plain(x):
    if isinstance(x, BatchedArray):
        return x.view(np.ndarray)
    if isinstance(x, (tuple, list)):
        return type(x)(_plain(e) for e in x)
    return x


_META = {np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.iscomplexobj,
         np.isrealobj, np.may_share_memory, np.shares_memory, np.min_scalar_type}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}


def _ax(func):
    """Functions of one array and an ``axis`` keyword that keep a batch-first layout."""

    def run(a, *rest, axis=None, **kw):
        level = a._level
        v, b = unwrap_at(a, level)
        nd = a.ndim
        if axis is None and func in (np.argmax, np.argmin):
            flat = _front(v, b).reshape(v.shape[b], -1)
            return wrap_array(func(flat, axis=1, **kw), 0, level)
        return wrap_array(func(_front(v, b), *rest, axis=_norm_axes(axis, nd), **kw), 0, level)

    return run


_AXIS_FUNCS = {f: _ax(f) for f in (np.argmax, np.argmin, np.sum, np.mean, np.amax, np.amin,
                                   np.max, np.min, np.any, np.all, np.prod, np.cumsum,
                                   np.count_nonzero)}


def _sorting(func):
    """``np.sort`` / ``np.argsort`` (default axis -1; None sorts each element flattened)."""

    def run(a, axis=-1, **kw):
        level = a._level
        v, b = unwrap_at(a, level)
        v = _front(v, b)
        if axis is None:
            return wrap_array(func(v.reshape(v.shape[0], -1), axis=1, **kw), 0, level)
        return wrap_array(func(v, axis=_norm_axes(axis, a.ndim), **kw), 0, level)

    return run


def _take_along_axis(arr, indices, axis):
    level = level_of((arr, indices))
    if axis is None:
        return _per_element(lambda a, i: np.take_along_axis(a, i, None), (arr, indices), level)
    (a, i), size = _align([arr, indices], level)
    nd = max(np.ndim(arr), np.ndim(indices))
    a = a if isinstance(arr, BatchedArray) and arr._level == level else \
        np.broadcast_to(a, (size,) + np.shape(a))
    i = i if isinstance(indices, BatchedArray) and indices._level == level else \
        np.broadcast_to(i, (size,) + np.shape(i))
    return wrap_array(np.take_along_axis(a, i, axis % max(nd, 1) + 1), 0, level)


def _squeeze(a, axis=None):
    level = a._level
    v, b = unwrap_at(a, level)
    v = _front(v, b)
    if axis is None:
        axis = tuple(k for k, n in enumerate(a.shape) if n == 1)
    return wrap_array(np.squeeze(v, _norm_axes(axis, a.ndim)), 0, level)


def _elementwise(func, n):
    """A NumPy function elementwise in its first ``n`` (array) arguments."""

    def run(*args, **kw):
        level = level_of(tuple(args[:n]))
        arrays, _ = _align(list(args[:n]), level)
        return wrap_array(func(*arrays, *args[n:], **kw), 0, level)

    return run


_AXIS_FUNCS.update({np.sort: _sorting(np.sort), np.argsort: _sorting(np.argsort),
                    np.take_along_axis: _take_along_axis, np.squeeze: _squeeze,
                    np.isclose: _elementwise(np.isclose, 2),
                    np.isposinf: _elementwise(np.isposinf, 1),
                    np.isneginf: _elementwise(np.isneginf, 1),
                    np.isreal: _elementwise(np.isreal, 1),
                    np.nan_to_num: _elementwise(np.nan_to_num, 1)})


def _moveaxis(a, source, destination):
    level = a._level
    v, b = unwrap_at(a, level)
    nd = a.ndim
    src = [s % nd + 1 for s in np.atleast_1d(source)]
    dst = [d % nd + 1 for d in np.atleast_1d(destination)]
    return wrap_array(np.moveaxis(_front(v, b), src, dst), 0, level)


def _transpose(a, axes=None):
    level = a._level
    v, b = unwrap_at(a, level)
    nd = a.ndim
    axes = tuple(range(nd))[::-1] if axes is None else tuple(x % nd for x in axes)
    return wrap_array(np.transpose(_front(v, b), (0,) + tuple(x + 1 for x in axes)), 0, level)


def _expand_dims(a, axis):
    level = a._level
    v, b = unwrap_at(a, level)
    nd = a.ndim + (len(axis) if isinstance(axis, tuple) else 1)
    ax = tuple(x % nd + 1 for x in axis) if isinstance(axis, tuple) else axis % nd + 1
    return wrap_array(np.expand_dims(_front(v, b), ax), 0, level)


def _broadcast_to(a, shape, subok=False):
    level = level_of(a)
    if not level:
        return np.broadcast_to(a, shape)
    v, b = unwrap_at(a, level)
    v = _front(v, b)
    nd = v.ndim - 1
    v = v.reshape((v.shape[0],) + (1,) * (len(shape) - nd) + v.shape[1:])
    return wrap_array(np.broadcast_to(v, (v.shape[0],) + tuple(shape)), 0, level)


def _where(cond, x=None, y=None):
    if x is None and y is None:
        raise RuntimeError("vmap: nonzero / where(condition) has a data-dependent output "
                           "shape and cannot be batched")
    level = level_of((cond, x, y))
    (c, xx, yy), _ = _align([cond, x, y], level)
    return wrap_array(np.where(c, xx, yy), 0, level)


def _clip(a, lo=None, hi=None, **kw):
    return np.minimum(np.maximum(a, lo), hi) if lo is not None and hi is not None else (
        np.maximum(a, lo) if lo is not None else np.minimum(a, hi))


def _copyto(dst, src, casting="same_kind", where=True):
    if isinstance(dst, BatchedArray):
        v, b = unwrap_at(dst, dst._level)
        src = np.broadcast_to(src, dst.shape) if not isinstance(src, BatchedArray) or \
            src._level != dst._level else src
        if isinstance(src, BatchedArray) and src._level == dst._level:
            sv, sb = unwrap_at(src, src._level)
            sv = np.moveaxis(sv, sb, b) if sb != b else sv
        else:
            sv = np.expand_dims(np.asarray(src), b)
        np.copyto(v, np.broadcast_to(sv, v.shape) if not isinstance(sv, BatchedArray) else sv,
                  casting=casting)
        return None
    raise RuntimeError("vmap: an in-place write of a batched value into an unbatched tensor; "
                       "the tensor written to must be batched too (as in PyTorch)")


def _concat(arrays, axis=0, **kw):
    level = level_of(tuple(arrays))
    nd = next(a.ndim for a in arrays)
    size = next(a._value._data.shape[a._bdim] for a in arrays
                if isinstance(a, BatchedArray) and a._level == level)
    parts = []
    for a in arrays:
        v, b = unwrap_at(a, level)
        parts.append(_front(v, b) if b is not None else np.broadcast_to(a, (size,) + a.shape))
    return wrap_array(np.concatenate(parts, axis=axis % nd + 1), 0, level)


def _stack(arrays, axis=0, **kw):
    nd = next(np.ndim(a) for a in arrays) + 1
    return _concat([np.expand_dims(a, axis % nd) for a in arrays], axis=axis % nd)


_SPECIAL = {np.moveaxis: _moveaxis, np.transpose: _transpose, np.expand_dims: _expand_dims,
            np.broadcast_to: _broadcast_to, np.where: _where, np.clip: _clip,
            np.copyto: _copyto, np.concatenate: _concat, np.stack: _stack,
            np.reshape: lambda a, shape, **kw: reshape(a, (shape,) if isinstance(shape, int)
                                                         else shape)}


def array_function(func, args, kwargs):
    if func in _META:
        return func(*_plain(args), **_plain(kwargs))
    if func in _LIKE:
        a = _plain(args[0])
        return func(a, *args[1:], **{k: v for k, v in kwargs.items() if k != "subok"})
    special = _SPECIAL.get(func) or _AXIS_FUNCS.get(func)
    if special is not None:
        return special(*args, **kwargs)
    if func in (np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.allclose,
                np.array_equal, np.array_equiv):
        raise RuntimeError(
            f"vmap: numpy.{func.__name__} on a batched value has a data-dependent result; "
            "it cannot be batched (as in PyTorch's vmap)")
    level = level_of(tuple(args) + tuple(kwargs.values()))
    return _per_element(lambda *a: func(*a, **kwargs), args, level, func.__name__)


def _install():
    from . import _batched

    _batched._numpy = sys.modules[__name__]


_install()
