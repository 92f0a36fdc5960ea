"""``Function``: the one class every differentiable operation is, built-in or user-written.

A call ``F.apply(*args)`` runs ``F.forward(ctx, *args)``; when grad mode is on and some
tensor argument requires grad, the instance ``ctx`` becomes the graph node (the output's
``grad_fn``) remembering, per argument, the edge to the node or leaf that produced it.
When forward-mode AD is active and some argument carries a tangent, ``F.jvp`` is called
right away with the argument tangents.

Two kinds of subclass share this machinery:

* built-in primitives (``chainrule.ops``) set ``_arrays = True``: ``forward`` receives
  NumPy arrays for tensor arguments and returns an array (or a tuple of arrays);
* user functions (PyTorch style) receive tensors (with grad mode off) and return tensors.

In both, ``backward`` and ``jvp`` receive and return *tensors* and are written with tensor
operations, so that with ``create_graph=True`` the backward pass is itself recorded.

``ctx.save_for_backward(...)`` may be given inputs, outputs or new arrays/tensors; an input
is saved as the input tensor itself, an output as a reference to the output (no reference
cycle), anything else as a constant tensor. Saved values are released after backward unless
``retain_graph=True``.
"""

from __future__ import annotations

import weakref

import numpy as np

from .grad_mode import STATE

_FREED = object()  # sentinel: saved values released by a backward pass


