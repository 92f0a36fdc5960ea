"""In-place operations (``add_``, ``x[idx] = v``, ``+=``, ``relu_`` ...) with PyTorch's
autograd semantics, bound as Tensor methods.

An in-place operation on ``self`` takes one of three paths:

1. **Nothing records** (grad mode off, or neither ``self`` nor an operand requires grad, and
   no forward-mode tangent is involved): the new values are computed with NumPy and written
   into ``self``'s array; its version counter, shared with every view of the same data, is
   bumped. Optimizers and ``nn.init`` take this path.
2. **``self`` is a leaf that requires grad (or a view of one) and grad mode is on**:
   PyTorch's error (the leaf's ``.grad`` would have nothing to refer to).
3. **Recorded**: the out-of-place form of the operation is applied to a *snapshot* of
   ``self`` (a new tensor object with the same array and history), the result is written
   into ``self``'s array, and ``self`` takes the result's history. If the recorded node
   saved the snapshot (``mul_`` needs the old ``self`` for the other operand's gradient),
   the snapshot gets its own copy of the old values first -- PyTorch's "original self".
   If ``self`` is a view, its *base* takes the history instead, through a ``CopySlices``
   node (the base with the view's region replaced), and the view's history is derived again
   from the base; other views of the base re-derive theirs when next used
   (``Function.apply`` compares the shared version with the one they were derived at).

A node that saved a tensor for backward remembers its version; when the tensor (or any view
of its data) is modified in place afterwards, reading the saved value raises an error naming
the node, the in-place operation and both versions.
"""

from __future__ import annotations

import sys

import numpy as np

from . import ops as P
from .functions import shape as FS
from ._dtype import from_np
from ._state import STATE
from .autograd.function import PLUGINS, _OutRef
from .ops.shape import CopySlices, replay_view
from .tensor import Tensor

# -- version counters -----------------------------------------------------------------


def version_counter(t: Tensor) -> list:
    """``t``'s shared version counter ``[version, last in-place op]``, created on demand."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0, None]
    return vc


def _bump(t: Tensor, op: str) -> None:
    vc = version_counter(t)
    vc[0] += 1
    vc[1] = op


# -- the three paths ------------------------------------------------------------------


def _records(self, operands) -> bool:
    if STATE.grad_enabled:
        if self.requires_grad:
            return True
        for o in operands:
            if isinstance(o, Tensor) and o.requires_grad:
                return True
    if STATE.fw_level:
        if self._fw is not None:
            return True
        for o in operands:
            if isinstance(o, Tensor) and o._fw is not None:
                return True
    return False


def inplace(self, op, operands, fn, values, cast="same_kind"):
    """Run the in-place operation ``op`` on ``self``.

    ``fn(t)`` gives the out-of-place result as a tensor (differentiable; ``t`` stands for the
    old ``self``), ``values()`` the new values as an array (NumPy only, used when nothing
    records). ``cast`` is NumPy's casting rule from the result's dtype to ``self``'s
    ("same_kind": PyTorch's rule for arithmetic; "unsafe" for copy_/fill_).
    """
    if _records(self, operands):
        _recorded(self, op, fn, cast)
    else:
        _write(self, values(), op, cast)
        _bump(self, op)
    return self


def _writable(self, op):
    arr = self._data
    if 0 not in arr.strides and arr.flags.writeable:  # the common case
        return arr
    overlaps = 0 in arr.strides and any(
        st == 0 and n > 1 for n, st in zip(arr.shape, arr.strides))
    if overlaps or not arr.flags.writeable:
        if overlaps:
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location (it is an expanded view). Please clone() "
                "the tensor before performing the operation."
            )
        arr = self._data = arr.copy()  # e.g. a tensor over a read-only buffer
    return arr


def _cast_error(op, src, dst):
    return RuntimeError(
        f"{op}: result type {from_np(src).name.capitalize()} can't be cast to the desired "
        f"output type {from_np(dst).name.capitalize()}"
    )


def _write(self, value, op, cast):
    arr = _writable(self, op)
    if value.__class__ is np.ndarray and value.dtype is arr.dtype and value.shape == arr.shape:
        np.copyto(arr, value)  # the common case: same dtype and shape
        return
    value = np.asarray(value)
    if value.dtype != arr.dtype and not np.can_cast(value.dtype, arr.dtype, cast):
        raise _cast_error(op, value.dtype, arr.dtype)
    if value.shape != arr.shape:
        try:
            value = np.broadcast_to(value, arr.shape)
        except ValueError:
            raise _shape_error(op, arr.shape, value.shape) from None
    np.copyto(arr, value, casting="unsafe")


def _shape_error(op, shape, other):
    return RuntimeError(
        f"{op}: output with shape {list(shape)} doesn't match the broadcast shape "
        f"{list(np.broadcast_shapes(shape, other)) if _broadcasts(shape, other) else list(other)}"
    )


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _snapshot(t: Tensor) -> Tensor:
    """A new tensor object standing for ``t`` as it is now (same array, history, counter)."""
    s = Tensor._make(t._data, t.requires_grad, t.grad_fn, t._out_idx)
    s._vc = version_counter(t)
    s._fw = t._fw
    return s


def _fit(new, self, op, cast):
    """Bring the out-of-place result to ``self``'s shape and dtype (as PyTorch's in-place
    ops do: broadcasting into self is allowed, growing self is not)."""
    shape, dt = self._data.shape, self._data.dtype
    if new._data.shape != shape:
        if not _broadcasts(new._data.shape, shape) or \
                np.broadcast_shapes(new._data.shape, shape) != shape:
            raise _shape_error(op, shape, new._data.shape)
        new = FS.expand(new, shape)
    if new._data.dtype != dt:
        if not np.can_cast(new._data.dtype, dt, cast):
            raise _cast_error(op, new._data.dtype, dt)
        new = P.Cast.apply(new, dt) if dt.kind == "f" else new.detach().to(from_np(dt))
    return new


class _Pinned:
    """Stands in for a weak reference to a node's output once that output's data has been
    modified in place: it returns a tensor sharing the data's version counter, so reading
    the saved output raises instead of silently using the new values."""

    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def _pin_output(t: Tensor) -> None:
    """If ``t``'s producing node saved ``t`` for backward, tie that saved value to ``t``'s
    data and version counter before ``t`` is modified in place."""
    node = t.grad_fn
    if node is None or node._out_refs is None:
        return
    k = t._out_idx
    stand_in = Tensor._make(t._data, True, node, k)
    stand_in._vc = version_counter(t)
    node._out_refs[k] = _Pinned(stand_in)
    node._out_arrays[k] = t._data


def _adopt_output(node, k, self) -> None:
    """The node that computed the new values saved its output: from now on that output is
    ``self``'s data at its new version (so a later in-place change is detected)."""
    if node is None or node._out_refs is None:
        return
    stand_in = Tensor._make(self._data, True, node, k)
    stand_in._vc = version_counter(self)
    node._out_refs[k] = _Pinned(stand_in)
    node._out_arrays[k] = self._data
    versions = node._versions
    for i, s in enumerate(node._saved):
        if s.__class__ is _OutRef and s.k == k:
            versions[i] = stand_in._version


