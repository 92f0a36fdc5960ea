"""``CompiledFunction``: the programs recorded for one function, chosen by guards, replayed.

A call computes its key (guards.py). A program recorded for that key whose remaining
checks pass (roots unchanged, parameter arrays unchanged, gradients present or absent as
when recorded) is replayed; otherwise the call runs eagerly while being recorded
(capture.py) and the new program is planned (replay.py) and kept, up to
``recompile_limit`` programs per function. A call that cannot be recorded runs eagerly,
says why once, and its key is remembered so later calls run eagerly at once.
"""

from __future__ import annotations

import time
import types
import warnings
from operator import is_

from .._state import STATE
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from . import joint
from .capture import KEEP, Tracer
from .guards import data_of, find_roots, signature, state_key
from .program import Program, Value
from .replay import GuardMissError, PlanError, flatten, plan
from .spec import build, make_spec, plainify

_NOT_RUN = object()


class CompileWarning(UserWarning):
    """Issued once per reason when a compiled call runs eagerly (PyTorch's graph break)."""


class _Eager:
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


def refusal(roots, leaves) -> str | None:
    """Why a call with these roots cannot be recorded at all (checked before running)."""
    from ..nn.hooks import _GLOBAL_FORWARD_HOOKS, _GLOBAL_FORWARD_PRE_HOOKS

    if STATE.fw_level > 0:
        return "forward-mode AD (forward_ad.dual_level) is active"
    if STATE.anomaly:
        return "anomaly detection is on"
    if _GLOBAL_FORWARD_HOOKS or _GLOBAL_FORWARD_PRE_HOOKS:
        return "global module forward hooks are registered"
    for m in roots.modules:
        if m._forward_hooks or m._forward_pre_hooks:
            return f"{type(m).__name__} has forward hooks (their Python code would not run)"
    for t in leaves:
        h = t._hooks
        if h is not None and (h.pre or h.post):
            return f"a tensor of shape {tuple(t.shape)} has gradient hooks"
    return None


class Entry:
    """One recorded, planned program and what a call must satisfy to replay it."""

    def __init__(self, program, plan_, live, binds, spec, none_guards, roots, n_out,
                 joint_info=None):
        self.program = program
        self.plan = plan_
        self.live = live  # tensors whose .grad array is passed to each call
        self.binds = binds  # (tensor, result index | None | KEEP)
        self.spec = spec
        self.none_guards = none_guards  # (tensor, grad is None when recorded)
        self.roots = roots
        self.n_out = n_out
        self.joint = joint_info
        self.misses = 0

    def ok(self) -> bool:
        if not self.plan.valid() or not self.roots.still():
            return False
        for t, was_none in self.none_guards:
            if (t.grad is None) != was_none:
                return False
        for t in self.live:
            if t.grad is None:
                return False
        return True

    def __call__(self, tensors):
        arrays = [data_of(t) for t in tensors]
        for t in self.live:
            arrays.append(t.grad._data)
        res = self.plan.run(*arrays)
        for t, k in self.binds:
            if k is None:
                t.grad = None
            elif k is not KEEP:
                t.grad = Tensor._make(res[k], False, None, 0)
        node = None
        if self.joint is not None:
            bw, n_before, targets, which, meta = self.joint
            edges = [joint.edge_of(tensors[t] if isinstance(t, int) else t) for t in targets]
            node = joint.make_node(bw, list(res[n_before:]), edges, which, meta)
        return build(self.spec, res, tensors, node, self.plan.copies)


