"""The captured program: a flat list of operations over array values (the compiler's IR).

One IR, three consumers: ``chainrule.compile`` replays it (``replay.py``),
``chainrule.export`` returns it (``export.py``), ``chainrule.onnx`` translates it.

* A ``Value`` is one array: an input of the call, a parameter or buffer of a module, a
  gradient, a constant, or a temporary made by a node. Views (reshape, transpose, slices)
  are values too, with ``base`` naming the value whose memory they share.
* A ``Node`` is one operation, in execution order. Its kind says what runs at replay:

  ========  =============================================================================
  prim      a chainrule primitive (``chainrule.ops``): ``fn`` is the ``Function`` class;
            ``body`` holds the NumPy nodes its ``forward`` executed (inlined at replay),
            or is None when the forward runs as a unit (it read a value, see capture.py)
  ufunc     a NumPy ufunc call (``info["method"]``: "__call__", "reduce", "at", ...)
  func      another NumPy function (``np.where``, ``np.copyto``, ``np.broadcast_to``, ...)
  method    an array method NumPy does not dispatch (``astype``, ``reshape``, indexing)
  create    a new array from constants (``np.zeros``, ``np.asarray(0.5, float32)``, ...)
  view      a strided view of another value (made by ``as_strided``-like code)
  rng       a draw from a ``chainrule.Generator`` (fresh numbers at every replay)
  host      a Python call replayed as such: ``Optimizer.step`` / ``zero_grad``
  ========  =============================================================================

  ``args``/``kwargs`` hold values and Python constants; ``outputs`` are the values the node
  defines, ``mutates`` those it writes in place. ``phase`` is forward, backward (run by the
  autograd engine) or optimizer.
"""

from __future__ import annotations

import numpy as np

PHASES = ("forward", "backward", "optimizer")


class Value:
    """One array of the program (see the module docstring)."""

    __slots__ = ("id", "shape", "dtype", "kind", "name", "node", "base", "data")

    def __init__(self, id, shape, dtype, kind, name=None, node=None, base=None, data=None):  # noqa: A002
        self.id = id
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.kind = kind  # input | param | buffer | tensor | grad | grad_out | const | temp
        self.name = name or f"v{id}"
        self.node = node  # the node that defines it (temps)
        self.base = base  # the value whose memory a view shares
        self.data = data  # const: the array; param/buffer/tensor/grad: the holding tensor

    def root(self) -> Value:
        v = self
        while v.base is not None:
            v = v.base
        return v

    def __repr__(self) -> str:
        return self.name


class Node:
    """One operation of the program (see the module docstring)."""

    __slots__ = ("kind", "fn", "args", "kwargs", "outputs", "mutates", "body", "info", "phase")

    def __init__(self, kind, fn, args=(), kwargs=None, outputs=(), mutates=(), body=None,
                 info=None, phase="forward"):
        self.kind = kind
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        self.outputs = tuple(outputs)
        self.mutates = tuple(mutates)
        self.body = body
        self.info = info or {}
        self.phase = phase

    @property
    def op(self) -> str:
        """The operation's name: the primitive's class name, or ``np.<name>`` /
        ``.<method>`` for NumPy-level nodes."""
        k = self.kind
        if k == "prim":
            return self.fn.__name__
        if k == "ufunc":
            m = self.info.get("method", "__call__")
            return f"np.{self.fn.__name__}" + ("" if m == "__call__" else f".{m}")
        if k in ("func", "create"):
            return f"np.{getattr(self.fn, '__name__', self.fn)}"
        if k == "method":
            return f".{self.fn}"
        if k == "rng":
            return f"rng.{self.fn[1]}"
        if k == "host":
            return f"{type(self.fn[0]).__name__}.{self.fn[1]}"
        return k

    def values_in(self):
        """Every value this node reads (arguments, keyword arguments)."""
        out = []
        _collect((self.args, self.kwargs), out)
        return out

    def __repr__(self) -> str:
        return f"<Node {self.op} -> {self.outputs}>"


def _collect(x, out):
    t = type(x)
    if t is Value:
        out.append(x)
    elif t in (tuple, list):
        for i in x:
            _collect(i, out)
    elif t is dict:
        for i in x.values():
            _collect(i, out)
    elif t is slice:
        _collect((x.start, x.stop, x.step), out)


