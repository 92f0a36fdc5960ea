"""The structure of a compiled call's result, recorded once and rebuilt at each replay.

A spec mirrors the returned object: tensors become ``("val", result index, output index
for the backward node or None)`` (or ``("arg", i)`` / ``("obj", t)`` when the call returns
one of its own arguments or a parameter, which are returned as the same object), NumPy
arrays ``("nd", i)``, tuples (named too), lists and dicts are rebuilt, Python scalars are
constants. Anything else cannot be rebuilt and stops the recording.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .trace import Traced

_ND = np.ndarray

_SCALARS = (int, float, bool, str, bytes, type(None))


def make_spec(out, tr, tensors, params, jt):
    """Return ``(spec, values in result order, {id(tensor): backward output index})``."""
    vals, index = [], {}
    diff = {id(t): k for k, t in enumerate(jt["outs"])} if jt else {}
    arg_pos = {id(t): i for i, t in enumerate(tensors)}
    param_ids = {id(t) for t in params}

    def slot(arr):
        v = tr.value_of(arr)
        k = index.get(v)
        if k is None:
            k = index[v] = len(vals)
            vals.append(v)
        return k

    def walk(x, depth):
        if isinstance(x, Tensor):
            if id(x) in arg_pos:
                return ("arg", arg_pos[id(x)])
            if id(x) in param_ids:
                return ("obj", x)
            return ("val", slot(x._data), diff.get(id(x)))
        if isinstance(x, np.ndarray):
            return ("nd", slot(x))
        if type(x) in _SCALARS:
            return ("const", x)
        if depth < 6 and isinstance(x, tuple):
            return ("tuple", type(x), [walk(i, depth + 1) for i in x])
        if depth < 6 and isinstance(x, list):
            return ("list", [walk(i, depth + 1) for i in x])
        if depth < 6 and isinstance(x, dict):
            return ("dict", type(x), [(k, walk(v, depth + 1)) for k, v in x.items()])
        tr.stop(f"returns a {type(x).__name__}, which a replay cannot rebuild")
        return ("const", x)

    return walk(out, 0), vals, diff


def build(spec, res, tensors, node, copies):
    """The call's result from the replayed arrays ``res``."""
    return _build(spec, res, tensors, node, copies, {})


def _build(s, res, tensors, node, copies, made):
    # (a plain recursive function: a nested closure would be a reference cycle keeping
    # every call's arrays alive until the garbage collector runs)
    kind = s[0]
    if kind == "val":
        i, d = s[1], s[2]
        t = made.get(i)
        if t is None:
            arr = res[i].copy() if i in copies else res[i]
            if node is not None and d is not None:
                t = Tensor._make(arr, True, node, d)
            else:
                t = Tensor._make(arr, False, None, 0)
            made[i] = t
        return t
    if kind == "const":
        return s[1]
    if kind == "arg":
        return tensors[s[1]]
    if kind == "obj":
        return s[1]
    if kind == "nd":
        return res[s[1]].copy() if s[1] in copies else res[s[1]]
    if kind == "tuple":
        items = [_build(i, res, tensors, node, copies, made) for i in s[2]]
        cls = s[1]
        if cls is tuple:
            return tuple(items)
        return cls(*items) if hasattr(cls, "_fields") else cls(items)
    if kind == "list":
        return [_build(i, res, tensors, node, copies, made) for i in s[1]]
    return s[1]((k, _build(v, res, tensors, node, copies, made)) for k, v in s[2])


def plainify(x, depth: int = 0) -> None:
    """Give the tensors in ``x`` (a call's result) plain arrays again."""
    if isinstance(x, Tensor):
        if type(x._data) is Traced:
            x._data = _ND.view(x._data, _ND)
        if x.grad is not None and type(x.grad._data) is Traced:
            x.grad._data = _ND.view(x.grad._data, _ND)
    elif isinstance(x, (tuple, list)) and depth < 4:
        for i in x:
            plainify(i, depth + 1)
    elif isinstance(x, dict) and depth < 4:
        for i in x.values():
            plainify(i, depth + 1)
