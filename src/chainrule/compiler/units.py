"""Primitives replayed as units: their ``forward`` is called again at every replay.

A primitive whose forward read a value into Python while it was recorded (a branch on the
data inside the primitive, e.g. ``erf`` choosing its series by the size of ``|x|``) cannot
be replaced by the NumPy calls of one run. Its node keeps no body; at replay a kernel calls
``forward`` with a fresh ``ctx`` on the arrays and returns the outputs plus the arrays the
forward left in ``ctx`` (saved for backward, or stored as attributes, such as max
pooling's argmax offsets), because the recorded backward reads them.
"""

from __future__ import annotations

import numpy as np

from .._state import STATE
from ..tensor import Tensor
from .program import Value
from .trace import ORIGINALS

_asarray = ORIGINALS["asarray"]
# attributes Function.apply keeps on ctx for its own bookkeeping (not the forward's)
_INTERNAL = frozenset((
    "_needs", "_edges", "_to_save", "_non_diff", "_saved", "_versions", "_out_fw",
    "_out_refs", "_out_arrays", "_n_out", "_out_meta", "_tensor_hooks", "_retained",
    "_node_hooks", "_trace", "_materialize",
))


def _inner(tr, arr, first) -> bool:
    """Whether ``arr`` was made inside the primitive (not an array from before it)."""
    v = tr.lookup(arr)
    return v is None or v.id >= first


def _arrays_in(x, path, out, depth=0):
    if isinstance(x, np.ndarray):
        out.append((path, x))
    elif isinstance(x, Tensor):
        out.append((path, x._data))
    elif isinstance(x, (tuple, list)) and depth < 3:
        for i, item in enumerate(x):
            _arrays_in(item, path + (i,), out, depth + 1)


def unit_outputs(tr, node, outs, ctx, first) -> None:
    """Make ``node`` a unit: register its outputs and the arrays left in ``ctx``."""
    node.body = None
    found = []
    for k, t in enumerate(outs):
        if not isinstance(t, Tensor):
            tr.stop(f"{node.fn.__name__} returned a {type(t).__name__}, not a tensor")
            return
        found.append((("out", k), t._data))
    if ctx is not None:
        for i, s in enumerate(ctx._saved or ()):
            if isinstance(s, Tensor) and _inner(tr, s._data, first):
                found.append((("saved", i), s._data))
        for name, x in vars(ctx).items():
            if name not in _INTERNAL:
                _arrays_in(x, ("attr", name), found)
    paths, vals = [], []
    for path, arr in found:
        if path[0] != "out" and not _inner(tr, arr, first):
            continue
        base = tr.ancestor(arr, below=first)
        old = tr.lookup(arr)
        if old is not None and old.id < first:
            base = old  # the forward returned an array from before: an alias of it
        v = Value(len(tr.values), arr.shape, arr.dtype, "temp", node=node, base=base)
        tr.values.append(v)
        if old is None or old.id >= first:  # later uses of this array mean this output
            tr.alias(arr, v)
            _alias_owners(tr, arr, v, first)
        tr._obj_of[v.id] = arr
        paths.append(path)
        vals.append(v)
    for u in tr.values[first:]:
        if u.node is not node and u.id < len(tr.values) - len(vals):
            u.node = DEAD  # made inside the primitive's forward, which replays as a whole
    node.outputs = tuple(vals)
    node.info["paths"] = tuple(paths)
    node.info["tensor_args"] = tuple(i for i, a in enumerate(node.args) if isinstance(a, Value))


def _alias_owners(tr, arr, v, first):
    """Objects holding exactly ``arr``'s memory (its NumPy owner, the plain array a Traced
    wraps) now name the unit's output too: later views of ``arr`` find it as their base."""
    ptr = arr.__array_interface__["data"][0]
    b = getattr(arr, "base", None)
    while isinstance(b, np.ndarray):
        u = tr.lookup(b)
        if u is not None and u.id >= first and b.__array_interface__["data"][0] == ptr \
                and b.shape == arr.shape and b.strides == arr.strides and b.dtype == arr.dtype:
            tr.alias(b, v)
        b = getattr(b, "base", None)


class _Dead:
    """The node of values made inside a unit primitive (not available to the program)."""

    op = "unit internals"
    kind = "dead"


DEAD = _Dead()


def kernel(node):
    """The replay function of a unit node: ``kernel(*args) -> [arrays]`` in path order."""
    cls = node.fn
    needs = node.info.get("needs")
    paths = node.info["paths"]
    wrap = () if cls._arrays else node.info["tensor_args"]

    def run(*args):
        ctx = cls.__new__(cls)
        if needs is not None:
            ctx._needs = needs
        if wrap:
            args = list(args)
            for i in wrap:
                args[i] = Tensor._make(args[i], False, None, 0)
            prev = STATE.grad_enabled
            STATE.grad_enabled = False
            try:
                raw = cls.forward(ctx, *args)
            finally:
                STATE.grad_enabled = prev
        else:
            raw = cls.forward(ctx, *args)
        outs = raw if isinstance(raw, tuple) else (raw,)
        res = []
        for p in paths:
            if p[0] == "out":
                x = outs[p[1]]
            elif p[0] == "saved":
                x = ctx._to_save[p[1]]
            else:
                x = getattr(ctx, p[1])
                for i in p[2:]:
                    x = x[i]
            res.append(x._data if isinstance(x, Tensor) else _asarray(x))
        return res

    run.__name__ = f"unit_{cls.__name__}"
    return run
