"""What records the events while a profiler is active.

``Function.apply`` begins with ``if STATE.tracer is not None: return
STATE.tracer.apply(cls, args)``; a recording profiler installs a ``Collector`` there, so
the hot path carries no profiler check. ``Collector.apply`` opens an event, runs the call
through whatever was installed before it (``prev``: nothing, or a ``chainrule.compile``
recorder, or an outer profiler) and closes the event. The same object receives the other
two hooks: ``host`` (``Optimizer.step``/``zero_grad``, which chainrule.compile also
records: here the ``Optimizer.step#SGD.step`` ranges) and ``node_backward`` (the engine
runs each backward node through it: the ``autograd::engine::evaluate_function: ...``
ranges, so that operations a backward rule calls nest under their node).

Events nest per thread: each thread has its own stack of open ranges.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from .._state import STATE
from ..autograd.hooks import _DEPTH  # > 0 while the engine runs a backward pass
from ._events import FunctionEvent
from ._names import node_name, op_names

_ACTIVE = []  # the collectors recording now (outermost first): record_function opens ranges in each
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # src/chainrule
_ns = time.perf_counter_ns
_ident = threading.get_ident


def _shape(a):
    d = getattr(a, "_data", None)
    if d is not None and hasattr(d, "shape"):
        return list(d.shape)
    if isinstance(a, (list, tuple)) and a and all(hasattr(x, "_data") for x in a):
        return [list(x._data.shape) for x in a]
    return []


def _py_stack():
    """``file(line): function`` of the user's frames, innermost first (PyTorch's layout)."""
    out = []
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_HERE):
            out.append(f"{fn}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return out


def _flops(names, args):
    """2 M N K for the matrix products (``with_flops``), 0 for other operations."""
    if names[-1] not in ("aten::mm", "aten::addmm", "aten::bmm"):
        return 0
    try:
        a, b = args[0]._data, args[1]._data
    except (AttributeError, IndexError):
        return 0
    if names[-1] == "aten::addmm":  # Linear: x (..., K) and w (N, K)
        return 2 * (a.size // a.shape[-1]) * a.shape[-1] * b.shape[0]
    k = a.shape[-1] if a.ndim else 1
    return 2 * (a.size // max(k, 1)) * k * (b.shape[-1] if b.ndim else 1)


class Collector:
    """The ``STATE.tracer`` of a recording profiler (see the module docstring)."""

    def __init__(self, record_shapes=False, with_stack=False, profile_memory=False,
                 with_flops=False):
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.profile_memory = profile_memory
        self.with_flops = with_flops
        self.events = []  # in start order
        self.prev = None
        self._stacks = {}  # thread id -> open events
        self._next_id = 0
        self._t0 = _ns()
        self._names = {}  # cls -> its names when they do not depend on the arguments

    @property
    def compiling(self):
        """True when a ``chainrule.compile`` recording is installed below this profiler."""
        return getattr(self.prev, "compiling", False)

    # -- install / remove ---------------------------------------------------------------
    @property
    def installed(self):
        return any(c is self for c in _ACTIVE)

    def install(self):
        self.prev = STATE.tracer
        STATE.tracer = self
        _ACTIVE.append(self)

    def remove(self):
        """Uninstall (also after an exception, or when a later tracer did not restore it)."""
        for k, c in enumerate(_ACTIVE):
            if c is self:
                del _ACTIVE[k]
                break
        if STATE.tracer is self:
            STATE.tracer = self.prev
        else:  # someone installed over us and is still there: unlink us from their chain
            t = STATE.tracer
            while t is not None and getattr(t, "prev", None) is not self:
                t = getattr(t, "prev", None)
            if t is not None:
                t.prev = self.prev
        for stack in self._stacks.values():  # ranges left open by an exception
            end = self._now()
            while stack:
                stack.pop().end_us = end

    # -- events -------------------------------------------------------------------------
    def _now(self):
        return (_ns() - self._t0) / 1000.0

    def open(self, name, shapes=None, kind="cpu_op", flops=0):
        tid = _ident()
        stack = self._stacks.get(tid)
        if stack is None:
            stack = self._stacks[tid] = []
        self._next_id += 1
        evt = FunctionEvent(self._next_id, name, tid, 0.0, input_shapes=shapes,
                            stack=_py_stack() if self.with_stack else None, kind=kind,
                            flops=flops)
        if name.startswith("ProfilerStep#"):  # PyTorch's events say "ProfilerStep*" (the trace keeps #N)
            evt.trace_name, evt.name = name, "ProfilerStep*"
        if stack:
            parent = stack[-1]
            evt.cpu_parent = parent
            parent.cpu_children.append(evt)
        stack.append(evt)
        self.events.append(evt)
        evt.start_us = self._now()
        return evt

    def close(self, evt, result=None):
        evt.end_us = self._now()
        stack = self._stacks.get(evt.thread)
        if stack and stack[-1] is evt:
            stack.pop()
        elif stack and evt in stack:
            del stack[stack.index(evt):]
        if result is not None and self.profile_memory:
            outs = result if isinstance(result, tuple) else (result,)
            evt.cpu_memory_usage = sum(getattr(getattr(o, "_data", None), "nbytes", 0)
                                       for o in outs)

    # -- the hooks ----------------------------------------------------------------------
    def apply(self, cls, args):
        names = op_names(cls, args, _DEPTH[0] > 0)
        shapes = [_shape(a) for a in args] if self.record_shapes else None
        flops = _flops(names, args) if self.with_flops else 0
        evts = [self.open(n, shapes, flops=flops if k == len(names) - 1 else 0)
                for k, n in enumerate(names)]
        prev = self.prev
        out = None
        try:
            if prev is None and not getattr(cls, "_arrays", True) and not STATE.vmap_level:
                # a user Function: its forward calls operations; keep recording them
                from ..autograd.function.apply import _apply_user

                out = _apply_user(cls, args)
            else:
                STATE.tracer = prev
                try:
                    out = cls.apply(*args)
                finally:
                    STATE.tracer = self
        finally:
            for evt in reversed(evts):
                self.close(evt, out)
        return out

    def host(self, obj, name, *args, **kwargs):
        evt = self.open(f"Optimizer.{name}#{type(obj).__name__}.{name}", kind="user_annotation")
        prev = self.prev
        if name == "step" and args and callable(args[0]):  # the closure's operations count
            closure = args[0]

            def traced_closure():
                outer = STATE.tracer
                STATE.tracer = self
                try:
                    return closure()
                finally:
                    STATE.tracer = outer

            args = (traced_closure,) + args[1:]
        STATE.tracer = prev
        try:
            if prev is not None:
                return prev.host(obj, name, *args, **kwargs)
            return getattr(type(obj), name)(obj, *args, **kwargs)
        finally:
            STATE.tracer = self
            self.close(evt)

    def node_backward(self, node, out_grads):
        """Run one backward node inside its ranges (called by the engine)."""
        name = node_name(node)
        outer = self.open("autograd::engine::evaluate_function: " + name)
        inner = self.open(name)
        outer_hook = getattr(self.prev, "node_backward", None)  # an outer profiler's ranges too
        try:
            if outer_hook is not None:
                return outer_hook(node, out_grads)
            return type(node).backward(node, *out_grads)
        finally:
            self.close(inner)
            self.close(outer)
