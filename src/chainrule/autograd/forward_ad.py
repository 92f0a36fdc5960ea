"""Forward-mode AD (``chainrule.autograd.forward_ad``), driven by each primitive's ``jvp``.

Inside ``with dual_level():``, ``make_dual(primal, tangent)`` gives a tensor carrying a
tangent; every primitive applied to it computes its output tangent at once with its ``jvp``
rule (the directional derivative J v). ``unpack_dual`` reads primal and tangent back.

A tensor's tangents live in ``_fw``, a dict ``{level: tangent}``. The public ``dual_level``
allows one level at a time (as PyTorch); ``chainrule.func.jvp`` nests levels (forward over
forward, ``jacfwd(jacfwd(f))``): the rule of level l runs with only the levels below l
active, so a tangent of level l carries its own tangents of the outer levels (JAX's order of
JVP traces).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .grad_mode import STATE

# chainrule.func plugs in its batched dual numbers here when imported (a namespace with
# ``array`` (BatchedArray), ``make_dual`` and ``unpack_dual``); this module never imports it
BATCHED = None

_ACTIVE = []  # active levels, innermost (newest) last
_COUNTER = [0]


class UnpackedDualTensor(namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What ``unpack_dual`` returns: a namedtuple ``(primal, tangent)``."""


def _set_active(levels):
    _ACTIVE[:] = levels
    STATE.fw_level = levels[-1] if levels else 0


def _push():
    _COUNTER[0] += 1
    _set_active(_ACTIVE + [_COUNTER[0]])
    return _COUNTER[0]


def _pop(level):
    if level in _ACTIVE:
        _set_active([lv for lv in _ACTIVE if lv != level])


class dual_level:  # noqa: N801
    """Context manager for a forward-AD level; tangents of that level are dropped when it
    exits. Nesting is refused as in PyTorch (use ``chainrule.func.jvp`` to nest)."""

    def __enter__(self):
        if _ACTIVE:
            raise RuntimeError("forward_ad: nested dual levels are not supported (as in "
                               "PyTorch); use chainrule.func.jvp / jacfwd to nest forward mode")
        self.level = _push()
        return self.level

    def __exit__(self, *exc):
        _pop(self.level)
        return False


def enter_dual_level():
    """Enter a new dual level and return its index (``dual_level().__enter__()``)."""
    if _ACTIVE:
        raise RuntimeError("forward_ad: nested dual levels are not supported (as in PyTorch)")
    return _push()


def exit_dual_level(*, level=None):
    """Exit the dual level ``level`` (default: the current one)."""
    if not _ACTIVE:
        raise RuntimeError("exit_dual_level: no dual level is active")
    lv = _ACTIVE[-1] if level is None else level
    if lv != _ACTIVE[-1]:
        raise RuntimeError(f"exit_dual_level: trying to exit level {lv} but the current "
                           f"level is {_ACTIVE[-1]}")
    _pop(lv)


def _level(level, op="make_dual"):
    if not _ACTIVE:
        raise RuntimeError(f"{op}: must be called inside `with forward_ad.dual_level():`")
    lv = _ACTIVE[-1] if level is None else level
    if lv not in _ACTIVE:
        raise RuntimeError(f"forward_ad: level {lv} is not active")
    return lv


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (same shape) at the current level."""
    lv = _level(level)
    if not isinstance(tangent, Tensor):
        tangent = Tensor._make(np.asarray(tangent, dtype=tensor._data.dtype), False, None, 0)
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"make_dual: expected tangent of shape {tuple(tensor._data.shape)} to match the "
            f"primal, got {tuple(tangent._data.shape)}"
        )
    if tensor._data.dtype.kind != "f":
        raise RuntimeError(f"make_dual: expected a floating primal, got {tensor.dtype}")
    if tangent._data.dtype != tensor._data.dtype:
        tangent = tangent.to(tensor.dtype)
    if BATCHED is not None and BATCHED.array in (tensor._data.__class__,
                                                 tangent._data.__class__):
        return BATCHED.make_dual(tensor, tangent, lv)
    return _make_dual(tensor, tangent, lv)


def _make_dual(tensor, tangent, lv):
    if tensor.grad_fn is None and tensor.requires_grad:
        out = tensor.view_as(tensor)  # stays connected to the leaf for reverse mode
    else:
        out = Tensor._make(tensor._data, tensor.requires_grad, tensor.grad_fn, tensor._out_idx)
    fw = dict(tensor._fw) if tensor._fw else {}
    fw[lv] = tangent
    out._fw = fw
    return out


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: tangent is None when the tensor carries none at this level.
    The primal keeps the tangents of other (outer) levels."""
    if not _ACTIVE and level is None:
        return UnpackedDualTensor(tensor, None)
    lv = _ACTIVE[-1] if level is None else level
    if BATCHED is not None and tensor._data.__class__ is BATCHED.array:
        return UnpackedDualTensor(*BATCHED.unpack_dual(tensor, lv))
    return UnpackedDualTensor(*_unpack(tensor, lv))


def _unpack(tensor, lv):
    fw = tensor._fw
    tangent = fw.get(lv) if fw else None
    primal = Tensor._make(tensor._data, tensor.requires_grad, tensor.grad_fn, tensor._out_idx)
    if fw:
        rest = {k: v for k, v in fw.items() if k != lv and k in _ACTIVE}
        primal._fw = rest or None
    return primal, tangent


def _zeros(a):
    return Tensor._make(np.zeros(a._data.shape, a._data.dtype), False, None, 0)


def run_jvp(cls, ctx, args, outs):
    """Compute the output tangents of one primitive call (called by Function.apply): once
    per active level some argument has a tangent at, with only the outer levels active."""
    levels = []
    for a in args:
        if isinstance(a, Tensor) and a._fw:
            for lv in a._fw:
                if lv in _ACTIVE and lv not in levels:
                    levels.append(lv)
    if not levels:
        return
    active = list(_ACTIVE)
    swapped = False
    if not cls._arrays and ctx._saved_fw is not None:
        saved, versions = ctx._saved, ctx._versions
        ctx._saved, ctx._versions, swapped = list(ctx._saved_fw), None, True
    try:
        for lv in sorted(levels):
            tangents = []
            for a in args:
                if isinstance(a, Tensor):
                    t = a._fw.get(lv) if a._fw else None
                    if t is None and a._data.dtype.kind == "f":
                        t = _zeros(a)
                    tangents.append(t)
                else:
                    tangents.append(None)
            # the rule's own operations act on primals and tangents as values at this level
            # (they carry the outer levels' tangents)
            _set_active([x for x in active if x < lv])
            try:
                result = cls.jvp(ctx, *tangents)
            finally:
                _set_active(active)
            _store(ctx, outs, result, lv)
    finally:
        if swapped:
            ctx._saved, ctx._versions = saved, versions


def _store(ctx, outs, result, lv):
    if not isinstance(result, tuple):
        result = (result,)
    for k, (o, t) in enumerate(zip(outs, result)):
        if t is None or o._data.dtype.kind != "f":
            continue
        if not isinstance(t, Tensor):
            t = Tensor._make(np.asarray(t, dtype=o._data.dtype), False, None, 0)
        if t._data.shape != o._data.shape:
            t = t.expand(o._data.shape) if t._data.ndim <= o._data.ndim else t.reshape(o._data.shape)
        if t._data.dtype != o._data.dtype:
            t = t.to(o.dtype)
        if o._fw is None:
            o._fw = {}
        o._fw[lv] = t
        if ctx._out_refs is not None:
            if ctx._out_fw is None:
                ctx._out_fw = [None] * len(outs)
            ctx._out_fw[k] = o._fw