class _OutRef:
    """Marks "output k" inside ``ctx._saved`` (the output itself is held weakly)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


class Function:
    """Base class of differentiable operations (PyTorch's ``torch.autograd.Function``).

    Subclass it and write static ``forward(ctx, *args)``, ``backward(ctx, *grad_outputs)``
    and optionally ``jvp(ctx, *tangents)``, then call ``MyFn.apply(*args)``::

        class Cube(cr.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2
    """

    _arrays = False  # True for built-in primitives: forward works on NumPy arrays
    # per-call state, with class-level defaults so a call sets only what it uses
    _needs = None
    _edges = None
    _to_save = None
    _non_diff = None
    _saved = None
    _versions = None
    _out_fw = None
    _out_refs = None
    _out_arrays = None
    _n_out = 1
    _out_meta = None
    _tensor_hooks = None
    _retained = None
    _node_hooks = None
    _trace = None
    _materialize = True
    _dirty = None

    # -- ctx API -------------------------------------------------------------------
    def save_for_backward(self, *values):
        self._to_save = values

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Saved intermediate values are "
                "freed after .backward() or autograd.grad(); pass retain_graph=True to the "
                "first call if you need to backward through the graph again."
            )
        if saved is None:
            return ()
        out = []
        versions = self._versions
        for i, s in enumerate(saved):
            if s.__class__ is _OutRef:
                s = self._output(s.k)
            if versions is not None and versions[i] is not None and s._version != versions[i]:
                raise _modified_error(self, s, versions[i])
            out.append(s)
        return tuple(out)

    def mark_non_differentiable(self, *outputs):
        self._non_diff = outputs

    def set_materialize_grads(self, value: bool):
        """False: ``backward`` gets None (not zeros) for outputs that received no gradient."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """Declare the inputs ``forward`` modified in place (and returns): each becomes this
        node's output, with its version bumped, as PyTorch's in-place custom Functions."""
        self._dirty = tensors

    @property
    def needs_input_grad(self):
        """Per argument, whether its gradient is needed (derived from the graph edges)."""
        if self._needs is None:
            edges = self._edges
            self._needs = (tuple([e is not None for e in edges]) if edges is not None
                           else (False,) * 16)
        return self._needs

    @needs_input_grad.setter
    def needs_input_grad(self, value):
        self._needs = tuple(value)

    # -- graph node API ------------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__.lstrip("_") + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        result = []
        for e in self._edges:
            if e is None:
                result.append((None, 0))
            elif e[1] < 0:
                result.append((_AccumulateGrad(e[0]), 0))
            else:
                result.append((e[0], e[1]))
        return tuple(result)

    def register_hook(self, fn):
        """Hook called as ``fn(grad_inputs, grad_outputs)`` after this node's backward."""
        self._node_hooks = (self._node_hooks or ()) + (fn,)

    def _output(self, k):
        ref = self._out_refs[k]
        t = ref() if ref is not None else None
        if t is None:  # the output tensor is gone: rebuild it (same array, same node)
            from ..tensor import Tensor

            t = Tensor._make(self._out_arrays[k], True, self, k)
            fw = self._out_fw[k] if self._out_fw is not None else None
            t._fw = fw
        return t

    def _release(self):
        if self._saved is not None:
            self._saved = _FREED
            self._out_arrays = None

    # -- the call ------------------------------------------------------------------
    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(f"{type(ctx).__name__} does not implement backward")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError(
            f"{type(ctx).__name__} does not implement jvp, so it cannot be used in forward-mode AD"
        )

    @classmethod
    def apply(cls, *args):
        if STATE.tracer is not None:  # chainrule.compile is recording this call
            return STATE.tracer.apply(cls, args)
        if STATE.vmap_level:  # inside vmap: batched arguments go to the batching rules
            out = _vmap_apply(cls, args)
            if out is not NotImplemented:
                return out
        if not cls._arrays:
            return _apply_user(cls, args)
        ctx = _new(cls)
        record = False
        fw = False
        # one pass over the arguments collects the arrays and, when grad mode is on, the
        # graph edges: (target, output index, shape, dtype) per argument that requires grad,
        # where target is the producing node, or the leaf tensor itself with index -1
        vals = []
        if STATE.grad_enabled:
            edges = []
            for a in args:
                if isinstance(a, Tensor):
                    d = a._data
                    vals.append(d)
                    if a._fw is not None:
                        fw = True
                    if a.requires_grad:
                        record = True
                        if a._view is not None and a._view[2] != a._vc[0]:
                            _refresh_view(a)  # its base was modified in place since
                        fn = a.grad_fn
                        edges.append((a, -1, d.shape, d.dtype) if fn is None
                                     else (fn, a._out_idx, d.shape, d.dtype))
                    else:
                        edges.append(None)
                else:
                    vals.append(a)
                    edges.append(None)
            ctx._edges = edges  # so needs_input_grad is right inside forward (and not cached wrong)
        else:
            edges = None
            for a in args:
                if isinstance(a, Tensor):
                    vals.append(a._data)
                    if a._fw is not None:
                        fw = True
                else:
                    vals.append(a)
        raw = cls.forward(ctx, *vals)
        if fw:
            fw = STATE.fw_level > 0
        if raw.__class__ is np.ndarray and not fw and not STATE.anomaly:
            # the common case, inline: one array output, reverse mode only
            out = _new(Tensor)
            out._data = raw
            out.grad = None
            out._out_idx = 0
            out._vc = None
            out._view = None
            out._hooks = None
            out._fw = None
            out._retains = False
            if record and raw.dtype.kind == "f" and (
                    ctx._non_diff is None or not any(raw is n for n in ctx._non_diff)):
                out.requires_grad = True
                out.grad_fn = ctx
            else:
                out.requires_grad = False
                out.grad_fn = None
                if not record:
                    return out
            to_save = ctx._to_save
            if to_save is not None:
                _save(ctx, to_save, args, vals, (raw,), [raw], [out])
            return out
        return _finish(cls, ctx, args, vals, raw, record, fw, edges)


def _apply_user(cls, args):
    """``apply`` of a user Function (PyTorch style): forward gets tensors, grad mode off."""
    ctx = _new(cls)
    record = False
    fw = False
    edges = [] if STATE.grad_enabled else None
    for a in args:
        is_t = isinstance(a, Tensor)
        if is_t and a._fw is not None:
            fw = True
        if edges is not None:
            if is_t and a.requires_grad:
                record = True
                if a._view is not None and a._view[2] != a._vc[0]:
                    _refresh_view(a)
                fn = a.grad_fn
                d = a._data
                edges.append((a, -1, d.shape, d.dtype) if fn is None
                             else (fn, a._out_idx, d.shape, d.dtype))
            else:
                edges.append(None)
    ctx.needs_input_grad = tuple([record and e is not None for e in edges or ()]) or (
        (False,) * len(args))
    prev = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        if getattr(cls, "setup_context", None) is not None:  # forward without ctx
            raw = cls.forward(*args)
            cls.setup_context(ctx, args, raw)
        else:
            raw = cls.forward(ctx, *args)
    finally:
        STATE.grad_enabled = prev
    if ctx._dirty is None:
        return _finish(cls, ctx, args, args, raw, record, fw and STATE.fw_level > 0, edges)
    return _dirty_outputs(cls, ctx, args, raw, record, fw and STATE.fw_level > 0, edges)


def _dirty_outputs(cls, ctx, args, raw, record, fw, edges):
    """``mark_dirty``: the inputs forward changed in place come back as themselves, now the
    outputs of this node (the edges already point at their old history)."""
    from .._inplace import _adopt_output, _bump

    for t in ctx._dirty:
        if STATE.grad_enabled and t.requires_grad and t.grad_fn is None:
            raise RuntimeError(
                f"{cls.__name__}: a leaf Variable that requires grad is being used in an "
                "in-place operation (mark_dirty); clone it first, or call under no_grad"
            )
        _bump(t, cls.__name__)
    result = _finish(cls, ctx, args, args, raw, record, fw, edges)
    single = not isinstance(result, tuple)
    outs = [result] if single else list(result)
    raws = raw if isinstance(raw, tuple) else (raw,)
    for k, r in enumerate(raws):
        if any(r is t for t in ctx._dirty):
            out = outs[k]
            r.grad_fn, r._out_idx, r.requires_grad = out.grad_fn, out._out_idx, out.requires_grad
            r._fw = out._fw
            if out.grad_fn is ctx:
                _adopt_output(ctx, k, r)
            outs[k] = r
    return outs[0] if single else tuple(outs)


def _finish(cls, ctx, args, vals, raw, record, fw, edges):
    """The general end of ``apply``: several outputs, forward mode, anomaly mode."""
    if raw.__class__ is not tuple:
        single = True
        if raw.__class__ is not np.ndarray:
            raw_arr = raw._data if isinstance(raw, Tensor) else np.asarray(raw)
        else:
            raw_arr = raw
        out_arrays = [raw_arr]
        outs_raw = (raw,)
    else:
        single = False
        outs_raw = raw
        out_arrays = [_as_array(o._data if isinstance(o, Tensor) else o) for o in raw]
    if STATE.anomaly:
        from .anomaly import check_forward

        check_forward(cls, args, out_arrays)

    if not (record or fw):
        if single:
            return _make(out_arrays[0], False, None, 0)
        return tuple(_make(a, False, None, 0) for a in out_arrays)

    non_diff = ctx._non_diff
    outs = []
    for k, a in enumerate(out_arrays):
        diff = record and a.dtype.kind == "f"
        if diff and non_diff is not None and any(outs_raw[k] is n for n in non_diff):
            diff = False
        outs.append(_make(a, diff, ctx if diff else None, k))
    if record:
        ctx._edges = edges
        if not single:
            ctx._n_out = len(outs)
            ctx._out_meta = [(a.shape, a.dtype) for a in out_arrays]
        if STATE.anomaly:
            from .anomaly import record_creation

            record_creation(ctx, args)
    to_save = ctx._to_save
    if to_save is not None:
        _save(ctx, to_save, args, vals, outs_raw, out_arrays, outs)
    if fw:
        from .forward_ad import run_jvp

        run_jvp(cls, ctx, args, outs)
    return outs[0] if single else tuple(outs)


def _save(ctx, to_save, args, vals, outs_raw, out_arrays, outs):
    """Store what forward gave ``save_for_backward``: arguments as the argument tensors
    (with their versions), outputs as ``_OutRef`` (held weakly), anything else as constant
    tensors."""
    ctx._to_save = None
    saved = []
    versions = []
    need_refs = False
    for s in to_save:
        k = 0
        for v in vals:  # the common case: an argument's array (or tensor) itself
            if s is v:
                break
            k += 1
        if k < len(vals) and isinstance(args[k], Tensor):
            a = args[k]
            vc = a._vc
            saved.append(a)
            versions.append(0 if vc is None else vc[0])
            continue
        v, ver = _map_saved(s, args, vals, outs_raw, out_arrays)
        if v.__class__ is _OutRef:
            need_refs = True
        saved.append(v)
        versions.append(ver)
    ctx._saved = saved
    ctx._versions = versions
    if need_refs:
        ctx._out_arrays = out_arrays
        ctx._out_refs = [weakref.ref(t) for t in outs]


def _modified_error(node, s, expected):
    """PyTorch's error for a saved tensor changed in place, naming the in-place operation."""
    vc = s._vc
    op = f" ({vc[1]})" if vc is not None and vc[1] else ""
    fn = s.grad_fn
    which = f", which is output {s._out_idx} of {fn.name()}," if fn is not None else ""
    return RuntimeError(
        f"{node.name()}: one of the variables needed for gradient computation has been "
        f"modified by an inplace operation{op}: [{s.type()} {list(s.shape)}]{which} is at "
        f"version {s._version}; expected version {expected} instead. Use the out-of-place "
        "form, or .clone() the tensor before modifying it in place."
    )


_BATCHED = []


def _vmap_apply(cls, args):
    if not _BATCHED:
        from ..func._dispatch import batched_apply

        _BATCHED.append(batched_apply)
    return _BATCHED[0](cls, args)


def _as_array(a):
    if isinstance(a, np.ndarray):
        return a
    return np.asarray(a)


def _map_saved(s, args, vals, outs_raw, out_arrays):
    """Map a value given to save_for_backward to what is stored (and its version)."""
    if s is None:
        return None, None
    for i, v in enumerate(vals):
        if s is v or s is args[i]:
            a = args[i]
            if isinstance(a, Tensor):
                return a, a._version
            return a, None
    for k, arr in enumerate(out_arrays):
        if s is arr or s is outs_raw[k]:
            return _OutRef(k), 0  # outputs are new: version 0
    if isinstance(s, Tensor):
        return s, s._version
    if isinstance(s, np.ndarray):
        return Tensor._make(s, False, None, 0), None
    return s, None


def _refresh_view(t):
    from .._inplace import refresh_view

    refresh_view(t)


class _AccumulateGrad:
    """What ``next_functions`` shows for a leaf tensor (PyTorch's AccumulateGrad)."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


from ..tensor import Tensor  # noqa: E402  (tensor.py imports this module first)

_make = Tensor._make
_new = object.__new__

from ._function_helpers import FunctionCtx, once_differentiable  # noqa: E402,F401