class CompiledFunction:
    """A function compiled with ``chainrule.compile``: call it as the function itself."""

    def __init__(self, fn, fullgraph=False, recompile_limit=8, options=None, name=None,
                 eager=False):
        self._fn = fn
        self._eager_only = eager
        self._fullgraph = fullgraph
        self._limit = recompile_limit
        self._buffers = bool((options or {}).get("buffers", True))
        self._name = name or getattr(fn, "__name__", type(fn).__name__)
        self._cache = {}
        self._said = set()
        self._roots = None
        self._params = ()
        self.compile_times = []
        self.last = None  # the entry recorded last (chainrule.export reads it)

    @property
    def programs(self) -> list:
        """The recorded programs (``print(f.programs[0])`` shows one as a table)."""
        return [e.program for v in self._cache.values() if type(v) is list for e in v]

    def reset(self) -> None:
        self._cache = {}
        self._roots = None
        self._params = ()

    def __get__(self, obj, objtype=None):  # a compiled function in a class is a method
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if (STATE.tracer is not None and STATE.tracer.compiling) or _disabled[0] \
                or self._eager_only:  # (a profiler alone is not a capture)
            return self._fn(*args, **kwargs)  # inside another capture: record it inline
        sig, tensors = signature(args, kwargs)
        roots = self._roots
        key = (sig, state_key(roots, self._params)) if roots is not None else None
        entries = self._cache.get(key) if key is not None else None
        if entries is not None:
            if type(entries) is _Eager:
                return self._fn(*args, **kwargs)
            for e in entries:
                if e.ok():
                    try:
                        return e(tensors)
                    except GuardMissError:  # a value read in Python differs: run this call eagerly
                        return self._missed(key, e, args, kwargs)
        return self._record(key, args, kwargs, tensors)

    def _missed(self, key, entry, args, kwargs):
        entry.misses += 1
        if entry.misses >= 8:
            self._cache[key] = _Eager("values read in Python keep changing")
            self._say("a tensor value the program depends on (read with .item(), bool(), "
                      "float() ...) keeps changing between calls")
        return self._fn(*args, **kwargs)

    def _say(self, reason: str) -> None:
        if reason not in self._said:
            self._said.add(reason)
            warnings.warn(f"chainrule.compile: {self._name} runs eagerly: {reason}",
                          CompileWarning, stacklevel=4)

    def _eager(self, key, reason, args, kwargs, done=_NOT_RUN):
        """Remember that calls with this key run eagerly; return the eager result (``done``
        when the recording already ran the call)."""
        if self._fullgraph:
            from .capture import Unsupported

            raise Unsupported(f"chainrule.compile(fullgraph=True): {self._name}: {reason}")
        self._say(reason)
        if key is not None:
            self._cache[key] = _Eager(reason)
        return self._fn(*args, **kwargs) if done is _NOT_RUN else done

    def _record(self, key, args, kwargs, tensors):
        roots = find_roots(self._fn, args, kwargs)
        input_ids = {id(t) for t in tensors}
        named = [n for n in roots.named_tensors() if id(n[1]) not in input_ids]
        params = [t for _, t, _ in named]
        same = (self._roots is not None and len(params) == len(self._params)
                and all(map(is_, params, self._params))
                and all(map(is_, roots.modules, self._roots.modules)))
        if key is None or not same:  # first call, or the call reaches other objects now
            self._roots, self._params = roots, params
            key = (signature(args, kwargs)[0], state_key(roots, params))
            entries = self._cache.get(key)
            if type(entries) is _Eager:
                return self._fn(*args, **kwargs)
        n_programs = sum(len(v) for v in self._cache.values() if type(v) is list)
        if n_programs >= self._limit:
            return self._eager(key, f"recompile_limit ({self._limit}) reached", args, kwargs)
        leaves = [t for t in params if t.requires_grad and t.grad_fn is None]
        leaves += [t for i, t in enumerate(tensors) if isinstance(t, Tensor) and t.requires_grad
                   and t.grad_fn is None and all(u is not t for u in tensors[:i])]
        why = refusal(roots, leaves)
        if why:
            return self._eager(key, why, args, kwargs)
        t0 = time.perf_counter()
        tr = Tracer(self._fullgraph)
        for opt in roots.optimizers:
            for name in ("step", "zero_grad"):
                if getattr(type(opt), name) is not getattr(Optimizer, name):
                    tr.patch_instance(opt, name)
        flags = [m.training for m in roots.modules]
        tr.start()
        try:
            ins = [tr.track(t, "input", f"x{i}") if isinstance(t, Tensor)
                   else tr.track_array(t, f"x{i}") for i, t in enumerate(tensors)]
            if len(ins) != sum(isinstance(t, Tensor) for t in tensors):
                args, kwargs = tr.substitute_arrays(args), tr.substitute_arrays(kwargs)
            for name, t, kind in named:
                if id(t) not in input_ids:
                    tr.track(t, kind, name)
            for t in leaves:
                tr.leaf(t)
            out = self._fn(*args, **kwargs)
            jt = self._joint(tr, out, tensors, params) if tr.broken is None else None
            binds = [(t, tr.binding_of(t)) for t in tr.leaves]
            spec, out_vals, diff = make_spec(out, tr, tensors, params, jt)
        finally:
            tr.finish()
        plainify(out)
        if tr.broken is None and flags != [m.training for m in roots.modules]:
            tr.broken = ("the call switches a module between train() and eval() (a replay "
                         "would not)")
        if tr.broken is not None:
            return self._eager(key, tr.broken, args, kwargs, out)
        try:
            entry = self._build(tr, ins, tr.grads, binds, tr.was_none, spec, out_vals, diff,
                                jt, roots, tensors)
        except PlanError as e:
            return self._eager(key, str(e), args, kwargs, out)
        roots.freeze()
        self.compile_times.append(time.perf_counter() - t0)
        entries = self._cache.get(key)
        if type(entries) is not list:
            entries = self._cache[key] = []
        entries.insert(0, entry)
        self.last = entry
        return out

    def _joint(self, tr, out, tensors, params):
        """Record the backward of outputs that require grad (see joint.py)."""
        if not STATE.grad_enabled:
            return None
        outs = []
        _tensors_in(out, outs)
        outs = [t for t in outs if t.requires_grad and t.grad_fn is not None
                and joint.graph_alive(t)]
        targets = [t for t in params if t.requires_grad and t.grad_fn is None]
        targets += [i for i, t in enumerate(tensors) if isinstance(t, Tensor) and t.requires_grad]
        if not outs or not targets:
            return None
        objs = [tensors[t] if isinstance(t, int) else t for t in targets]
        mark = len(tr.top)
        seeds, grads = joint.record_backward(tr, outs, objs)
        return {"mark": mark, "outs": outs, "seeds": seeds, "targets": targets, "grads": grads}

    def _build(self, tr, ins, grads, binds, was_none, spec, out_vals, diff, jt, roots, tensors):
        nodes = tr.top if jt is None else tr.top[:jt["mark"]]
        used = {v.root() for n in flatten(tr.top) for v in n.values_in() + list(n.mutates)}
        used.update(v.root() for v in out_vals)
        used.update(b.root() for n in flatten(tr.top) if n.kind == "host"
                    for _, b in n.info["bindings"] if isinstance(b, Value))
        result_binds, bind_vals = [], []
        touched = any(n.kind == "host" or n.phase == "backward" for n in nodes)
        for t, b in binds:
            g = grads.get(id(t))
            if isinstance(b, Value) and (g is None or b is not g[1]):
                result_binds.append((t, len(out_vals) + len(bind_vals)))
                bind_vals.append(b)
                touched = True
            elif b is None and g is not None:
                result_binds.append((t, None))
                touched = True
        live = [g for g in grads.values() if g[1] in used]
        none_guards = was_none if touched else []
        entry_vals = list(ins) + [v for _, v in live]
        results = list(out_vals) + bind_vals
        jinfo = None
        if jt is not None:
            bw_nodes = tr.top[jt["mark"]:]
            res = joint.residuals(bw_nodes, set(jt["seeds"]), flatten)
            which, bw_results = [], []
            for g in jt["grads"]:
                which.append(None if g is None else len(bw_results))
                if g is not None:
                    bw_results.append(g)
            bw = plan(bw_nodes, list(jt["seeds"]) + res, bw_results, f"{self._name}_backward",
                      buffers=self._buffers)
            meta = [(t._data.shape, t._data.dtype) for t in jt["outs"]]
            jinfo = (bw, len(results), jt["targets"], which, meta)
            results += res
        fw = plan(nodes, entry_vals, results, self._name, buffers=self._buffers)
        program = Program(tr.values, tr.top, list(ins), spec, binds, self._name, out_vals)
        entry = Entry(program, fw, [t for t, _ in live], result_binds, spec, none_guards,
                      roots, len(out_vals), jinfo)
        entry.out_vals = list(out_vals)
        return entry


def _tensors_in(x, out, depth=0):
    if isinstance(x, Tensor):
        out.append(x)
    elif isinstance(x, (tuple, list)) and depth < 4:
        for i in x:
            _tensors_in(i, out, depth + 1)
    elif isinstance(x, dict) and depth < 4:
        for i in x.values():
            _tensors_in(i, out, depth + 1)


_disabled = [False]  # inside chainrule.compiler.disable(): every call runs eagerly
