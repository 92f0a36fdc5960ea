"""``vmap``: map a function over a batch dimension, as one batched computation."""

from __future__ import annotations

import functools

from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._batched import BatchedArray, lift, unwrap_any, wrap_any
from ._levels import pop_level, push_level
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten


_DEPTH = [0]  # transforms running; the outermost one detaches its results unless the
#               caller's own autograd is watching (an input requires grad, grad mode on)


def _outer_result(result, watched):
    if _DEPTH[0] or watched:
        return result
    leaves, spec = tree_flatten(result)
    return tree_unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _watched(args):
    if not STATE.grad_enabled:
        return False
    return any(isinstance(x, Tensor) and x.requires_grad for x in tree_flatten(args)[0])


def _transform(fn):
    """Count nesting around a transform's body and detach at the outermost."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        watched = _DEPTH[0] == 0 and _watched(args)
        _DEPTH[0] += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
        return _outer_result(result, watched)

    return run


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.func.vmap``: ``vmap(f)(xs)`` computes ``stack([f(x) for x in xs])`` as one
    batched computation.

    Every primitive has a batching rule (``chainrule.func._batching``) that runs it once on
    the whole batch; a primitive without one runs once per element (warned once).

    Args:
        func: a function of tensors (or pytrees of tensors) returning tensors (or pytrees).
        in_dims: per positional argument, the dim to map over, or None to broadcast it; an
            int applies to every argument; nested tuples/lists/dicts match the arguments'
            structure. Keyword arguments are never mapped.
        out_dims: where the batch dim goes in each output (int, None, or a pytree prefix).
        randomness: ``"error"`` (random draws inside raise), ``"different"`` (one draw per
            batch element) or ``"same"`` (one draw shared by the batch).
        chunk_size: evaluate at most this many batch elements at a time (None: all).

    Example::

        >>> x = chainrule.randn(5, 3)
        >>> chainrule.vmap(lambda v: v.dot(v))(x).shape
        chainrule.Size([5])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                           f"{randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0, got {chunk_size}")
    if not isinstance(in_dims, (int, tuple, type(None))):
        raise ValueError(f"vmap: in_dims must be an int, None or a tuple, got "
                         f"{type(in_dims).__name__}")

    @functools.wraps(func)
    @_transform
    def wrapped(*args, **kwargs):
        flat, spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args),
                                args, "in_dims")
        size = None
        norm = []
        for x, d in zip(flat, dims):
            if d is None:
                norm.append(None)
                continue
            if not isinstance(d, int):
                raise ValueError(f"vmap: in_dims entries must be int or None, got {d!r}")
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"vmap: got in_dim={d} for an input but the input is of type "
                    f"{type(x).__name__}; only tensors can be mapped (use None for others)")
            nd = x._data.ndim
            if not -nd <= d < nd:
                raise ValueError(
                    f"vmap: in_dim={d} is out of bounds for an input of shape "
                    f"{tuple(x._data.shape)} (expected a dim in [{-nd}, {nd - 1}])")
            d %= nd
            n = x._data.shape[d]
            if size is not None and n != size:
                raise ValueError(
                    "vmap: Expected all tensors to have the same size in the mapped "
                    f"dimension, got sizes {sorted({size, n})} for the mapped dimension")
            size = n
            norm.append(d)
        if size is None:
            raise ValueError("vmap: at least one input must be a tensor mapped over a dim "
                             "(in_dims are all None, or there are no tensor inputs)")
        if chunk_size is None or chunk_size >= size:
            return _run(func, flat, norm, spec, kwargs, size, out_dims, randomness)
        from ..functions import shape as FS

        chunks = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [x if d is None else x.narrow(d, start, n) for x, d in zip(flat, norm)]
            chunks.append(_run(func, part, norm, spec, kwargs, n, out_dims, randomness))
        outs0, ospec = tree_flatten(chunks[0])
        odims = broadcast_prefix(out_dims, chunks[0], "out_dims")
        merged = []
        for k, od in enumerate(odims):
            pieces = [tree_flatten(c)[0][k] for c in chunks]
            merged.append(pieces[0] if od is None else FS.cat(pieces, od))
        return tree_unflatten(merged, ospec)

    return wrapped


def _run(func, flat, dims, spec, kwargs, size, out_dims, randomness):
    lv = push_level(size, randomness)
    try:
        batched = [x if d is None else wrap_any(x, d, lv.level) for x, d in zip(flat, dims)]
        out = func(*tree_unflatten(batched, spec), **kwargs)
    finally:
        pop_level(lv)
    flat_out, ospec = tree_flatten(out)
    odims = broadcast_prefix(out_dims, out, "out_dims")
    return tree_unflatten([_unbatch(o, lv.level, size, od) for o, od in zip(flat_out, odims)],
                          ospec)


def _unbatch(o, level, size, od):
    if not isinstance(o, Tensor):
        raise ValueError(f"vmap: `func` must only return tensors (or pytrees of tensors), "
                         f"got {type(o).__name__}")
    v, b = unwrap_any(o, level)
    if od is None:
        if b is not None:
            raise ValueError("vmap: out_dims=None for an output that depends on a mapped "
                             "input; only outputs that are the same for the whole batch can "
                             "be returned unmapped")
        return o
    if b is None:
        v, b = unwrap_any(lift(o, level, size), level)
    nd = v._data.ndim
    if not -nd <= od < nd:
        raise ValueError(f"vmap: out_dim={od} is out of bounds for an output with "
                         f"{nd - 1} dims")
    od %= nd
    return v if b == od else v.movedim(b, od)


def is_batched(t) -> bool:
    """True for a tensor that is batched by an enclosing vmap (a BatchedTensor)."""
    return isinstance(t, Tensor) and t._data.__class__ is BatchedArray
