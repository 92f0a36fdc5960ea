"""Batched values for ``vmap``: where a batch dimension hides, and how a primitive call on
batched tensors is turned into one call on whole batches.

A tensor is *batched at level L* when its ``_data`` is a :class:`BatchedArray`: a read-only
placeholder of the *logical* shape (what the function inside ``vmap`` sees) that carries the
real value, a tensor ``_value`` whose dimension ``_bdim`` is the batch (the value may itself
be batched at lower levels: ``vmap(vmap(f))`` nests wrappers, the highest level outside).
Shape checks of the public functions therefore see logical shapes, and the engine passes
batched cotangents through unchanged (it only ever rewraps ``_data``).

Every primitive call goes through ``Function.apply``, which hands calls with a batched
argument to :func:`batched_apply`: the arguments of the highest level are unwrapped, the
primitive's batching rule (``_batching.RULES``, keyed by primitive class) calls primitives
on the unwrapped values (so autograd and forward mode record on them, and lower levels batch
recursively), and the result is wrapped again. A primitive without a rule runs once per
batch element (the fallback, warned about once per primitive).

Raw NumPy on a placeholder (comparisons, ``argmax`` and other non-differentiable helpers of
the public functions) is batched by ``__array_ufunc__`` / ``__array_function__``; a NumPy
function without a batched form runs once per batch element. Reading values out
(``.item()``, ``.tolist()``, ``bool()``) raises, as in PyTorch.
"""

from __future__ import annotations


import numpy as np

from ..tensor import Tensor

# Raw NumPy on placeholders lives in chainrule.func._batched_numpy, which builds on this
# module and so sets itself here when it is imported (chainrule.func imports it).
_numpy = None


class _Buffer(np.ndarray):
    """The one-element memory of placeholders (one per dtype). Being a subclass, it stops
    NumPy from collapsing a view's base past the placeholder: ``np.asarray(placeholder)``
    (NumPy strips subclasses there) is a plain view whose ``base`` is the placeholder."""


_BUFFERS = {}


def _buffer(dtype):
    b = _BUFFERS.get(dtype)
    if b is None:
        b = np.zeros(1, dtype).view(_Buffer)
        if dtype.kind in "fc":
            b[0] = np.nan  # a stray raw read of a placeholder shows up as NaN
        b.flags.writeable = False
        _BUFFERS[dtype] = b
    return b


class BatchedArray(np.ndarray):
    """The logical-shape placeholder of a batched value (see the module docstring)."""

    _value = None
    _bdim = 0
    _level = 0

    # -- raw NumPy on batched values ---------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _numpy.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _numpy.array_function(func, args, kwargs)

    def _phys(self):
        return self._value._data

    # -- what Tensor and printing call on a placeholder (they sit below chainrule.func) ---
    def _rebatch(self, view):
        return rebatch(view)

    def _detach_tensor(self, t):
        return detach_batched(t)

    def _tensor_repr(self, t):
        return batched_repr(t)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return wrap_array(self._phys().astype(dtype, order=order, casting=casting), self._bdim,
                          self._level)

    def copy(self, order="C"):
        return wrap_array(self._phys().copy(), self._bdim, self._level)

    def reshape(self, *shape, order="C"):
        return _numpy.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list))
                       else shape)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return np.transpose(self, axes or None)

    @property
    def T(self):  # noqa: N802
        return np.transpose(self)

    def __getitem__(self, idx):
        return _numpy.getitem(self, idx)

    def argmax(self, axis=None, out=None, keepdims=False):
        return np.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return np.argmin(self, axis=axis, keepdims=keepdims)

    def _refuse(self, *_, **__):
        raise RuntimeError(
            "vmap: reading a value out of a batched tensor (.item(), .tolist(), bool(), "
            "float(), int() or data-dependent control flow) is not supported inside vmap; "
            "rewrite the code with tensor operations (e.g. chainrule.where instead of an if)"
        )

    item = tolist = __bool__ = __float__ = __int__ = __index__ = _refuse


def wrap_array(phys, bdim, level):
    """A placeholder for the raw array ``phys`` batched along ``bdim`` at ``level``."""
    return _placeholder(Tensor._make(phys, False, None, 0), bdim, level)


def _placeholder(value, bdim, level):
    shape = value._data.shape
    logical = shape[:bdim] + shape[bdim + 1:]
    dt = value._data.dtype
    a = np.ndarray.__new__(BatchedArray, logical, dt, _buffer(dt), 0, (0,) * len(logical))
    a._value = value
    a._bdim = bdim
    a._level = level
    return a


def wrap(value, bdim, level):
    """``value`` batched along ``bdim`` at ``level`` (value itself when bdim is None)."""
    if bdim is None:
        return value
    return Tensor._make(_placeholder(value, bdim, level), False, None, 0)


def as_batched(d):
    """The BatchedArray behind ``d``: d itself, or the placeholder that ``np.asarray``
    turned into a plain view (NumPy strips subclasses there); None otherwise."""
    if d.__class__ is BatchedArray:
        return d
    if d.__class__ is np.ndarray:
        b = d.base
        if b.__class__ is BatchedArray and b.shape == d.shape and b.dtype == d.dtype:
            return b
    return None


def rebatch(d):
    """``d``, or the placeholder it is a plain view of: ``np.asarray`` of a batched result
    strips the subclass, and a tensor holding that view would lose its batch (raw NumPy on
    it would read the placeholder's buffer). ``Tensor._make`` calls this inside vmap."""
    b = as_batched(d)
    return d if b is None else b


def physical(d):
    """The raw array under every vmap level of ``d`` (all batch elements): for checks that
    read values without changing the result (an index's bounds)."""
    b = as_batched(d)
    while b is not None:
        d = b._value._data
        b = as_batched(d)
    return d


