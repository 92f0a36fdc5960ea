"""The public functions of the shape primitives (``ops/shape.py``) that reshape, permute,
expand, join, split, flip and repeat tensors (indexing is in ``shape_index.py``)."""

from __future__ import annotations

import builtins

import numpy as np

from .. import _dtype
from ..ops import shape as P
from ..tensor import Tensor, _norm_dim
from ._common import _tensors


def _size_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _reshape_error(input, shape):  # noqa: A002
    return RuntimeError(f"reshape: shape {list(shape)} is invalid for input of size "
                        f"{input._data.size} (input shape {tuple(input._data.shape)})")


def reshape(input, *shape):  # noqa: A002
    """The same elements in a new shape (one size may be -1)."""
    if len(shape) == 1 and shape[0].__class__ is not int and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _reshaped(input, shape)


def _reshaped(input, shape):  # noqa: A002
    if shape == input._data.shape:
        return input
    try:
        return P.Reshape.apply(input, shape)
    except (ValueError, TypeError):
        raise _reshape_error(input, shape) from None


def view(input, *shape):  # noqa: A002
    """``reshape`` (chainrule views and copies behave the same for autograd)."""
    if len(shape) == 1 and shape[0].__class__ is not int:
        s = shape[0]
        if isinstance(s, (tuple, list)):
            shape = tuple(s)
        elif isinstance(s, (_dtype.dtype, type, np.dtype)):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return _reshaped(input, shape)


def view_as(input, other):  # noqa: A002
    return P.Reshape.apply(input, tuple(other._data.shape))


def reshape_as(input, other):  # noqa: A002
    return reshape(input, tuple(other._data.shape))


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    if start_dim == 0 and end_dim == -1:  # all dims (the default)
        return reshape(input, (input._data.size,))
    s = _norm_dim(start_dim, len(shape), "flatten")
    e = _norm_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):  # noqa: A002
    shape = input._data.shape
    d = _norm_dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != shape[d]:
        raise RuntimeError(
            f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[d]}) in the input tensor"
        )
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def squeeze(input, dim=None):  # noqa: A002
    shape = input._data.shape
    n = len(shape)
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    elif dim.__class__ is int and -n <= dim < n:  # one dim, in range (n > 0)
        d = dim % n
        new = shape[:d] + shape[d + 1:] if shape[d] == 1 else shape
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_norm_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return reshape(input, new)


def unsqueeze(input, dim):  # noqa: A002
    shape = input._data.shape
    d = _norm_dim(dim, len(shape) + 1, "unsqueeze")
    return P.Reshape.apply(input, shape[:d] + (1,) + shape[d:])


def permute(input, *dims):  # noqa: A002
    dims = _size_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute: number of dims don't match: the input has {n} dims but {len(dims)} "
            f"were given ({tuple(dims)})"
        )
    dims = tuple([d if d.__class__ is int and 0 <= d < n else _norm_dim(d, n, "permute")
                  for d in dims])
    if len(set(dims)) != n:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    if dims == tuple(range(n)):
        return input
    return P.Permute.apply(input, dims)


def transpose(input, dim0, dim1):  # noqa: A002
    n = input._data.ndim
    if n == 0:
        return input
    d0, d1 = _norm_dim(dim0, n, "transpose"), _norm_dim(dim1, n, "transpose")
    if d0 == d1:
        return input
    dims = list(range(n))
    dims[d0], dims[d1] = d1, d0
    return P.Permute.apply(input, tuple(dims))  # a valid order: no checks needed


swapaxes = swapdims = transpose


def t(input):  # noqa: A002
    if input._data.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but got {input._data.ndim}")
    return transpose(input, 0, -1) if input._data.ndim == 2 else input


def movedim(input, source, destination):  # noqa: A002
    n = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_norm_dim(s, n, "movedim") for s in src]
    dst = [_norm_dim(d, n, "movedim") for d in dst]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


def expand(input, *sizes):  # noqa: A002
    """Broadcast to ``sizes`` (-1 keeps a dim) without copying."""
    if len(sizes) == 1 and sizes[0].__class__ is not int and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = input._data.shape
    if sizes == shape:
        return input
    if len(sizes) == len(shape) and -1 not in sizes:
        try:  # the common case; a mismatch gets the message below
            return P.Expand.apply(input, sizes)
        except ValueError:
            pass
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    new = []
    for i, s in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, new dimension")
            s = old
        if old is not None and old != 1 and old != s:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({old}) at non-singleton dimension {i}; target sizes {list(sizes)}, tensor "
                f"sizes {list(shape)}"
            )
        new.append(int(s))
    new = tuple(new)
    if new == shape:
        return input
    return P.Expand.apply(input, new)


