"""Pytrees: nested tuples, lists, dicts and namedtuples of tensors (PyTorch's
``torch.utils._pytree`` subset that ``torch.func`` uses). Anything else is a leaf."""

from __future__ import annotations


class TreeSpec:
    """The structure of a pytree: a node kind, its context (keys, type) and children."""

    __slots__ = ("kind", "context", "children")

    def __init__(self, kind, context, children):
        self.kind, self.context, self.children = kind, context, children

    @property
    def num_leaves(self):
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind
                and self.context == other.context and self.children == other.children)

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        return f"{self.kind}({', '.join(map(repr, self.children))})"


LEAF = TreeSpec("leaf", None, ())


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """(list of leaves, spec)."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(x, leaves):
    if _is_namedtuple(x):
        return TreeSpec("namedtuple", type(x), tuple(_flatten(e, leaves) for e in x))
    if isinstance(x, (tuple, list)):
        return TreeSpec(type(x).__name__, None, tuple(_flatten(e, leaves) for e in x))
    if isinstance(x, dict):
        keys = list(x.keys())
        return TreeSpec("dict", (type(x), tuple(keys)), tuple(_flatten(x[k], leaves) for k in keys))
    leaves.append(x)
    return LEAF


def tree_unflatten(leaves, spec):
    it = iter(leaves)
    out = _unflatten(it, spec)
    return out


def _unflatten(it, spec):
    kind = spec.kind
    if kind == "leaf":
        return next(it)
    items = [_unflatten(it, c) for c in spec.children]
    if kind == "tuple":
        return tuple(items)
    if kind == "list":
        return items
    if kind == "namedtuple":
        return spec.context(*items)
    cls, keys = spec.context
    d = cls() if cls is not dict else {}
    for k, v in zip(keys, items):
        d[k] = v
    return d


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, tree, what="in_dims"):
    """Per leaf of ``tree``, the value of ``prefix`` (a pytree matching a prefix of ``tree``'s
    structure; a non-container value applies to the whole subtree)."""
    out = []
    _broadcast(prefix, tree, out, what)
    return out


def _broadcast(prefix, tree, out, what):
    if not isinstance(prefix, (tuple, list, dict)) or (_is_namedtuple(prefix) and False):
        out.extend([prefix] * tree_flatten(tree)[1].num_leaves)
        return
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise ValueError(f"vmap: {what} {prefix!r} does not match the structure of the "
                             f"inputs ({type(tree).__name__})")
        for k in tree:
            _broadcast(prefix[k], tree[k], out, what)
        return
    if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
        raise ValueError(
            f"vmap: {what} is not compatible with the structure of the inputs: {what}="
            f"{prefix!r} has {len(prefix)} entries but the inputs have "
            f"{len(tree) if isinstance(tree, (tuple, list)) else 'a single leaf'}")
    for p, t in zip(prefix, tree):
        _broadcast(p, t, out, what)
