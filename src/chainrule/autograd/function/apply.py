"""``Function.apply``: the call of every operation (chainrule's hot path).

One pass over the arguments collects their arrays and, when grad mode is on, the graph
edges; ``forward`` runs; the common case (one array output, reverse mode only) is handled
inline; everything else (several outputs, forward mode, anomaly mode, user Functions,
``mark_dirty``) in the helpers below. The layers above plug into ``PLUGINS`` at import
(in-place views, vmap), so this module never imports them.
"""

from __future__ import annotations

import weakref
from threading import get_ident as _ident

import numpy as np

from ...tensor import Tensor
from ..grad_mode import STATE
from .base import _OutRef


class _Plugins:
    """What the layers above ``Function`` provide, set when they are imported:
    ``refresh_view``, ``adopt_output`` and ``bump`` (chainrule._inplace) and
    ``batched_apply`` (chainrule.func, for calls inside ``vmap``)."""

    refresh_view = adopt_output = bump = batched_apply = None


PLUGINS = _Plugins()
_make = Tensor._make
_new = object.__new__
_ref = weakref.ref
_OUT0 = _OutRef(0)  # "output 0" in ctx._saved (read only, so one instance serves all nodes)


def apply(cls, *args):
    """``Function.apply``: run ``cls.forward`` and, when recording, make the call a node."""
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
        if STATE.arrays and STATE.arrays == _ident():  # a backward rule run on arrays
            return cls.forward(_new(cls), *args)  # by the engine: forward, nothing else
        edges = None
        for a in args:
            if isinstance(a, Tensor):
                vals.append(a._data)
                if a._fw is not None:
                    fw = True
            else:
                vals.append(a)
    raw = cls.forward(ctx, *vals)
    if raw.__class__ is not np.ndarray and isinstance(raw, np.generic):
        raw = _scalar_output(ctx, raw)
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
            if len(to_save) == 1 and to_save[0] is raw and len(vals) == 1 and raw is not vals[0]:
                # a unary op that saved only its output (exp, tanh, sigmoid, sqrt)
                ctx._to_save = None
                ctx._saved = [_OUT0]
                ctx._versions = [0]
                ctx._out_arrays = [raw]
                ctx._out_refs = [_ref(out)]
            elif vals and to_save[0] is vals[0] and isinstance(args[0], Tensor) and (
                    len(to_save) == 1 or (len(to_save) == 2 and len(vals) > 1 and
                                          to_save[1] is vals[1] and isinstance(args[1], Tensor))):
                # it saved its first one or two arguments, tensors (log, mul, div, matmul)
                ctx._to_save = None
                a = args[0]
                v = 0 if a._vc is None else a._vc[0]
                if len(to_save) == 1:
                    ctx._saved = [a]
                    ctx._versions = [v]
                else:
                    b = args[1]
                    ctx._saved = [a, b]
                    ctx._versions = [v, 0 if b._vc is None else b._vc[0]]
            else:
                _save(ctx, to_save, args, vals, (raw,), [raw], [out])
        return out
    return _finish(cls, ctx, args, vals, raw, record, fw, edges)


def apply_view(cls, x, arg):
    """``apply`` of a view primitive (Reshape, Permute, Expand, Getitem: one tensor and one
    non-tensor argument) without the general argument loop: the same node. Everything
    unusual (compile, vmap, forward mode, anomaly mode, a stale view) takes ``apply``."""
    if x.__class__ is not Tensor or STATE.tracer is not None or STATE.vmap_level or \
            x._fw is not None or STATE.anomaly or (x._view is not None and x._view[2] != x._vc[0]):
        return apply(cls, x, arg)  # (also a subclass such as Parameter, or a plain array)
    ctx = _new(cls)
    d = x._data
    record = STATE.grad_enabled and x.requires_grad
    if record:
        fn = x.grad_fn
        ctx._edges = [(x, -1, d.shape, d.dtype) if fn is None else
                      (fn, x._out_idx, d.shape, d.dtype), None]
    raw = cls.forward(ctx, d, arg)
    if raw.__class__ is not np.ndarray or ctx._to_save is not None:  # (not a view op's)
        return _finish(cls, ctx, (x, arg), [d, arg], raw, record, False,
                       ctx._edges if record else None)
    if record and raw.dtype.kind == "f":
        return _make(raw, True, ctx, 0)
    return _make(raw, False, None, 0)


def _scalar_output(ctx, raw):
    """A NumPy scalar from forward (a ufunc on 0-d arrays returns one) as the 0-d array it
    stands for, also where forward saved it, so the call stays on ``apply``'s inline path."""
    arr = np.asarray(raw)
    to_save = ctx._to_save
    if to_save is not None:
        for t in to_save:
            if t is raw:
                ctx._to_save = tuple([arr if u is raw else u for u in to_save])
                break
    return arr


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
    _adopt_output, _bump = PLUGINS.adopt_output, PLUGINS.bump
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
        from ..anomaly import check_forward

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
            from ..anomaly import record_creation

            record_creation(ctx, args)
    to_save = ctx._to_save
    if to_save is not None:
        _save(ctx, to_save, args, vals, outs_raw, out_arrays, outs)
    if fw:
        from ..forward_ad import run_jvp

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


def _vmap_apply(cls, args):
    return PLUGINS.batched_apply(cls, args)


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
    PLUGINS.refresh_view(t)
