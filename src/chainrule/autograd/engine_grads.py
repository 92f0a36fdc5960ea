"""The engine's gradient plumbing: a gradient summed back to an input's shape, wrapped as a
tensor, accumulated into a leaf's ``.grad`` (taking the array when nothing else holds it),
and shown to a node's hooks -- on tensors, or on arrays in the plain pass (see ``run``)."""

from __future__ import annotations

import sys

import numpy as np

from ..tensor import Tensor
from .hooks import _capture, _run_tensor_hooks

_make = Tensor._make
_Sum = _Reshape = None


def _primitives():
    global _Sum, _Reshape
    from ..ops import Reshape as _Reshape, Sum as _Sum  # noqa: F811


_AXES: dict = {}  # (gradient shape, input shape) -> the axes to sum: a program has few pairs


def _summed_axes(gshape, shape):
    """The axes of a gradient of shape ``gshape`` that broadcasting added to an input of
    ``shape``: its leading extra dims and the dims where the input has 1."""
    axes = _AXES.get((gshape, shape))
    if axes is None:
        lead = len(gshape) - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
        if len(_AXES) > 4096:  # (bounded: programs with ever-new shapes)
            _AXES.clear()
        _AXES[gshape, shape] = axes
    return axes


def _sum_to_shape(g, shape):
    """Sum a broadcast gradient back to ``shape`` (differentiable: primitives)."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    axes = _summed_axes(gshape, shape)
    if _Sum is None:
        _primitives()
    if axes:
        g = _Sum.apply(g, axes, True)
    if g._data.shape != shape:
        g = _Reshape.apply(g, shape)
    return g


def _sum_to_shape_array(g, shape):
    """``_sum_to_shape`` on an array (the plain pass): the same NumPy calls as Sum and
    Reshape's forward."""
    axes = _summed_axes(g.shape, shape)
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    if g.shape != shape:
        g = g.reshape(shape)
    return g


def _wrap(a):
    """A gradient array of the plain pass as a tensor (for hooks, user rules, grad())."""
    return _make(a if a.__class__ is np.ndarray else np.asarray(a), False, None, 0)


def _wrap_all(grads):
    return [None if g is None else _wrap(g) for g in grads]


# references to an array held only by one gradient tensor, as sys.getrefcount sees it
# inside _accumulate: the tensor's slot, the local name, and getrefcount's own argument
_EXCLUSIVE_REFS = 3


def _accumulate(leaf, g, create_graph, defer_post=False, own=False):
    """Add ``g`` into ``leaf.grad`` (in place when possible; float32 stays float32). Post-
    accumulate hooks run here unless ``defer_post`` (``run`` calls them once per pass).
    ``own``: the caller holds the only reference to the tensor ``g`` (see ``_owned``), so
    its array may become ``leaf.grad`` without a copy."""
    hooks = leaf._hooks
    if hooks is not None:
        for hook in hooks.pre:
            r = hook(g)
            if r is not None:
                g = r
    old = leaf.grad
    if create_graph:
        leaf.grad = g if old is None else old + g
    elif old is None:
        d = g._data
        # Take the array itself when nothing else can see it (a fresh result such as a
        # GEMM output: no base array, no other reference); otherwise own a copy, since the
        # same gradient may also go to another input or be the caller's tensor.
        if own and hooks is None and d.base is None and d.flags.writeable and \
                sys.getrefcount(d) <= _EXCLUSIVE_REFS:
            leaf.grad = Tensor._make(d, False, None, 0)
        else:
            leaf.grad = Tensor._make(np.array(d, copy=True), False, None, 0)
    elif old.requires_grad:
        leaf.grad = Tensor._make(old._data + g._data, False, None, 0)
    else:
        np.add(old._data, g._data, out=old._data, casting="unsafe")
    if hooks is not None and hooks.post and not defer_post:
        for hook in hooks.post:
            hook(leaf)


def _accumulate_array(leaf, d, defer_post, own):
    """``_accumulate`` of the plain pass, for a gradient array ``d`` (``own``: the engine
    holds the only reference to it, see ``_owned``)."""
    hooks = leaf._hooks
    if hooks is not None:  # hooks see tensors
        _accumulate(leaf, _wrap(d), False, defer_post)
        return
    old = leaf.grad
    if old is None:
        if not (own and d.__class__ is np.ndarray and d.base is None and d.flags.writeable):
            d = np.array(d, copy=True)
        leaf.grad = _make(d, False, None, 0)
    elif old.requires_grad:
        leaf.grad = _make(np.asarray(old._data + d), False, None, 0)
    else:
        np.add(old._data, d, out=old._data, casting="unsafe")


def _hooked_leaf(post, leaf, g, plain, create_graph):
    """One edge's gradient for a leaf with hooks: summed with the leaf's other gradients of
    this pass; after its last edge the total goes through ``_accumulate`` (the tensor hooks
    once, on the total; then ``.grad``; then the post-accumulate hooks)."""
    state = post[id(leaf)]
    if g is not None:
        state[1] = g if state[1] is None else state[1] + g
    state[0] -= 1
    if state[0]:
        return
    del post[id(leaf)]
    if state[1] is not None:
        _accumulate(leaf, _wrap(state[1]) if plain else state[1], create_graph)


def _see_grads(node, out_grads, plain, capture, results):
    """A node's incoming gradients meet its tensor hooks, retained ``.grad`` and ``grad()``'s
    captured inputs (as tensors; in the plain pass, arrays again afterwards)."""
    if plain:
        out_grads = _wrap_all(out_grads)
    if node._tensor_hooks is not None or node._retained is not None:
        _run_tensor_hooks(node, out_grads)
    if capture is not None:
        for k, g in enumerate(out_grads):
            if g is not None:
                _capture(capture, results, (id(node), k), g)
    if plain:
        out_grads = [None if g is None else g._data for g in out_grads]
    return out_grads
