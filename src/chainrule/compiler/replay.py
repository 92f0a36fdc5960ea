"""Replay: plan a program's memory once, then run it as straight-line Python over NumPy.

Planning (``plan``), done once per captured program:

1. primitives with a body are replaced by it (the NumPy calls their forward made);
2. every value gets a storage class:

   * hoisted: computed once, at planning: constants, parameter and buffer arrays (their
     identity is checked at each call), views of persistent memory, arrays made from
     constants that nothing writes into;
   * buffer: a preallocated array reused across calls; a ufunc writes its result into it
     with ``out=`` (the same NumPy call, the same bits). Values whose lifetimes do not
     overlap share buffers (a value's memory lives until the last use of any view of it),
     and an elementwise ufunc may write into the buffer of an input it is the last user
     of, so a chain of elementwise operations runs in place in one block of memory;
   * fresh: made at each call (functions without ``out=``, random draws, primitives run as
     units) or seen by the caller afterwards (results, arrays bound to ``.grad``), which
     are never buffers; a ``del`` frees each fresh temporary at its last use.

3. code generation: one Python function, one line per operation, with the NumPy callables,
   constants and buffers bound as its globals, compiled with ``compile()``.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..tensor import Tensor
from .capture import KEEP
from .program import Value
from .trace import ORIGINALS
from .passes import _made, elide_copies, prune
from .units import kernel

_BUFFERED = ("__call__", "reduce", "accumulate")
_FILL = {"zeros": 0, "zeros_like": 0, "ones": 1, "ones_like": 1}
_HOISTABLE = ("func", "method", "create", "view")
_SCALAR_SLOW = (np.maximum, np.minimum, np.fmax, np.fmin)
_KEYWORD_OUT = (np.maximum, np.minimum)  # NumPy deprecates a positional out for these


_READ = {"__float__": "float({})", "__int__": "int({})", "__bool__": "bool({})",
         "__index__": "_index({})", "__complex__": "complex({})"}


class PlanError(RuntimeError):
    """The program cannot be replayed (the reason names the operation)."""


class GuardMissError(Exception):
    """A guard's value differs at replay: the call must run eagerly (nothing was changed
    yet: guards come before every side effect)."""


def sview(base, shape, strides, offset, dtype):
    """A strided view of ``base``'s memory starting ``offset`` bytes after ``base``'s data."""
    owner = base
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    start = base.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return np.ndarray(shape, dtype, buffer=owner, offset=start + offset, strides=strides)


def _grad_tensor(a):
    return Tensor._make(a, False, None, 0)


def flatten(nodes):
    out = []
    for n in nodes:
        if n.kind == "prim" and n.body is not None:
            out.extend(flatten(n.body))
        else:
            out.append(n)
    return out


class Plan:
    """A planned program: ``run(*entry_arrays)`` returns the tuple of result arrays."""

    def __init__(self, fn, source, guards, stats, copies=frozenset()):
        self.run = fn
        self.source = source
        self.guards = guards  # [(tensor, array)]: each tensor must still hold that array
        self.stats = stats
        self.copies = copies  # results the caller gets a copy of (constants of the plan)

    def valid(self) -> bool:
        for t, a in self.guards:
            if t._data is not a:
                return False
        return True


class _Planner:
    def __init__(self, flat, entry, results, exposed, buffers):
        self.flat = flat
        self.buffers = buffers
        self.ns = {"np": np, "_sview": sview, "_G": _grad_tensor, "_Miss": GuardMissError,
                   "_A": ORIGINALS["asarray"],
                   "_index": operator.index}
        self._names = {}
        self.expr = {v: f"a{i}" for i, v in enumerate(entry)}
        self.n_entry = len(entry)
        self.persistent = set()
        self.guards = []
        self.setup, self.body = [], []
        self.pool, self.owner = {}, {}
        self.stats = {"nodes": len(flat), "buffers": 0, "hoisted": 0, "fresh": 0,
                      "in_place": 0}
        self.mutated = {v.root() for n in flat for v in n.mutates}
        self.last_root, self.last_value = {}, {}
        for i, n in enumerate(flat):
            used = n.values_in() + list(n.mutates)
            if n.kind == "host":
                used += [b for _, b in n.info["bindings"] if isinstance(b, Value)]
            for v in used:
                self.last_root[v.root()] = i
                self.last_value[v] = i
        end = len(flat)
        self.results = list(results)
        for v in self.results:
            self.last_root[v.root()] = end
            self.last_value[v] = end
        self.fresh_roots = {v.root() for v in self.results + list(exposed)}
        for n in flat:
            if n.kind == "host":
                self.fresh_roots.update(b.root() for _, b in n.info["bindings"]
                                        if isinstance(b, Value))

    # -- names and expressions --------------------------------------------------------------
    def name(self, obj, prefix) -> str:
        key = (prefix, id(obj))
        nm = self._names.get(key)
        if nm is None:
            nm = f"{prefix}{len(self._names)}"
            self._names[key] = nm
            self.ns[nm] = obj
        return nm

    def value(self, v: Value) -> str:
        e = self.expr.get(v)
        if e is not None:
            return e
        if v.kind == "const":
            e = self.name(v.data, "k")
        elif v.kind in ("param", "buffer", "tensor"):
            arr = v.data._data
            self.guards.append((v.data, arr))
            e = self.name(arr, "e")
        else:
            raise PlanError(f"value {v.name} of shape {v.shape} is used but never made "
                            "(an array from inside a primitive replayed as a unit)")
        self.expr[v] = e
        self.persistent.add(v)
        return e

    def arg(self, x) -> str:
        t = type(x)
        if t is Value:
            return self.value(x)
        if t is tuple:
            inner = ", ".join(self.arg(i) for i in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        if t is list:
            return "[" + ", ".join(self.arg(i) for i in x) + "]"
        if t is dict:
            return "{" + ", ".join(f"{k!r}: {self.arg(v)}" for k, v in x.items()) + "}"
        if t is slice:
            return f"slice({self.arg(x.start)}, {self.arg(x.stop)}, {self.arg(x.step)})"
        if x is None or t is bool or t is int or t is str or (t is float and math.isfinite(x)):
            return repr(x)
        if x is Ellipsis:
            return "..."
        return self.name(x, "k")

    def _scalar_to_array(self, n, v):
        """For maximum/minimum with a scalar operand, a constant array of the result's
        shape instead: NumPy's SIMD loops need array operands (5-7x faster here), and the
        results are the same bits (checked for -0, nan, inf, denormals: tests/compiler)."""
        if n.fn not in _SCALAR_SLOW or n.info["method"] != "__call__" or len(n.args) != 2:
            return None
        args = list(n.args)
        for i, a in enumerate(args):
            other = args[1 - i]
            if type(other) is Value and other.shape == v.shape and (
                    type(a) in (int, float) or (isinstance(a, np.ndarray) and a.ndim == 0)):
                args[i] = np.full(v.shape, a, v.dtype)
                return tuple(args)
        return None

    def call(self, n, args=None) -> str:
        parts = [self.arg(a) for a in (n.args if args is None else args)]
        parts += [f"{k}={self.arg(v)}" for k, v in n.kwargs.items()]
        return ", ".join(parts)

    # -- buffers -----------------------------------------------------------------------------
    def take_buffer(self, v: Value, dying=()) -> str:
        free = self.pool.get((v.shape, v.dtype))
        if free:
            b, root = free.pop()
            if root in dying:
                self.stats["in_place"] += 1
        else:
            b = self.name(np.empty(v.shape, v.dtype), "b")
            self.stats["buffers"] += 1
        self.owner[v] = b
        self.expr[v] = b
        self.persistent.add(v)
        return b

    def release(self, root) -> None:
        b = self.owner.pop(root, None)
        if b is not None:
            self.pool.setdefault((root.shape, root.dtype), []).append((b, root))

    # -- one node ----------------------------------------------------------------------------
    def line(self, n) -> str:
        k = n.kind
        if k == "ufunc":
            m = n.info["method"]
            f = self.name(n.fn if m == "__call__" else getattr(n.fn, m), "f")
            out = n.kwargs.get("out")
            if m == "__call__" and isinstance(out, tuple) and len(out) == 1 \
                    and n.fn not in _KEYWORD_OUT:
                # out as a positional argument: NumPy parses it faster than a keyword
                rest = {key: v for key, v in n.kwargs.items() if key != "out"}
                parts = [self.arg(a) for a in n.args] + [self.arg(out[0])]
                parts += [f"{key}={self.arg(v)}" for key, v in rest.items()]
                return f"{f}({', '.join(parts)})"
            return f"{f}({self.call(n)})"
        if k in ("func", "create"):
            return f"{self.name(n.fn, 'f')}({self.call(n)})"
        if k == "method":
            recv, rest = self.arg(n.args[0]), n.args[1:]
            if n.fn == "__getitem__":
                return f"{recv}[{self.arg(rest[0])}]"
            if n.fn == "__setitem__":
                return f"{recv}[{self.arg(rest[0])}] = {self.arg(rest[1])}"
            parts = [self.arg(a) for a in rest]
            parts += [f"{key}={self.arg(x)}" for key, x in n.kwargs.items()]
            return f"{recv}.{n.fn}({', '.join(parts)})"
        if k == "view":
            i = n.info
            return (f"_sview({self.arg(n.args[0])}, {i['shape']!r}, {i['strides']!r}, "
                    f"{i['offset']!r}, {self.name(i['dtype'], 'k')})")
        if k == "rng":
            gen, method = n.fn
            return f"{self.name(getattr(gen, method), 'r')}({self.call(n)})"
        if k == "prim":
            return f"{self.name(kernel(n), 'u')}({self.call(n)})"
        if k == "host":
            obj, method = n.fn
            for p, b in n.info["bindings"]:
                pn = self.name(p, "p")
                if b is None:
                    self.body.append(f"{pn}.grad = None")
                elif b is not KEEP:
                    self.body.append(f"{pn}.grad = _G({self.value(b)})")
            return f"{self.name(getattr(obj, method), 'o')}({self.call(n)})"
        if k == "guard":
            x = self.arg(n.args[0])
            rest = ", ".join(self.arg(a) for a in n.args[1:])
            read = _READ.get(n.fn)
            got = read.format(x) if read else f"{x}.{n.fn}({rest})"
            return f"if {got} != {self.arg(n.info['expect'])}: raise _Miss"
        raise PlanError(f"cannot replay a {k} node ({n.op})")

    def hoistable(self, n, outs) -> bool:
        if n.kind not in _HOISTABLE or n.mutates or not outs or len(outs) != len(n.outputs):
            return False
        ins = n.values_in()
        if not all(a in self.persistent for a in ins):
            return False
        if all(o.base is not None for o in outs):  # views of persistent memory
            return all(o.base in self.persistent for o in outs)
        return n.kind == "create" and not any(
            o.root() in self.mutated or o.root() in self.fresh_roots for o in outs)

    def node(self, i, n) -> None:
        outs = [o for o in n.outputs if _made(n, o)]
        if n.outputs and not outs and not n.mutates:
            return  # the result is an array the program already has (e.g. astype(copy=False))
        if n.kind in ("ufunc", "create") and len(outs) == 1 and len(n.outputs) == 1 \
                and self.buffers and self._buffered(i, n, outs[0]):
            return
        text = self.line(n)
        if self.hoistable(n, outs):
            names = [self.name(o, "h") for o in outs]
            self.setup.append(_assign(names, text, n))
            for o, nm in zip(outs, names):
                self.expr[o] = nm
                self.persistent.add(o)
            self.stats["hoisted"] += 1
            return
        if not n.outputs:
            self.body.append(text)
            return
        names = [f"t{o.id}" for o in n.outputs]
        if n.kind in ("ufunc", "func", "method") and len(n.outputs) == 1 \
                and n.outputs[0].shape == ():
            text = f"_A({text})"  # a 0-d array, as recorded (NumPy may return a scalar)
        self.body.append(_assign(names, text, n))
        for o, nm in zip(n.outputs, names):
            if _made(n, o):
                self.expr[o] = nm
        self.stats["fresh"] += len(outs)

    def _buffered(self, i, n, v) -> bool:
        """Emit ``n`` writing into a buffer when it can: True if done."""
        if v.base is not None or v.root() in self.fresh_roots or v.dtype == object:
            return False
        if n.kind == "ufunc":
            method = n.info["method"]
            if method not in _BUFFERED or "out" in n.kwargs:
                return False
            dying = set()
            if method == "__call__":  # elementwise: may overwrite an input dying here
                for a in n.values_in():
                    r = a.root()
                    if self.last_root.get(r) == i and (r.shape, r.dtype) == (v.shape, v.dtype):
                        dying.add(r)
                        self.release(r)
            b = self.take_buffer(v, dying)
            f = self.name(n.fn if method == "__call__" else getattr(n.fn, method), "f")
            if method == "__call__" and not n.kwargs and n.fn not in _KEYWORD_OUT:
                # out as a positional argument: parsed faster
                self.body.append(f"{f}({self.call(n, self._scalar_to_array(n, v))}, {b})")
            else:
                self.body.append(f"{f}({self.call(n, self._scalar_to_array(n, v))}, out={b})")
            return True
        if v.root() not in self.mutated or v.shape == ():
            return False
        b = self.take_buffer(v)  # an array made from constants, then written into
        fill = _FILL.get(n.info.get("name"))
        if fill is not None:
            self.body.append(f"{b}.fill({fill})")
        elif n.info.get("name") not in ("empty", "empty_like"):
            init = n.fn(*n.args, **n.kwargs)
            self.body.append(f"np.copyto({b}, {self.name(init, 'k')})")
        return True

    def run(self, name):
        for i, n in enumerate(self.flat):
            self.node(i, n)
            for v in n.values_in() + list(n.outputs):
                if self.last_value.get(v, -1) <= i and self.expr.get(v, "").startswith("t") \
                        and v not in self.results:
                    self.body.append(f"del {self.expr[v]}")
                    self.last_value[v] = len(self.flat) + 1  # deleted once
            for r in [r for r, last in self.last_root.items() if last == i]:
                self.release(r)
        ret = ", ".join(self.value(v) for v in self.results)
        glob = [nm for nm in self.ns if nm.startswith("h")]
        src = ["def _setup():"]
        if glob:
            src.append(f"    global {', '.join(glob)}")
        src += [f"    {ln}" for ln in self.setup] + ["    pass"]
        src.append(f"def {_ident(name)}({', '.join(f'a{i}' for i in range(self.n_entry))}):")
        src += [f"    {ln}" for ln in self.body]
        src.append(f"    return ({ret}{',' if len(self.results) == 1 else ''})")
        return "\n".join(src) + "\n"


def _assign(names, text, n) -> str:
    if len(names) == 1 and len(n.outputs) == 1 and n.kind != "prim":
        return f"{names[0]} = {text}"
    return f"{', '.join(names)}{',' if len(names) == 1 else ''} = {text}"


def _ident(name: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name)
    return out if out and not out[0].isdigit() else f"f_{out}"


def plan(nodes, entry, results, name="program", exposed=(), buffers=True) -> Plan:
    """Plan ``nodes`` (in order) given the ``entry`` values (the arrays passed to each call,
    in order) and the ``results`` (returned, in order); ``exposed`` values are seen by the
    caller after the call, like the results. ``buffers=False`` makes every value fresh."""
    flat, rename = elide_copies(flatten(nodes), results, exposed)
    results = [rename.get(v, v) for v in results]
    exposed = [rename.get(v, v) for v in exposed]
    p = _Planner(prune(flat, list(results) + list(exposed)), list(entry), results,
                 exposed, buffers)
    source = p.run(name)
    code = compile(source, f"<chainrule.compile {name}>", "exec")
    p.ns.setdefault("__name__", "chainrule.compiler.replayed")  # warnings see chainrule code
    exec(code, p.ns)  # noqa: S102  (code generated above: calls and assignments only)
    p.ns["_setup"]()
    p.stats["lines"] = len(p.body)
    copies = frozenset(i for i, v in enumerate(p.results) if v.root() in p.persistent
                       and v.root().kind not in ("param", "buffer", "tensor"))
    return Plan(p.ns[_ident(name)], source, p.guards, p.stats, copies)