def _protect(snap: Tensor, version: int) -> None:
    """If a recorded node holds the snapshot (it saved the old values for backward), give
    the snapshot its own copy of those values before they are overwritten."""
    # references: the caller's local name and getrefcount's argument
    if sys.getrefcount(snap) > 3:
        snap._data = snap._data.copy()
        snap._vc = [version, None]


def _leaf_error(op, view):
    what = "a view of a leaf Variable" if view else "a leaf Variable"
    return RuntimeError(
        f"{op}: {what} that requires grad is being used in an in-place operation; wrap the "
        "update in `with chainrule.no_grad():` (or use the out-of-place form, or clone() it "
        "first)"
    )


def _recorded(self, op, fn, cast):
    grad_on = STATE.grad_enabled
    view = self._view
    if view is None:
        if grad_on and self.requires_grad and self.grad_fn is None:
            raise _leaf_error(op, False)
        before = version_counter(self)[0]
        snap = _snapshot(self)
        new = _fit(fn(snap), self, op, cast)
        _protect(snap, before)
        del snap
        if grad_on:
            _pin_output(self)
        _write(self, new._data, op, "unsafe")
        _bump(self, op)
        if grad_on:
            self.grad_fn, self._out_idx = new.grad_fn, new._out_idx
            self.requires_grad = new.requires_grad
            _adopt_output(new.grad_fn, new._out_idx, self)
        if STATE.fw_level:
            self._fw = new._fw
        return
    base, steps, _ = view
    if grad_on and base.requires_grad and base.grad_fn is None:
        raise _leaf_error(op, True)
    _writable(self, op)
    before = version_counter(self)[0]
    snap = _snapshot(self)
    new = _fit(fn(snap), self, op, cast)
    _protect(snap, before)
    del snap
    if grad_on:
        _pin_output(base)
        _pin_output(self)
    out = CopySlices.apply(_snapshot(base), new, steps, self._data)
    _bump(self, op)
    if grad_on:
        base.grad_fn, base._out_idx, base.requires_grad = out.grad_fn, 0, out.requires_grad
    if STATE.fw_level:
        base._fw = out._fw
    refresh_view(self)


def refresh_view(t: Tensor) -> None:
    """Derive a view's history (and tangent) again from its base's current history."""
    base, steps, _ = t._view
    if (STATE.grad_enabled and base.requires_grad) or (STATE.fw_level and base._fw is not None):
        r = replay_view(base, steps)
        if STATE.grad_enabled:
            t.grad_fn, t._out_idx, t.requires_grad = r.grad_fn, r._out_idx, r.requires_grad
        if STATE.fw_level:
            t._fw = r._fw
    t._view = (base, steps, version_counter(t)[0])


# Function.apply refreshes stale views, and mark_dirty adopts outputs, through these
PLUGINS.refresh_view = refresh_view
PLUGINS.adopt_output = _adopt_output
PLUGINS.bump = _bump


# -- the operations ---------------------------------------------------------------------


def _plain(t: Tensor) -> Tensor:
    return Tensor._make(t._data, False, None, 0)


def _from(outfn, name, cast="same_kind"):
    """The in-place form of an out-of-place function ``outfn(self, *args, **kwargs)``."""

    def method(self, *args, **kwargs):
        operands = args + tuple(kwargs.values())
        return inplace(self, name, operands, lambda t: outfn(t, *args, **kwargs),
                       lambda: outfn(_plain(self), *args, **kwargs)._data, cast)

    method.__name__ = name
    method.__doc__ = f"In-place form of ``{outfn.__name__}``: the result is written into self."
    return method