def leaves(spec):
    """The values in an output spec (nested tuples/lists/dicts of values and constants)."""
    out = []
    _collect(spec, out)
    return out


def fmt_arg(x) -> str:
    """A short text form of an argument for the printed table."""
    t = type(x)
    if t is Value:
        return x.name
    if t in (tuple, list):
        inner = ", ".join(fmt_arg(i) for i in x)
        return f"({inner}{',' if t is tuple and len(x) == 1 else ''})" if t is tuple else f"[{inner}]"
    if t is dict:
        return "{" + ", ".join(f"{k}={fmt_arg(v)}" for k, v in x.items()) + "}"
    if t is slice:
        parts = [("" if p is None else fmt_arg(p)) for p in (x.start, x.stop, x.step)]
        return ":".join(parts[:2] if x.step is None else parts)
    if isinstance(x, np.dtype):
        return str(x)
    if isinstance(x, type):
        return x.__name__
    if isinstance(x, np.ndarray):
        return f"array{tuple(x.shape)}"
    if isinstance(x, float):
        return f"{x:.6g}"
    if x is Ellipsis:
        return "..."
    text = repr(x)
    return text if len(text) <= 24 else type(x).__name__


class Program:
    """A captured call: values, nodes in execution order, the inputs and outputs.

    Attributes:
        values: every ``Value``, inputs first.
        nodes: the ``Node`` list (primitives keep their NumPy bodies in ``node.body``).
        inputs: the input values, in the order of the call's tensor arguments.
        outputs: the output spec (the call's return structure with values for tensors).
        bindings: ``(tensor, value or None)``: what ``tensor.grad`` holds after the call.
        name: the captured function's name.
        results: the values the outputs are made of.
    """

    def __init__(self, values, nodes, inputs, outputs, bindings=(), name="program",
                 results=()):
        self.values = values
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.results = list(results)  # the values the outputs are made of, in order
        self.bindings = list(bindings)
        self.name = name

    def flat_nodes(self):
        """Nodes as replay runs them: each primitive with a body replaced by its body."""
        for n in self.nodes:
            if n.kind == "prim" and n.body is not None:
                yield from n.body
            else:
                yield n

    def count(self, phase=None) -> int:
        return sum(1 for n in self.nodes if phase is None or n.phase == phase)

    def rows(self, numpy_level: bool = False):
        """Table rows ``(index, phase, op, args, outputs, shape, dtype)``."""
        rows = []
        nodes = self.flat_nodes() if numpy_level else self.nodes
        for i, n in enumerate(nodes):
            args = [fmt_arg(a) for a in n.args]
            args += [f"{k}={fmt_arg(v)}" for k, v in n.kwargs.items() if k != "out"]
            if n.kind == "prim":
                shown = [fmt_arg(a) for a in n.args]
                args = [a for a in shown if a != "None"]
            outs = list(n.outputs) or list(n.mutates)
            shape = " ".join(str(o.shape) for o in outs) or "-"
            dtype = " ".join(str(o.dtype) for o in outs) or "-"
            name = ", ".join(o.name for o in outs) or "-"
            if n.mutates and not n.outputs:
                name += " (in place)"
            rows.append((str(i), n.phase, n.op, ", ".join(args), name, shape, dtype))
        return rows

    def tabular(self, numpy_level: bool = False) -> str:
        """The program as a text table (like torch.fx's ``print_tabular``)."""
        head = ("#", "phase", "op", "inputs", "output", "shape", "dtype")
        ins = [(f"in{i}", "input", v.kind, v.name, v.name, str(v.shape), str(v.dtype))
               for i, v in enumerate(self.inputs)]
        body = [head] + ins + self.rows(numpy_level)
        cut = [tuple(c if len(c) <= 48 else c[:45] + "..." for c in r) for r in body]
        widths = [max(len(r[i]) for r in cut) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cut]
        lines.insert(1, "  ".join("-" * w for w in widths))
        outs = ", ".join(v.name for v in self.results) or "-"
        lines.append(f"outputs: {outs}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.tabular()

    def __repr__(self) -> str:
        phases = ", ".join(f"{self.count(p)} {p}" for p in PHASES if self.count(p))
        return f"<Program {self.name}: {len(self.inputs)} inputs, {len(self.nodes)} nodes ({phases})>"
