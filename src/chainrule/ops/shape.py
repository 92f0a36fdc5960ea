"""Shape and indexing primitives: reshape, permute, expand, flip, cat, indexing, gather/scatter."""

from __future__ import annotations

from threading import get_ident as _ident

import numpy as np

from .._state import STATE
from ..autograd.function import Function
from ..autograd.function.apply import apply_view as _apply_view

_new = object.__new__


class _View(Function):
    """Base of the primitives whose output may share its input's memory (PyTorch's view
    operations). When it does, the output shares the input's version counter and remembers
    its base and the steps that derive it from the base (``Tensor._view``), so an in-place
    change through either is seen by both (see ``chainrule._inplace``)."""

    _always = False  # True: the output is always a view (Permute, Expand)

    @classmethod
    def apply(cls, x, arg):  # every view primitive takes one argument besides x
        if STATE.arrays and STATE.arrays == _ident():  # a backward rule on arrays: no links
            return cls.forward(_new(cls), x, arg)
        out = _apply_view(cls, x, arg)
        if not cls._always:  # a view when out's array shares x's memory
            a, b = out._data, x._data
            ab, bb = a.base, b.base
            if (a if ab is None else ab) is not (b if bb is None else bb):
                return out
        vc = x._vc
        if vc is None:
            vc = x._vc = [0, None]
        out._vc = vc
        v = x._view
        step = ((cls, (arg,)),)
        out._view = (x, step, vc[0]) if v is None else (v[0], v[1] + step, vc[0])
        return out


def broadcast(x, shape):
    """``np.broadcast_to(x, shape)``: a view with zero strides, built directly when ``x`` is
    contiguous (NumPy's function costs ~5 us of Python code per call). It is writeable;
    chainrule's in-place ops refuse to write into overlapping memory, as PyTorch's do."""
    nd = len(shape)
    lead = nd - x.ndim
    if x.size == 1 and lead >= 0:  # all x's dims are 1: every stride is 0
        return np.ndarray(shape, x.dtype, x, 0, (0,) * nd)
    if lead < 0 or not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)
    strides = [0] * lead
    for n, s, st in zip(x.shape, shape[lead:], x.strides):
        if n != s and n != 1:
            return np.broadcast_to(x, shape)  # NumPy's error
        strides.append(0 if n != s else st)
    return np.ndarray(shape, x.dtype, x, 0, strides)  # (in-place writes check overlap)


def replay_view(base, steps):
    """Derive a view from its base again, as recorded tensor operations."""
    t = base
    for cls, rest in steps:
        t = cls.apply(t, *rest)
    return t


def view_array(arr, steps):
    """The NumPy view of ``arr`` that ``steps`` select (for writing through it)."""
    for cls, rest in steps:
        arr = _NP_VIEW[cls](arr, *rest)
    return arr


