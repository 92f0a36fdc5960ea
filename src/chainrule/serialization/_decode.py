"""Turning a checked structure description and its arrays back into objects and modules.

Every node is validated as it is read; anything ``save`` never writes raises
:class:`LoadError`. Classes and functions are resolved (``_globals.resolve``) for the whole
file before any array is read or any module is built, so a refused file runs nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import nullcontext

import numpy as np

from .. import _budget
from .._device import device
from .._dtype import _BY_NP
from ..tensor import Tensor
from ._globals import not_allowed_message, resolve
from ._read import LoadError, fail

MAX_MODULE_NESTING = 64  #: modules built from constructor arguments of modules, at most
_DTYPES = {d.name: d for d in _BY_NP.values()}
_FLOATS = {"inf", "-inf", "nan"}


def _nodes(root):
    """Every JSON value under ``root`` (iteratively; depth was bounded when parsed)."""
    stack = [root]
    while stack:
        v = stack.pop()
        yield v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


class Decoder:
    def __init__(self, name: str, table, weights_only: bool):
        self.name, self.table, self.safe = name, table, weights_only
        self.arrays: dict = {}
        self.made: dict = {}
        self.classes: dict[int, type] = {}
        self.globals: dict[str, object] = {}
        self.built: dict[int, object] = {}
        self.building: set = set()
        self.claimed: set = set()
        self.done: set = set()

    def bad(self, what: str) -> LoadError:
        return fail(self.name, f"has a malformed structure description ({what})")

    # -- before reading any array ----------------------------------------------------------
    def prepare(self, structure, entries) -> None:
        """Check the module table and resolve every class/function the file names."""
        from ..nn.module import Module

        keys = {e[0] for e in entries}
        self.entry_shapes = {e[0]: (e[1], e[2]) for e in entries}
        if not isinstance(self.table, list):
            raise self.bad("the module table is not a list")
        for i, rec in enumerate(self.table):
            self._check_record(i, rec)
        self._check_acyclic()
        paths = {n["v"] for n in _nodes([structure, self.table]) if isinstance(n, dict)
                 and n.get("t") == "global" and isinstance(n.get("v"), str)}
        paths |= {rec["cls"] for rec in self.table}
        unsafe = []
        for p in sorted(paths):
            obj = resolve(p, self.safe)
            if obj is None:
                unsafe.append(p)
            self.globals[p] = obj
        if unsafe:
            raise LoadError(not_allowed_message(self.name, unsafe))
        for i, rec in enumerate(self.table):
            cls = self.globals[rec["cls"]]
            if not (isinstance(cls, type) and issubclass(cls, Module)):
                raise fail(self.name, f"names {rec['cls']!r} as a module class, but it is not "
                                      "a chainrule.nn.Module subclass")
            self.classes[i] = cls
        for n in _nodes([structure, self.table]):
            if isinstance(n, dict) and n.get("t") in ("tensor", "ndarray", "npscalar") and \
                    n.get("k") not in keys:
                raise fail(self.name, f"refers to a missing array {str(n.get('k'))[:40]!r}")

    def _check_record(self, i: int, rec) -> None:
        n = len(self.table)
        ok = (isinstance(rec, dict) and isinstance(rec.get("cls"), str)
              and isinstance(rec.get("ctor"), bool)
              and (rec.get("args") is None or isinstance(rec.get("args"), list))
              and (rec.get("kwargs") is None or _pairs(rec["kwargs"], 2))
              and _pairs(rec.get("children"), 2) and _pairs(rec.get("params"), 2)
              and _pairs(rec.get("buffers"), 3) and _pairs(rec.get("attrs"), 2))
        if not ok:
            raise self.bad(f"module record {i} is not of the form save writes")
        names = [c[0] for c in rec["children"]] + [p[0] for p in rec["params"]] + \
            [b[0] for b in rec["buffers"]]
        if len(set(names)) != len(names) or not all(nm and "." not in nm for nm in names):
            raise self.bad(f"module record {i} has repeated or invalid member names")
        if not all(j is None or (_int(j) and 0 <= j < n) for _, j in rec["children"]):
            raise self.bad(f"module record {i} has a child that is not in the table")
        if not all(isinstance(b[2], bool) for b in rec["buffers"]):
            raise self.bad(f"module record {i} has a malformed buffer")
        for name, node in rec["attrs"]:
            if not name.isidentifier() or name.startswith("__") or any(
                    isinstance(v, dict) and v.get("t") in ("module", "global")
                    for v in _nodes(node)):
                raise self.bad(f"module record {i} has a malformed attribute {name[:40]!r}")

    def _check_acyclic(self) -> None:
        state = {}  # 1: on the path, 2: done
        for root in range(len(self.table)):
            if root in state:
                continue
            stack = [(root, iter(self.table[root]["children"]))]
            state[root] = 1
            while stack:
                i, it = stack[-1]
                nxt = next((j for _, j in it if j is not None and state.get(j) != 2), None)
                if nxt is None:
                    state[i] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    raise self.bad("a module contains itself")
                else:
                    state[nxt] = 1
                    stack.append((nxt, iter(self.table[nxt]["children"])))

    # -- after the arrays are read ---------------------------------------------------------
    def run(self, structure, arrays: dict, budget: int | None):
        self.arrays = arrays
        try:
            roots = sorted({n["i"] for n in _nodes(structure) if isinstance(n, dict)
                            and n.get("t") == "module" and _int(n.get("i"))})
            with (_budget.limit(budget) if budget is not None else nullcontext()):
                for i in roots:  # modules made by their own constructor first, then the tree
                    if 0 <= i < len(self.table) and not self.table[i]["ctor"]:
                        self.build(i, 0)
                self._assemble([i for i in roots if i in self.built])
                for i in roots:  # e.g. a submodule saved beside its model
                    if 0 <= i < len(self.table) and i not in self.built:
                        self.build(i, 0)
                        self._assemble([i])
                while len(self.done) < len(self.built):  # modules only met as arguments
                    self._assemble([i for i in list(self.built) if i not in self.done])
                return self.decode(structure)
        except (KeyError, TypeError, IndexError, AttributeError) as e:
            raise self.bad(f"{type(e).__name__}: {e}") from None

    def build(self, i: int, level: int):
        if i in self.built:
            return self.built[i]
        if not (_int(i) and 0 <= i < len(self.table)):
            raise self.bad(f"module reference {i!r} is not in the table")
        if i in self.building or level > MAX_MODULE_NESTING:
            raise self.bad("modules are built from themselves or nested too deep")
        rec, cls = self.table[i], self.classes[i]
        if rec["args"] is None:
            raise fail(self.name, f"has a {rec['cls']} whose constructor arguments were not "
                                  "saved and that its parent's constructor did not rebuild")
        self.building.add(i)
        args = [self.decode(a, level + 1) for a in rec["args"]]
        kwargs = {k: self.decode(v, level + 1) for k, v in rec["kwargs"]}
        try:
            obj = cls(*args, **kwargs)
        except _budget.BudgetExceededError as e:
            raise fail(self.name, f"asks {rec['cls']} for more memory than the tensors in the "
                                  f"file justify ({e}); load it with weights_only=False only "
                                  "if you trust it") from None
        except Exception as e:
            raise LoadError(f"chainrule.load: rebuilding {rec['cls']} from {self.name!r} with "
                            f"its saved constructor arguments failed: {type(e).__name__}: "
                            f"{e}") from e
        self.building.discard(i)
        self.built[i] = obj
        self.claimed.add(id(obj))
        return obj

    def _assemble(self, roots) -> None:
        """Make each built module's children, tensors and attributes those of the file."""
        done, stack = self.done, list(roots)
        while stack:
            i = stack.pop()
            if i in done:
                continue
            done.add(i)
            obj, rec = self.built[i], self.table[i]
            live = obj.__dict__["_modules"]
            new = OrderedDict()
            for name, j in rec["children"]:
                if j is not None and j not in self.built:
                    cand = live.get(name)
                    if self.table[j]["ctor"] and type(cand) is self.classes[j] and \
                            id(cand) not in self.claimed:
                        self.built[j] = cand  # made by an ancestor's constructor, as saved
                        self.claimed.add(id(cand))
                    else:
                        self.build(j, 0)
                new[name] = None if j is None else self.built[j]
                if j is not None:
                    stack.append(j)
            live.clear()
            live.update(new)
            self._tensors(obj, rec)
            for name, node in rec["attrs"]:
                if name in obj.__dict__ or not hasattr(type(obj), name):
                    value = self.decode(node)
                    if name == "training" and not isinstance(value, bool):
                        raise self.bad("training is not a bool")
                    obj.__dict__[name] = value

    def _tensors(self, obj, rec) -> None:
        for table, items in (("_parameters", rec["params"]), ("_buffers", rec["buffers"])):
            live = obj.__dict__[table]
            new = OrderedDict()
            for item in items:
                name, node = item[0], item[1]
                if node is None:
                    new[name] = None
                    continue
                if not isinstance(node, dict) or node.get("t") != "tensor" or \
                        (table == "_parameters") != (node.get("cls") == "Parameter"):
                    raise self.bad(f"{name!r} is not a saved "
                                   f"{'parameter' if table == '_parameters' else 'buffer'}")
                key = node["k"]
                fresh = key not in self.made
                value = self.decode(node)
                cur = live.get(name)
                if fresh and isinstance(cur, Tensor) and type(cur) is type(value) and \
                        cur._data.shape == value._data.shape and cur.dtype == value.dtype:
                    np.copyto(cur._data, value._data)  # keep the object the module made
                    if cur.requires_grad != value.requires_grad:
                        cur.requires_grad_(value.requires_grad)
                    self.made[key] = value = cur
                new[name] = value
            live.clear()
            live.update(new)
            if table == "_buffers":
                skip = obj.__dict__["_non_persistent_buffers_set"]
                skip.clear()
                skip.update(b[0] for b in items if not b[2])

    # -- structure nodes -------------------------------------------------------------------
    def decode(self, node, level: int = 0):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):  # never written by save; tolerated as a list
            return [self.decode(v, level) for v in node]
        tag = node.get("t") if isinstance(node, dict) else None
        if tag in ("tensor", "ndarray", "npscalar"):
            key = node.get("k")
            if key in self.made:
                return self.made[key]
            arr = self.arrays[key]
            if tag == "tensor":
                out = self._tensor(arr, key, node.get("rg") is True, node.get("cls"))
            else:
                out = arr if tag == "ndarray" else arr[()]
            self.made[key] = out
            return out
        if tag == "float" and node.get("v") in _FLOATS:
            return float(node["v"])
        if tag in ("list", "tuple") and isinstance(node.get("v"), list):
            items = [self.decode(v, level) for v in node["v"]]
            return tuple(items) if tag == "tuple" else items
        if tag in ("dict", "odict") and _pairs(node.get("v"), 2, named=False):
            pairs = [(_hashable(self.decode(k, level)), self.decode(v, level))
                     for k, v in node["v"]]
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "dtype" and node.get("v") in _DTYPES:
            return _DTYPES[node["v"]]
        if tag == "device" and isinstance(node.get("v"), str) and len(node["v"]) < 64:
            return device(node["v"])
        if tag == "global" and node.get("v") in self.globals:
            return self.globals[node["v"]]
        if tag == "module" and _int(node.get("i")):
            return self.build(node["i"], level)
        raise self.bad(f"unknown node {str(node)[:80]}")

    def _tensor(self, arr: np.ndarray, key: str, requires_grad: bool, cls):
        if arr.dtype.newbyteorder("=") not in _BY_NP and arr.dtype not in _BY_NP:
            raise fail(self.name, f"has entry {key!r} of dtype {arr.dtype}, which chainrule "
                                  "tensors do not support")
        return make_tensor(arr, requires_grad, cls)


def make_tensor(arr: np.ndarray, requires_grad: bool, cls):
    arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    if not arr.flags.writeable:
        arr = np.array(arr, copy=True)
    t = Tensor._make(arr, False, None, 0)
    if cls == "Parameter":
        from ..nn.parameter import Parameter

        return Parameter(t, requires_grad=requires_grad)
    if requires_grad and arr.dtype.kind == "f":
        t.requires_grad = True
    return t


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _pairs(v, n: int, named: bool = True) -> bool:
    return isinstance(v, list) and all(isinstance(p, list) and len(p) == n and
                                       (isinstance(p[0], str) or not named) for p in v)


def _hashable(key):
    if isinstance(key, list):
        return tuple(key)
    try:
        hash(key)
    except TypeError:
        raise TypeError(f"unhashable dict key {type(key).__name__}") from None
    return key
