"""Passes over a flattened program before planning (replay.py): both keep every value the
program's results and side effects depend on exactly as recorded.

* ``elide_copies``: a copy whose source dies at the copy (the engine's copy of a fresh
  gradient into ``.grad``) is dropped; later users read the source.
* ``prune``: nodes whose results nothing uses, that write nothing read later or seen
  outside and have no side effect, are dropped.
"""

from __future__ import annotations

from .program import Node, Value
from .trace import ORIGINALS

_EFFECTS = ("host", "rng", "prim", "guard")


def prune(flat, results):
    """Drop nodes whose results nothing uses (no side effect, nothing written that is read
    later or seen outside): the same values, fewer NumPy calls."""
    live = {v.root() for v in results}
    keep = []
    for n in reversed(flat):
        needed = n.kind in _EFFECTS or any(o.root() in live for o in n.outputs) or any(
            v.root() in live or v.root().kind != "temp" for v in n.mutates)
        if n.kind == "host":
            live.update(b.root() for _, b in n.info["bindings"] if isinstance(b, Value))
        if needed:
            keep.append(n)
            live.update(v.root() for v in n.values_in())
            live.update(v.root() for v in n.mutates)
    keep.reverse()
    return keep


def _subst(x, m):
    t = type(x)
    if t is Value:
        return m.get(x, x)
    if t is tuple:
        return tuple(_subst(i, m) for i in x)
    if t is list:
        return [_subst(i, m) for i in x]
    if t is dict:
        return {k: _subst(v, m) for k, v in x.items()}
    return x


def _is_copy(n):
    if n.kind == "func" and n.fn is ORIGINALS["array"]:
        return n.kwargs.get("copy", True) is True and len(n.args) == 1
    return n.kind == "method" and n.fn == "copy" and len(n.args) == 1 and not n.kwargs


def elide_copies(flat, results, exposed):
    """A copy whose source dies at the copy (the engine copying a fresh gradient into
    ``.grad``) is dropped: later users read the source itself. Returns ``(nodes, rename)``."""
    last, based = {}, set()
    for i, n in enumerate(flat):
        for v in n.values_in() + list(n.mutates):
            last[v.root()] = i
        if n.kind == "host":
            for _, b in n.info["bindings"]:
                if isinstance(b, Value):
                    last[b.root()] = i
        based.update(o.base for o in n.outputs if o.base is not None)
    keep_out = {v.root() for v in list(results) + list(exposed)}
    rename, out = {}, []
    for i, n in enumerate(flat):
        if rename:
            n = _renamed(n, rename)
        if _is_copy(n) and type(n.args[0]) is Value and len(n.outputs) == 1:
            src, dst = n.args[0], n.outputs[0]
            if (src.root() is src and src.kind == "temp" and last.get(src) == i
                    and src not in keep_out and dst not in based and dst.dtype == src.dtype
                    and dst.shape == src.shape):
                rename[dst] = src
                continue
        out.append(n)
    return out, rename


def _renamed(n, m):
    info = dict(n.info)
    if "bindings" in info:
        info["bindings"] = [(p, _subst(b, m)) for p, b in info["bindings"]]
    info["orig"] = info.get("orig", n)  # the recorded node (which its outputs name)
    return Node(n.kind, n.fn, _subst(n.args, m), _subst(n.kwargs, m), n.outputs,
                _subst(n.mutates, m), n.body, info, n.phase)


def _made(n, o) -> bool:
    """Whether node ``n`` (or the recorded node it was renamed from) makes value ``o``."""
    return o.node is n or o.node is n.info.get("orig")