def expand_as(input, other):  # noqa: A002
    return expand(input, tuple(other._data.shape))


def broadcast_to(input, shape):  # noqa: A002
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def cat(tensors, dim=0):
    """Concatenate along an existing dim; shapes must match elsewhere."""
    ts = list(tensors)
    dt = ts[0]._data.dtype if len(ts) > 1 and ts[0].__class__ is Tensor else None
    for x in ts:  # the common case: plain tensors of one dtype, none of them empty
        if x.__class__ is not Tensor:
            dt = None
            break
        a = x._data
        if a.dtype is not dt or not a.size and a.ndim == 1:
            dt = None
            break
    if dt is None:
        ts = _tensors(ts, "cat")
        ts = [x for x in ts if not (x._data.ndim == 1 and x._data.shape[0] == 0)] or ts[:1]
        if len(ts) == 1:
            return ts[0]
    n = ts[0]._data.ndim
    d = dim if dim.__class__ is int and 0 <= dim < n else _norm_dim(dim, n, "cat")
    try:
        return P.Cat.apply(d, *ts)
    except (ValueError, IndexError, TypeError):
        ref = ts[0]._data.shape
        for i, x in enumerate(ts):
            s = x._data.shape
            if not s:
                raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                                   "concatenated; give it a dim first, e.g. t.view(1)") from None
            if len(s) != len(ref) or builtins.any(
                    a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
                raise RuntimeError(
                    f"cat: sizes of tensors must match except in dimension {d}: tensor 0 has "
                    f"shape {tuple(ref)} but tensor {i} has shape {tuple(s)}"
                ) from None
        raise


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join tensors of equal shape along a new dim."""
    ts = _tensors(tensors, "stack")
    shape = ts[0]._data.shape
    for i, x in enumerate(ts):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tuple(shape)} at entry 0 "
                f"and {tuple(x._data.shape)} at entry {i}")
    d = _norm_dim(dim, len(shape) + 1, "stack")
    new = shape[:d] + (1,) + shape[d:]  # each tensor unsqueezed at d
    return P.Cat.apply(d, *[P.Reshape.apply(x, new) for x in ts])


def hstack(tensors):
    ts = list(tensors)
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([x if x._data.ndim > 1 else x.reshape(1, -1) for x in tensors], 0)


def narrow(input, dim, start, length):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[d]
    if start < 0:
        start += size
    if not (0 <= start and start + length <= size):
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return P.Getitem.apply(input, idx)


def split(tensor, split_size_or_sections, dim=0):
    d = _norm_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split: split sizes {sizes} don't sum to the size of dim {dim} ({n})"
            )
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):  # noqa: A002
    n = input._data.shape[_norm_dim(dim, input._data.ndim, "chunk")]
    size = -(-n // chunks) if n else 1
    return split(input, builtins.max(size, 1), dim)


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        bounds = [0] + list(indices_or_sections) + [n]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return split(input, sizes, d)


def unbind(input, dim=0):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "unbind")
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def select(input, dim, index):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "select")
    return P.Getitem.apply(input, (slice(None),) * d + (int(index),))


def flip(input, dims):  # noqa: A002
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return P.Flip.apply(input, tuple(_norm_dim(d, input._data.ndim, "flip") for d in dims))


def fliplr(input):  # noqa: A002
    return flip(input, 1)


def flipud(input):  # noqa: A002
    return flip(input, 0)


def roll(input, shifts, dims=None):  # noqa: A002
    if dims is None:
        return roll(input.flatten(), shifts, 0).reshape(input._data.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = input
    for s, d in zip(shifts, dims):
        n = input._data.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return out


def repeat(input, *sizes):  # noqa: A002
    """Tile the tensor ``sizes[i]`` times along dim i (PyTorch's ``repeat``)."""
    reps = _size_arg(sizes)
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError(
            "repeat: number of repeat dims can not be smaller than the number of tensor dims"
        )
    shape = (1,) * (len(reps) - len(shape)) + tuple(shape)
    inter = []
    final = []
    for r, s in zip(reps, shape):
        inter += [1, s]
        final.append(r * s)
    x = reshape(input, tuple(inter))
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    return reshape(expand(x, tuple(big)), tuple(final))


def tile(input, dims):  # noqa: A002
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


__all__ = [
    "broadcast_tensors", "broadcast_to", "cat", "chunk", "concat", "concatenate", "expand",
    "expand_as", "flatten", "flip", "fliplr", "flipud", "hstack", "movedim", "narrow",
    "permute", "repeat", "reshape", "reshape_as", "roll", "select", "split", "squeeze", "stack",
    "swapaxes", "swapdims", "t", "tensor_split", "tile", "transpose", "unbind", "unflatten",
    "unsqueeze", "view", "view_as", "vstack"
]