class Reshape(_View):
    """out = x with a new shape (a view when possible).   VJP: grad reshaped to x's shape."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape, ctx.shape = x.shape, shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.x_shape), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Reshape.apply(x_dot, ctx.shape)


class Permute(_View):
    """out = x with dims reordered by ``dims``.   VJP: grad permuted by the inverse order."""

    _arrays = True

    _always = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims) if x.__class__ is np.ndarray else np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, tuple(np.argsort(ctx.dims))), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Permute.apply(x_dot, ctx.dims)


class Expand(_View):
    """out = x broadcast to ``shape`` (a read-only view).   VJP: grad summed back to x's
    shape (done by the engine's sum-to-shape).   JVP: x_dot expanded."""

    _arrays = True

    _always = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = shape
        return broadcast(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Expand.apply(x_dot, ctx.shape)


class Flip(Function):
    """out = x reversed along ``dims``.   VJP: grad flipped the same way."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()  # a copy, as PyTorch's flip (NumPy's is a view)

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Flip.apply(x_dot, ctx.dims)


class Cat(Function):
    """out = concatenation of xs along ``dim``.   VJP: the matching slices of grad."""

    _arrays = True

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = list(map(len, xs)) if dim == 0 else [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        out = [None]
        start = 0
        idx = [slice(None)] * grad.ndim
        for need, n in zip(ctx.needs_input_grad[1:], ctx.sizes):
            if need:
                idx[ctx.dim] = slice(start, start + n)
                out.append(Getitem.apply(grad, tuple(idx)))
            else:
                out.append(None)
            start += n
        return tuple(out)

    @staticmethod
    def jvp(ctx, _, *xs_dot):
        return Cat.apply(ctx.dim, *xs_dot)


def _is_basic(idx) -> bool:
    """True when an index tuple has only ints, slices, None and Ellipsis (a view, no repeats)."""
    if idx.__class__ is int:
        return True
    for i in idx:
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))):
            return False
    return True


class Getitem(_View):
    """out = x[idx] (NumPy/PyTorch indexing).   VJP: grad added into zeros of x's shape at idx
    (``IndexAdd``; repeated integer indices accumulate).   JVP: x_dot[idx]."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.x_shape = idx, x.shape
        out = x[idx]
        if out.__class__ is not np.ndarray:  # a NumPy scalar: take the 0-d view instead
            out = x[(idx if idx.__class__ is tuple else (idx,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.x_shape, ctx.idx), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return Getitem.apply(x_dot, ctx.idx)


class IndexAdd(Function):
    """out = zeros(shape) with src added at idx (the adjoint of Getitem).
    VJP: grad[idx].   JVP: IndexAdd of src_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, src, shape, idx):
        ctx.idx, ctx.shape = idx, shape
        out = np.zeros(shape, src.dtype)
        if _is_basic(idx):
            out[idx] = src
        else:
            np.add.at(out, idx, src)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Getitem.apply(grad, ctx.idx), None, None

    @staticmethod
    def jvp(ctx, src_dot, *_):
        return IndexAdd.apply(src_dot, ctx.shape, ctx.idx)


class IndexPut(Function):
    """out = x with out[idx] = v (``x[idx] = v`` recorded out of place).
    VJP: x gets grad with idx zeroed; v gets grad[idx] (summed to v's shape by the engine)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, v, idx):
        ctx.idx = idx
        out = x.copy()
        out[idx] = v
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        gx = IndexPut.apply(grad, 0.0, ctx.idx) if need[0] else None
        gv = Getitem.apply(grad, ctx.idx) if need[1] else None
        return gx, gv, None

    @staticmethod
    def jvp(ctx, x_dot, v_dot, _):
        return IndexPut.apply(x_dot, 0.0 if v_dot is None else v_dot, ctx.idx)


class CopySlices(Function):
    """out = base with the region a view selects replaced by src: an in-place write through
    a view, recorded (``steps`` derive the view from the base; see ``Tensor._view``).

    VJP: base gets grad with that region zeroed; src gets that region of grad.
    JVP: CopySlices of the tangents. With ``dest`` (the view's own array, eager in-place
    path) src is written through it and the base's array is the output, with no copy.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, base, src, steps, dest=None):
        ctx.steps = steps
        if dest is not None:
            np.copyto(dest, src, casting="unsafe")
            return base
        out = base.copy()
        np.copyto(view_array(out, steps), src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        g_base = CopySlices.apply(grad, 0.0, ctx.steps) if need[0] else None
        g_src = replay_view(grad, ctx.steps) if need[1] else None
        return g_base, g_src, None, None

    @staticmethod
    def jvp(ctx, base_dot, src_dot, *_):
        return CopySlices.apply(base_dot, src_dot, ctx.steps)


class Gather(Function):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along ``dim`` (torch.gather).
    VJP: grad scatter-added into zeros of x's shape.   JVP: gather of x_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.x_shape = dim, index, x.shape
        xs, ish = x.shape, index.shape
        if (x.__class__ is np.ndarray and index.__class__ is np.ndarray and ish
                and len(xs) == len(ish) and xs[:dim] == ish[:dim] and xs[dim + 1:] == ish[dim + 1:]):
            # the common case (x and index agree outside dim): the fancy index that
            # np.take_along_axis builds, built here without its ~4 us of Python
            nd = len(ish)
            return x[tuple([index if d == dim else np.arange(n).reshape(
                (1,) * d + (n,) + (1,) * (nd - d - 1)) for d, n in enumerate(ish)])]
        # torch.gather allows an index smaller than x in the other dims: read that corner
        corner = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
        return np.take_along_axis(x[corner], index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        zeros = grad.new_zeros(ctx.x_shape)
        return ScatterAdd.apply(zeros, ctx.dim, ctx.index, grad), None, None

    @staticmethod
    def jvp(ctx, x_dot, *_):
        return Gather.apply(x_dot, ctx.dim, ctx.index)


def _scatter_index(x_shape, dim, index):
    """Full index arrays addressing x at ``index`` along ``dim`` (for np.add.at)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


class ScatterAdd(Function):
    """out = x with src[..] added at index along ``dim`` (torch.scatter_add).
    VJP: x gets grad; src gets gather(grad, dim, index).   JVP: scatter_add of the tangents."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src.shape
        out = x.copy()
        src = src[tuple(slice(0, n) for n in index.shape)]
        np.add.at(out, _scatter_index(x.shape, dim, index), src)
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        g_src = Gather.apply(grad, ctx.dim, ctx.index) if need[3] else None
        if g_src is not None and g_src.shape != ctx.src_shape:
            # src may be larger than index: its unused corner gets a zero gradient
            corner = tuple(slice(0, n) for n in ctx.index.shape)
            g_src = IndexAdd.apply(g_src, ctx.src_shape, corner)
        return (grad if need[0] else None), None, None, g_src

    @staticmethod
    def jvp(ctx, x_dot, _, __, src_dot):
        return ScatterAdd.apply(x_dot, ctx.dim, ctx.index, src_dot)


_NP_VIEW = {
    Reshape: lambda a, shape: a.reshape(shape),
    Permute: np.transpose,
    Expand: np.broadcast_to,
    Getitem: lambda a, idx: a[idx],
}
