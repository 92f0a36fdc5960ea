"""Forward-mode duals of batched tensors (``forward_ad.make_dual``/``unpack_dual`` on
values batched by vmap).

The tangent is put in the primal's physical layout and stored on the primal's physical
value. Levels that only the tangent is batched at and that are newer than every level of
the primal may stay on the tangent as batched wrappers when they are *tangent-only* levels
(the private level over basis tangents that ``jacfwd`` creates): then the primal computation
runs once and only the tangent computations are batched. Any other level the tangent has is
added to the primal first (a broadcast).
"""

from __future__ import annotations

from ..autograd import forward_ad as fwad
from ..ops.shape import Permute
from ._batched import _STACK, build, flatten, lift, logical_dims


def _tangent_only(level):
    return any(lv.level == level and getattr(lv, "tangent_only", False) for lv in _STACK)


def align_to(c, P, dims, keep_above):
    """``c`` (same logical shape as the tensor (P, dims)) rearranged so its logical layout is
    P's physical layout; levels of c above ``keep_above`` stay as batched wrappers outside."""
    for lv, d in dims.items():
        c = lift(c, lv, P._data.shape[d])
    Pc, dc = flatten(c)
    high = sorted(lv for lv in dc if lv > keep_above and lv not in dims)
    inv = {d: lv for lv, d in dims.items()}
    rest = iter(logical_dims(Pc._data.ndim, dc))
    order = [dc[lv] for lv in high]
    for p in range(P._data.ndim):
        order.append(dc[inv[p]] if p in inv else next(rest))
    if order != list(range(len(order))):
        Pc = Permute.apply(Pc, tuple(order))
    return build(Pc, {lv: i for i, lv in enumerate(high)})


def batched_make_dual(x, t, level):
    _, dt = flatten(t)
    for lv in sorted(dt):
        if not _tangent_only(lv):
            x = lift(x, lv, dt_size(t, lv))
    P, dims = flatten(x)
    keep = max(dims) if dims else 0
    tp = align_to(t, P, dims, keep)
    return build(fwad._make_dual(P, tp, level), dims)


def dt_size(t, level):
    P, d = flatten(t)
    return P._data.shape[d[level]]


def batched_unpack_dual(o, level):
    P, dims = flatten(o)
    primal, tangent = fwad._unpack(P, level)
    return build(primal, dims), (None if tangent is None else rebuild(tangent, dims))


def rebuild(g, dims):
    """A tensor g whose logical layout is the physical layout of a tensor with batch
    ``dims`` (g possibly batched at newer levels): the same value with those dims as batch
    dims again."""
    if not dims:
        return g
    Pg, dg = flatten(g)
    pos = logical_dims(Pg._data.ndim, dg)
    full = dict(dg)
    for lv, d in dims.items():
        full[lv] = pos[d]
    return build(Pg, full)


def _plug_in():
    """Let ``forward_ad.make_dual``/``unpack_dual`` hand batched tensors to this module."""
    import types

    from ._batched import BatchedArray

    fwad.BATCHED = types.SimpleNamespace(array=BatchedArray, make_dual=batched_make_dual,
                                               unpack_dual=batched_unpack_dual)


_plug_in()
