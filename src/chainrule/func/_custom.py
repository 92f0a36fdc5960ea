"""vmap over user ``autograd.Function`` subclasses (PyTorch's two ways).

* a ``vmap`` staticmethod ``vmap(info, in_dims, *args) -> (output, out_dims)``: the user's
  own batching rule, called with the unwrapped arguments (``info.batch_size``,
  ``info.randomness``);
* ``generate_vmap_rule = True``: forward, backward and jvp are run on the *batched*
  (logical) tensors, so they batch through the primitives' rules; one graph node
  (``_Generated``) over the unwrapped values carries the user's backward and jvp.

Otherwise the Function runs once per batch element (the fallback).
"""

from __future__ import annotations

from ..autograd.function import Function
from ..tensor import Tensor
from ._batched import _STACK, lift, unwrap_any, wrap_any
from ._levels import pop_level, push_level


class VmapInfo:
    """What a user ``vmap`` staticmethod is told (``torch.autograd.function.VmapInfo``)."""

    def __init__(self, batch_size, randomness):
        self.batch_size = batch_size
        self.randomness = randomness

    def __repr__(self):
        return f"VmapInfo(batch_size={self.batch_size}, randomness='{self.randomness}')"


def _randomness(level):
    for lv in _STACK:
        if lv.level == level:
            return lv.randomness
    return "error"


def _static_rule(info, vals, bdims):
    out, out_dims = info.cls.vmap(VmapInfo(info.size, _randomness(info.level)), tuple(bdims),
                                  *vals)
    return out, out_dims


def custom_rule(cls):
    if getattr(cls, "vmap", None) is not None:
        return _static_rule
    if getattr(cls, "generate_vmap_rule", False):
        return _generated_rule
    return None


def _generated_rule(info, vals, bdims):
    out = _Generated.apply(info.cls, info.level, info.size, tuple(bdims), *vals)
    n = out if isinstance(out, tuple) else (out,)
    obd = _Generated.last_out_bdims
    return (out, obd) if isinstance(out, tuple) and len(n) > 1 else (n[0], obd[0])


class _Level:
    """Re-enter a vmap level (a backward pass may run after the vmap call returned)."""

    def __init__(self, level, size):
        self.level, self.size, self.lv = level, size, None

    def __enter__(self):
        if not any(lv.level == self.level for lv in _STACK):
            self.lv = push_level(self.size, "error", level=self.level)

    def __exit__(self, *exc):
        if self.lv is not None:
            pop_level(self.lv)


def _to_phys(t, level, size):
    if not isinstance(t, Tensor):
        return t, None
    return unwrap_any(lift(t, level, size), level)


def _to_layout(g, b_have, b_want):
    """A gradient with the batch at logical dim b_have moved to b_want (summed away when the
    input was not batched: every batch element used it)."""
    if b_want is None:
        return g.sum(b_have)
    return g if b_have == b_want else g.movedim(b_have, b_want)


class _Generated(Function):
    generate_vmap_rule = True
    last_out_bdims = (0,)

    @staticmethod
    def forward(ctx, cls, level, size, bdims, *vals):
        user = cls.__new__(cls)
        ctx.spec, ctx.user = (cls, level, size, bdims), user
        logical = [wrap_any(v, b, level) if b is not None else v for v, b in zip(vals, bdims)]
        with _Level(level, size):
            if getattr(cls, "setup_context", None) is not None:
                out = cls.forward(*logical)
                cls.setup_context(user, tuple(logical), out)
            else:
                out = cls.forward(user, *logical)
        user._saved = list(user._to_save or ())
        user._to_save = None
        ctx._materialize = user._materialize  # the engine reads it on this node
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [_to_phys(o, level, size) for o in outs]
        ctx.out_bdims = tuple(b for _, b in pairs)
        _Generated.last_out_bdims = ctx.out_bdims
        phys = tuple(p for p, _ in pairs)
        return phys if isinstance(out, tuple) else phys[0]

    @staticmethod
    def backward(ctx, *grads):
        cls, level, size, bdims = ctx.spec
        with _Level(level, size):
            logical = [None if g is None else wrap_any(g, b, level)
                       for g, b in zip(grads, ctx.out_bdims)]
            res = cls.backward(ctx.user, *logical)
        res = res if isinstance(res, tuple) else (res,)
        out = []
        for r, want in zip(res, bdims):
            if r is None or not isinstance(r, Tensor):
                out.append(None)
                continue
            p, have = _to_phys(r, level, size)
            out.append(_to_layout(p, have, want))
        return (None, None, None, None) + tuple(out)

    @staticmethod
    def jvp(ctx, *tangents):
        cls, level, size, bdims = ctx.spec
        tans = tangents[4:]
        with _Level(level, size):
            logical = [wrap_any(t, b, level) if (t is not None and b is not None) else t
                       for t, b in zip(tans, bdims)]
            res = cls.jvp(ctx.user, *logical)
        res = res if isinstance(res, tuple) else (res,)
        out = []
        for r, want in zip(res, ctx.out_bdims):
            p, have = _to_phys(r, level, size)
            out.append(p if have == want else p.movedim(have, want))
        return tuple(out) if len(out) > 1 else out[0]
