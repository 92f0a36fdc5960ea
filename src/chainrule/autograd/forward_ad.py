"""Forward-mode AD (``chainrule.autograd.forward_ad``), driven by each primitive's ``jvp``.

Inside ``with dual_level():``, ``make_dual(primal, tangent)`` gives a tensor carrying a
tangent; every primitive applied to it computes its output tangent at once with its ``jvp``
rule (the directional derivative J v). ``unpack_dual`` reads primal and tangent back.
Only one level at a time is supported (as in PyTorch).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .grad_mode import STATE

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_level_counter = [0]


class dual_level:  # noqa: N801
    """Context manager for a forward-AD level; tangents are dropped when it exits."""

    def __enter__(self):
        if STATE.fw_level > 0:
            raise RuntimeError("forward_ad: nested dual levels are not supported")
        _level_counter[0] += 1
        STATE.fw_level = _level_counter[0]
        return STATE.fw_level

    def __exit__(self, *exc):
        STATE.fw_level = 0
        return False


def enter_dual_level():
    return dual_level().__enter__()


def exit_dual_level(*, level=None):
    STATE.fw_level = 0


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (same shape) at the current level."""
    if STATE.fw_level == 0:
        raise RuntimeError("make_dual: must be called inside `with forward_ad.dual_level():`")
    if not isinstance(tangent, Tensor):
        tangent = Tensor._make(np.asarray(tangent, dtype=tensor._data.dtype), False, None, 0)
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"make_dual: expected tangent of shape {tuple(tensor._data.shape)} to match the "
            f"primal, got {tuple(tangent._data.shape)}"
        )
    if tensor._data.dtype.kind != "f":
        raise RuntimeError(f"make_dual: expected a floating primal, got {tensor.dtype}")
    # the dual is a new tensor that shares the primal's data and graph position
    out = Tensor._make(tensor._data, tensor.requires_grad, tensor.grad_fn, tensor._out_idx)
    if tensor.grad_fn is None and tensor.requires_grad:
        out = tensor.view_as(tensor)  # stays connected to the leaf for reverse mode
    out._fw = (STATE.fw_level, tangent)
    return out


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: tangent is None when the tensor carries none at this level."""
    fw = tensor._fw
    tangent = fw[1] if (fw is not None and fw[0] == STATE.fw_level and STATE.fw_level) else None
    primal = Tensor._make(tensor._data, tensor.requires_grad, tensor.grad_fn, tensor._out_idx)
    return UnpackedDualTensor(primal, tangent)


def _tangent(a):
    fw = a._fw
    if fw is not None and fw[0] == STATE.fw_level:
        return fw[1]
    return None


def run_jvp(cls, ctx, args, outs):
    """Compute the output tangents of one primitive call (called by Function.apply)."""
    tangents = []
    any_t = False
    for a in args:
        if isinstance(a, Tensor):
            t = _tangent(a)
            if t is None and a._data.dtype.kind == "f":
                t = Tensor._make(np.zeros_like(a._data), False, None, 0)
            else:
                any_t = any_t or t is not None
            tangents.append(t)
        else:
            tangents.append(None)
    if not any_t:
        return
    level = STATE.fw_level
    # the rule's own operations act on primals and tangents as plain values: no nested
    # forward-mode propagation (one level, as in PyTorch)
    STATE.fw_level = 0
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        STATE.fw_level = level
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
        o._fw = (level, t)
        if ctx._out_refs is not None:
            if ctx._out_fw is None:
                ctx._out_fw = [None] * len(outs)
            ctx._out_fw[k] = (level, t)