def batched_repr(t) -> str:
    """``BatchedTensor(lvl=L, bdim=B, value=...)`` with the value indented below, as
    torch.func prints a batched tensor; L counts the active vmap levels from 1 (chainrule's
    level ids keep growing; a value printed after its vmap returned shows that id)."""
    a = t._data
    ids = [lv.level for lv in _STACK]
    shown = ids.index(a._level) + 1 if a._level in ids else a._level
    inner = "\n".join("    " + line for line in repr(a._value).split("\n"))
    return f"BatchedTensor(lvl={shown}, bdim={a._bdim}, value=\n{inner}\n)"


def level_of(x) -> int:
    """The highest vmap level a tensor, array or index tuple is batched at (0: none)."""
    d = x._data if isinstance(x, Tensor) else x
    if d.__class__ is BatchedArray:
        return d._level
    if d.__class__ is np.ndarray:
        b = as_batched(d)
        return 0 if b is None else b._level
    if isinstance(d, (tuple, list)):
        m = 0
        for e in d:
            c = e.__class__
            if c is int or c is slice or e is None:
                continue
            lv = level_of(e)
            if lv > m:
                m = lv
        return m
    return 0


def unwrap_at(x, level):
    """(value, bdim) of x at ``level``: bdim None where x is not batched there. Index tuples
    give a tuple of values and a tuple of bdims (None when no element is batched)."""
    if isinstance(x, Tensor):
        d = as_batched(x._data)
        if d is not None and d._level == level:
            return d._value, d._bdim
        return x, None
    if isinstance(x, np.ndarray):
        d = as_batched(x)
        if d is not None and d._level == level:
            return d._value._data, d._bdim
        return x, None
    if isinstance(x, tuple) and level_of(x) == level:
        pairs = [unwrap_at(e, level) for e in x]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    return x, None


# -- levels ---------------------------------------------------------------------------
class _Level:
    __slots__ = ("level", "size", "randomness", "saved_rng", "tangent_only")

    def __init__(self, level, size, randomness):
        self.level, self.size, self.randomness = level, size, randomness
        self.saved_rng = None
        self.tangent_only = False  # jacfwd's private level: only tangents are batched


_STACK = []  # active vmap levels, innermost last
_COUNTER = [0]


def active_levels():
    return tuple(_STACK)


def level_size(level):
    for lv in _STACK:
        if lv.level == level:
            return lv.size
    return None


# -- whole structures: a physical tensor and where each level's batch dim lives ------------
def flatten(t):
    """(P, {level: physical dim}) for a tensor batched at any levels (P is unbatched)."""
    layers = []
    while t._data.__class__ is BatchedArray:
        a = t._data
        layers.append((a._level, a._bdim))
        t = a._value
    remaining = list(range(t._data.ndim))
    dims = {}
    for level, bdim in reversed(layers):  # innermost (lowest level) first
        dims[level] = remaining.pop(bdim)
    return t, dims


def detach_batched(t):
    """``t.detach()`` for a batched ``t``: the physical value is what autograd and forward
    mode record on, so it is the one detached (from every transform level, as in
    torch.func); the batch layout is kept."""
    P, dims = flatten(t)
    return build(P.detach(), dims)


def logical_dims(ndim, dims):
    """Physical dims of P that are logical (not a batch dim), in order."""
    taken = set(dims.values())
    return [i for i in range(ndim) if i not in taken]


def build(P, dims):
    """The inverse of :func:`flatten`."""
    remaining = list(range(P._data.ndim))
    t = P
    for level in sorted(dims):
        b = remaining.index(dims[level])
        remaining.pop(b)
        t = wrap(t, b, level)
    return t


def move_to_front(P, dims, order):
    """Permute P so the batch dims of ``order`` (levels) come first, in that order, and the
    rest keep their relative order. Returns (P', new dims)."""
    from ..ops.shape import Permute

    front = [dims[lv] for lv in order]
    rest = [i for i in range(P._data.ndim) if i not in front]
    perm = tuple(front + rest)
    if perm != tuple(range(len(perm))):
        P = Permute.apply(P, perm)
    where = {old: new for new, old in enumerate(perm)}
    return P, {lv: where[d] for lv, d in dims.items()}


def lift(t, level, size):
    """t batched at ``level`` (a broadcast over the batch when it is not batched there)."""
    P, dims = flatten(t)
    if level in dims:
        return t
    from ..ops.shape import Expand, Reshape

    shape = P._data.shape
    P = Expand.apply(Reshape.apply(P, (1,) + shape), (size,) + shape)
    dims = {lv: d + 1 for lv, d in dims.items()}
    dims[level] = 0
    return build(P, dims)


def lift_all(t):
    """t batched at every active vmap level (per-example derivatives need this)."""
    for lv in _STACK:
        if not lv.tangent_only:
            t = lift(t, lv.level, lv.size)
    return t


def wrap_any(t, bdim, level):
    """``t`` (whose logical dim ``bdim`` is the batch of ``level``) batched at ``level``,
    also when t is already batched at higher levels (the new level goes inside them)."""
    if t._data.__class__ is not BatchedArray or t._data._level < level:
        return wrap(t, bdim, level)
    P, dims = flatten(t)
    dims[level] = logical_dims(P._data.ndim, dims)[bdim]
    return build(P, dims)


def unwrap_any(t, level):
    """(t without ``level``, the logical dim of t's result that is that level's batch),
    or (t, None) when t is not batched at ``level``."""
    if t._data.__class__ is not BatchedArray:
        return t, None
    if t._data._level == level:
        return t._data._value, t._data._bdim
    P, dims = flatten(t)
    if level not in dims:
        return t, None
    d = dims.pop(level)
    return build(P, dims), logical_dims(P._data.ndim, dims).index(d)
