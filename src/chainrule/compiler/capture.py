"""Record one eager run of a call into a ``Program`` (see program.py for the IR).

The call runs eagerly, once, with a ``Tracer`` installed:

* ``Function.apply`` calls ``Tracer.apply`` (one check in function.py): the primitive is
  recorded as a ``prim`` node whose body is the NumPy calls its ``forward`` made;
* every array of the call is a ``trace.Traced`` view, so NumPy code between primitives (the
  engine's gradient accumulation, comparisons, running statistics, masks) is recorded too
  (record.py);
* ``Optimizer.step``/``zero_grad`` call ``Tracer.host`` (one check each in optimizer.py):
  they are recorded as ``host`` nodes and replayed by calling them (their Python scalars,
  such as Adam's bias corrections, change at every step);
* draws from a ``chainrule.Generator`` are recorded as ``rng`` nodes (fresh at each replay).

A value read into Python (``.item()``, ``bool()``, ``float()``, ``.tolist()``) before any
side effect is a ``guard`` node: the replay recomputes it and runs the call eagerly if it
differs. After a side effect, a read inside a primitive makes it a *unit* (its ``forward``
runs again at replay, units.py); anywhere else it stops the recording, as do printing,
``Tensor.numpy()``, an optimizer step with a closure, hooks registered during the call,
learning-rate scheduler steps and writes into arrays from outside the call: the call
finishes eagerly and the reason is kept (``Tracer.broken``).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .._state import STATE
from ..tensor import Tensor
from . import trace
from .program import Node
from .trace import Traced
from .record import NumpyRecorder
from .track import TrackedValues

_ND = np.ndarray
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # src/chainrule
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))

KEEP = "keep"  # a gradient binding the program leaves as it is
# reads a replay can recompute and compare (printing is not one: it must happen each call)
GUARDS = ("item", "tolist", "tobytes", "__float__", "__int__", "__index__", "__bool__",
          "__complex__", "__contains__")


class Unsupported(RuntimeError):  # noqa: N818  (PyTorch's name)
    """Raised under ``fullgraph=True`` where a call cannot be captured whole (PyTorch's
    ``torch._dynamo.exc.Unsupported``)."""


def user_site() -> str:
    """``file:line`` of the innermost frame outside chainrule and NumPy (the user's code)."""
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not (fn.startswith(_HERE) or fn.startswith(_NUMPY)):
            return f"{os.path.basename(fn)}:{f.f_lineno}"
        f = f.f_back
    return "unknown location"


class _Scope:
    """The body being recorded for one primitive call."""

    __slots__ = ("body", "clean", "first")

    def __init__(self, first):
        self.body = []
        self.clean = True
        self.first = first  # ids of values made inside the primitive start here


class Tracer(TrackedValues, NumpyRecorder):
    """Records one call (see the module docstring). ``start()`` installs it, ``finish()``
    removes every patch and gives the arrays back to their tensors."""

    compiling = True  # (a profiler installed over it answers from its own ``prev``)

    def __init__(self, fullgraph: bool = False):
        self.prev = None  # the tracer installed before (a profiler recording), restored after
        self.recording = False
        self.fullgraph = fullgraph
        self.broken = None  # why this call cannot be replayed (the first reason)
        self.effects = False  # a side effect was recorded: later reads cannot be guards
        self.reading = None  # the Tensor method reading a value now (for messages)
        self.values = []
        self.top = []
        self.nodes = self.top
        self.scope = None
        self._vals = {}  # id(array object) -> Value
        self._objs = {}  # id(array object) -> the object (kept alive: ids stay unique)
        self._obj_of = {}  # value id -> the registered array object
        self._orig = {}  # id(original array of a tensor) -> its Traced view
        self._swaps = []  # (tensor, original array, Traced view)
        self._arg_views = {}  # id(NumPy array argument) -> its Traced view
        self.leaves = []  # tensors whose .grad the program binds at its end
        self._leaf_ids = set()
        self.was_none = []  # (leaf, its .grad was None when the call began)
        self.grads = {}  # id(leaf) -> (leaf, value of the .grad it had)
        self._patches = []
        self._inst = []  # (object, name): instance attributes set by patch_instance

    # -- recording -----------------------------------------------------------------------
    def phase(self) -> str:
        from ..autograd import engine

        return "backward" if engine._DEPTH[0] else "forward"

    def on_read(self, what: str, arr=None, args=(), res=None) -> None:
        """A value went into Python. Before any side effect (in a primitive or not): a
        guard (the replay recomputes the value and runs the call eagerly if it differs).
        Otherwise, inside a primitive: replay that primitive as a unit; elsewhere the call
        cannot be replayed."""
        guardable = (arr is not None and what in GUARDS and not self.effects
                     and self.phase() == "forward")
        if self.scope is not None and not guardable:
            self.scope.clean = False
            return
        if guardable:
            node = Node("guard", what, (self.value_of(arr),) + self.ref(args),
                        info={"expect": res}, phase="forward")
            self.nodes.append(node)
            return
        name = self.reading or {"__float__": "float()", "__int__": "int()",
                                "__bool__": "bool()", "__index__": "an index",
                                "__repr__": "printing", "__str__": "printing",
                                "__format__": "formatting"}.get(
            what, f".{what}()" if what.isidentifier() else what)
        self.stop(f"reads a tensor's value in Python ({name})")

    def stop(self, reason: str) -> None:
        """This call cannot be replayed: keep running it eagerly, remember why."""
        if self.broken is None:
            self.broken = f"{reason} at {user_site()}"
            if os.environ.get("CHAINRULE_COMPILE_DEBUG"):  # where, in full
                import traceback

                traceback.print_stack(sys._getframe(1))
        self.recording = False
        if self.fullgraph:
            raise Unsupported(f"chainrule.compile(fullgraph=True): {self.broken}")

    # -- the hooks in Function.apply and Optimizer -----------------------------------------
    def apply(self, cls, args):
        STATE.tracer = self.prev
        try:
            if not self.recording or self.scope is not None:
                return cls.apply(*args)
            return self._apply(cls, args)
        finally:
            STATE.tracer = self

    def _apply(self, cls, args):
        from .units import unit_outputs

        for a in args:
            if isinstance(a, Tensor) and a.requires_grad and a.grad_fn is None \
                    and id(a) not in self._leaf_ids and self.phase() == "forward":
                self.discover(a)
        in_refs = tuple(self.ref(a) for a in args)
        scope = self.scope = _Scope(len(self.values))
        outer, self.nodes = self.nodes, scope.body
        try:
            out = cls.apply(*args)
        finally:
            self.nodes, self.scope = outer, None
        outs = out if isinstance(out, tuple) else (out,)
        ctx = next((t.grad_fn for t in outs if isinstance(t, Tensor) and t.grad_fn is not None
                    and type(t.grad_fn) is cls), None)
        needs = tuple(ctx.needs_input_grad[:len(args)]) if ctx is not None else None
        node = Node("prim", cls, in_refs, phase=self.phase(), info={"needs": needs})
        if scope.clean and all(isinstance(t, Tensor) for t in outs):
            node.body = scope.body
            node.outputs = tuple(self.value_of(t._data) for t in outs)
        else:
            unit_outputs(self, node, outs, ctx, scope.first)
        self.nodes.append(node)
        return out

    def host(self, obj, name, *args, **kwargs):
        STATE.tracer = self.prev
        method = getattr(type(obj), name)
        try:
            if not self.recording:
                return method(obj, *args, **kwargs)
            if name == "step" and any(callable(a) for a in (*args, *kwargs.values())):
                self.stop(f"{type(obj).__name__}.step(closure) re-evaluates the model")
                return method(obj, *args, **kwargs)
            if name != "zero_grad":  # zero_grad twice is zero_grad once: a replay can stop after it
                self.effects = True
            params = [p for g in obj.param_groups for p in g["params"]]
            binds = [(p, self.binding_of(p)) for p in params]
            node = Node("host", (obj, name), args, kwargs, phase="optimizer",
                        info={"bindings": binds})
            node.mutates = tuple(self.value_of(p._data) for p in params)
            self.recording = False
            try:
                result = method(obj, *args, **kwargs)
            finally:
                self.recording = True
            self.nodes.append(node)
            return result
        finally:
            STATE.tracer = self

    def patch_instance(self, obj, name) -> None:
        """Route ``obj.name(...)`` (an optimizer overriding step/zero_grad) to ``host``."""
        tracer = self

        def call(*args, **kwargs):
            return tracer.host(obj, name, *args, **kwargs)

        obj.__dict__[name] = call
        self._inst.append((obj, name))

    def binding_of(self, t: Tensor):
        """What ``t.grad`` holds now: None, a value, or KEEP (an array from before)."""
        g = t.grad
        if g is None:
            return None
        v = self.value_of(g._data)
        if v.root().kind == "const" or (v.kind == "grad" and v.data is t):
            return KEEP  # an array from before the call, or t's own gradient from before
        return v

    # -- install / remove ----------------------------------------------------------------
    def patch(self, owner, name, new) -> None:
        self._patches.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, new)

    def start(self) -> None:
        from .patches import install

        trace.patch_numpy()
        install(self)
        trace.set_tracer(self)
        self.prev = STATE.tracer
        STATE.tracer = self
        self.recording = True

    def finish(self) -> None:
        """Remove the patches; give every tensor its own array back."""
        self.recording = False
        STATE.tracer = self.prev
        trace.set_tracer(None)
        trace.unpatch_numpy()
        for owner, name, old in reversed(self._patches):
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        self._patches = []
        for obj, name in self._inst:
            obj.__dict__.pop(name, None)
        self._inst = []
        replaced = None
        for t, arr, obj in reversed(self._swaps):
            if t._data is obj:
                t._data = arr
                continue
            v = self.lookup(obj)
            if v is not None and v.kind != "grad":
                replaced = v  # `p.data = ...`: the replay would not rebind the tensor
            if isinstance(t._data, Traced):
                t._data = _ND.view(t._data, _ND)
        if replaced is not None and self.broken is None:
            self.broken = (f"the call replaces the array of {replaced.name} (tensor.data = "
                           "...); update it in place (tensor.copy_, or under no_grad: -=)")


_MISSING = object()
