"""Shape, indexing and matrix-product functions (``chainrule.reshape``, ``cat``, ``matmul``,
indexing ...) composed from the primitives in ``chainrule.ops``."""

from __future__ import annotations

import builtins

import numpy as np

from . import _dtype
from . import ops as P
from .tensor import Tensor, _norm_dim


def _size_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(input, *shape):  # noqa: A002
    """The same elements in a new shape (one size may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if shape == input._data.shape:
        return input
    try:
        return P.Reshape.apply(input, shape)
    except (ValueError, TypeError):
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {input._data.size} "
            f"(input shape {tuple(input._data.shape)})"
        ) from None


def view(input, *shape):  # noqa: A002
    """``reshape`` (chainrule views and copies behave the same for autograd)."""
    if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type, np.dtype)):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return reshape(input, *shape)


def view_as(input, other):  # noqa: A002
    return P.Reshape.apply(input, tuple(other._data.shape))


def reshape_as(input, other):  # noqa: A002
    return reshape(input, tuple(other._data.shape))


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
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
    if dim is None:
        new = tuple(s for s in shape if s != 1)
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
    dims = tuple(_norm_dim(d, n, "permute") for d in dims)
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
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, dims)


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
    sizes = _size_arg(sizes)
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


def _tensors(seq, op):
    out = list(seq)
    if not out:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    dt = None
    mixed = False
    for x in out:
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(x).__name__}")
        if dt is None:
            dt = x._data.dtype
        elif x._data.dtype != dt:
            mixed = True
    if mixed:
        from .tensor_ops import _result_dtype

        r = out[0]._data
        for x in out[1:]:
            r = np.empty((1,), _result_dtype(r, x._data))
        out = [x if x._data.dtype == r.dtype else P.Cast.apply(x, r.dtype) for x in out]
    return out


def cat(tensors, dim=0):
    """Concatenate along an existing dim; shapes must match elsewhere."""
    ts = _tensors(tensors, "cat")
    ts = [x for x in ts if not (x._data.ndim == 1 and x._data.shape[0] == 0)] or ts[:1]
    if len(ts) == 1:
        return ts[0]
    d = _norm_dim(dim, ts[0]._data.ndim, "cat")
    try:
        return P.Cat.apply(d, *ts)
    except ValueError:
        ref = ts[0]._data.shape
        for i, x in enumerate(ts):
            s = x._data.shape
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
                f"and {tuple(x._data.shape)} at entry {i}"
            )
    d = _norm_dim(dim, len(shape) + 1, "stack")
    return P.Cat.apply(d, *[unsqueeze(x, d) for x in ts])


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


def repeat_interleave(input, repeats, dim=None):  # noqa: A002
    if dim is None:
        input, dim = input.flatten(), 0
    d = _norm_dim(dim, input._data.ndim, "repeat_interleave")
    n = input._data.shape[d]
    idx = np.repeat(np.arange(n), repeats if isinstance(repeats, int) else _raw(repeats))
    return index_select(input, d, Tensor._make(idx, False, None, 0))


# -- indexing ---------------------------------------------------------------------------
def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _index(idx):
    """Turn a PyTorch index (with tensors and lists) into a NumPy one."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int or bool tensors")
            out.append(int(a) if a.ndim == 0 and a.dtype.kind in "iu" else a)
        elif isinstance(i, list):
            a = np.asarray(i)
            if a.dtype.kind not in "iub":
                raise IndexError(f"index lists must hold integers or booleans, got {i!r}")
            out.append(a)
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            out.append(int(i))
        else:
            out.append(i)
    return tuple(out)


def getitem(input, idx):  # noqa: A002
    """``x[idx]``: ints, slices, None, Ellipsis, integer and boolean arrays (as NumPy)."""
    np_idx = _index(idx)
    try:
        return P.Getitem.apply(input, np_idx)
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor shape {tuple(input._data.shape)})") from None


def index_select(input, dim, index):  # noqa: A002
    d = _norm_dim(dim, input._data.ndim, "index_select")
    idx = _raw(index)
    if idx.ndim > 1:
        raise IndexError("index_select: index must be 1-D")
    return P.Getitem.apply(input, (slice(None),) * d + (idx.astype(np.int64, copy=False),))


def masked_fill(input, mask, value):  # noqa: A002
    """Elements of ``input`` where ``mask`` is True replaced by ``value``."""
    m = _raw(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, got {np.dtype(m.dtype)}")
    if isinstance(value, Tensor):
        v = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
    else:
        v = np.asarray(value, input._data.dtype)
    return P.Where.apply(Tensor._make(m, False, None, 0), v, input)


def masked_select(input, mask):  # noqa: A002
    m = np.broadcast_to(_raw(mask), np.broadcast_shapes(_raw(mask).shape, input._data.shape))
    return getitem(expand(input, m.shape), m)


def _check_index(op, input, index, dim):
    idx = _raw(index)
    if not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an int64 index tensor")
    if idx.ndim != input._data.ndim:
        raise RuntimeError(
            f"{op}: index tensor must have the same number of dimensions as the input "
            f"({idx.ndim} vs {input._data.ndim})"
        )
    n = input._data.shape[dim]
    vals = idx
    if idx.__class__ is not np.ndarray or idx.base is not None:  # under vmap: every element
        from .func._batched import physical

        vals = physical(idx)
    if vals.size and (vals.min() < -n or vals.max() >= n):
        raise IndexError(
            f"{op}: index {int(vals.max() if vals.max() >= n else vals.min())} is out of "
            f"bounds for dimension {dim} with size {n}"
        )
    return idx


def gather(input, dim, index):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] for dim = 0 (and so on for other dims)."""
    d = _norm_dim(dim, input._data.ndim, "gather")
    return P.Gather.apply(input, d, _check_index("gather", input, index, d))


def take_along_dim(input, indices, dim=None):  # noqa: A002
    if dim is None:
        return gather(input.flatten(), 0, Tensor._make(_raw(indices).reshape(-1), False, None, 0))
    d = _norm_dim(dim, input._data.ndim, "take_along_dim")
    idx = _raw(indices)
    shape = list(np.broadcast_shapes(tuple(s for i, s in enumerate(input._data.shape) if i != d),
                                     tuple(s for i, s in enumerate(idx.shape) if i != d)))
    in_shape = shape[:d] + [input._data.shape[d]] + shape[d:]
    idx_shape = shape[:d] + [idx.shape[d]] + shape[d:]
    return gather(expand(input, in_shape), d,
                  Tensor._make(np.broadcast_to(idx, idx_shape), False, None, 0))


def scatter_add(input, dim, index, src):  # noqa: A002
    """out = input with src added at index along dim (repeated indices accumulate)."""
    d = _norm_dim(dim, input._data.ndim, "scatter_add")
    return P.ScatterAdd.apply(input, d, _check_index("scatter_add", input, index, d), src)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):  # noqa: A002
    """out = input with src (or value) written at index along dim. Where an index repeats,
    the last write wins (PyTorch leaves the choice unspecified) and only it gets a gradient."""
    from .ops.shape import _scatter_index

    d = _norm_dim(dim, input._data.ndim, "scatter")
    idx = _check_index("scatter", input, index, d)
    src = value if src is None else src
    if not isinstance(src, Tensor):
        src = Tensor._make(np.full(idx.shape, src, input._data.dtype), False, None, 0)
    target = _scatter_index(input._data.shape, d, idx)
    writer = np.full(input._data.shape, -1)
    ids = np.arange(idx.size).reshape(idx.shape)
    writer[target] = ids  # with repeated targets, the last assignment stays
    cleared = masked_fill(input, Tensor._make(writer >= 0, False, None, 0), 0.0)
    src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    losers = writer[target] != ids
    if losers.any():
        src = masked_fill(src, Tensor._make(losers, False, None, 0), 0.0)
    return P.ScatterAdd.apply(cleared, d, idx, src)


def nonzero(input, *, as_tuple=False):  # noqa: A002
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), False, None, 0) for i in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64), False, None, 0)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    from .tensor_ops import MinMax

    d = _norm_dim(dim, input._data.ndim, "sort")
    a = input._data
    idx = np.argsort(-a if descending else a, axis=d, kind="stable")
    return MinMax(gather(input, d, Tensor._make(idx, False, None, 0)),
                  Tensor._make(idx.astype(np.int64), False, None, 0))


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    return sort(input, dim, descending, stable)[1]


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    from .tensor_ops import MinMax

    values, indices = sort(input, dim, descending=largest)
    d = _norm_dim(dim, input._data.ndim, "topk")
    return MinMax(narrow(values, d, 0, k), narrow(indices, d, 0, k))


# -- matrix products -------------------------------------------------------------------
def matmul(input, other):  # noqa: A002
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims."""
    from .tensor_ops import _promote

    a, b = _promote(input, other)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(sa)} and {tuple(sb)}"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: inner dimensions {ka} and {kb} differ"
        )
    try:
        if len(sa) > 2 and len(sb) > 2:
            np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: batch dimensions {tuple(sa[:-2])} and "
            f"{tuple(sb[:-2])} don't broadcast"
        ) from None
    if len(sa) == 1 and len(sb) == 1:
        return reshape(P.MatMul.apply(reshape(a, (1, ka)), reshape(b, (ka, 1))), ())
    if len(sa) == 1:
        out = P.MatMul.apply(reshape(a, (1, ka)), b)
        return squeeze(out, -2)
    if len(sb) == 1:
        out = P.MatMul.apply(a, reshape(b, (kb, 1)))
        return squeeze(out, -1)
    return P.MatMul.apply(a, b)


def mm(input, mat2):  # noqa: A002
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ ({input._data.shape[0]} and {mat2._data.shape[0]})")
    return matmul(input, mat2)


def mv(input, vec):  # noqa: A002
    return matmul(input, vec)


def dot(input, other):  # noqa: A002
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got {input._data.ndim}-D and {other._data.ndim}-D")
    if input._data.shape != other._data.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensors of the same size but got "
            f"{input._data.shape[0]} and {other._data.shape[0]} elements"
        )
    return matmul(input, other)


inner = dot


def outer(input, vec2):  # noqa: A002
    return reshape(input, (-1, 1)) * reshape(vec2, (1, -1))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    return beta * input + alpha * matmul(mat1, mat2)


def einsum(equation, *operands):
    """Einstein summation, composed from permute/reshape/multiply/sum (and matmul for pairs)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        counts = {}
        for c in lhs.replace(",", ""):
            counts[c] = counts.get(c, 0) + 1
        out = "".join(sorted(c for c, n in counts.items() if n == 1 and c != "."))
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum: equation has {len(terms)} operands but {len(operands)} were given")
    if "..." in eq:
        raise NotImplementedError("einsum: ellipsis is not supported")
    sizes = {}
    ops = []
    for term, x in zip(terms, operands):
        if len(term) != x._data.ndim:
            raise RuntimeError(
                f"einsum: operand '{term}' has {len(term)} subscripts but the tensor has "
                f"{x._data.ndim} dims (shape {tuple(x._data.shape)})"
            )
        if len(set(term)) != len(term):
            raise NotImplementedError("einsum: repeated subscripts in one operand (diagonals)")
        for c, s in zip(term, x._data.shape):
            if sizes.setdefault(c, s) != s and s != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum: subscript '{c}' has sizes {sizes[c]} and {s}")
            sizes[c] = builtins.max(sizes[c], s)
        ops.append((term, x))
    letters = "".join(dict.fromkeys("".join(terms)))
    result = None
    for term, x in ops:
        # align x to the order of `letters`, inserting size-1 dims for absent letters
        present = [c for c in letters if c in term]
        x = permute(x, [term.index(c) for c in present])
        shape = tuple(x._data.shape[present.index(c)] if c in term else 1 for c in letters)
        x = reshape(x, shape)
        result = x if result is None else result * x
    summed = tuple(i for i, c in enumerate(letters) if c not in out)
    if summed:
        result = result.sum(summed)
    kept = [c for c in letters if c in out]
    result = permute(result, [kept.index(c) for c in out]) if kept else result
    return result

__all__ = [
    "addmm", "argsort", "bmm", "broadcast_tensors", "broadcast_to", "cat", "chunk", "concat",
    "concatenate", "dot", "einsum", "expand", "expand_as", "flatten", "flip", "fliplr",
    "flipud", "gather", "ger", "hstack", "index_select", "inner", "masked_fill",
    "masked_select", "matmul", "mm", "movedim", "mv", "narrow", "nonzero", "outer", "permute",
    "repeat", "repeat_interleave", "reshape", "reshape_as", "roll", "scatter", "scatter_add",
    "select", "sort", "split", "squeeze", "stack", "swapaxes", "swapdims", "t",
    "take_along_dim", "tensor_split", "tile", "topk", "transpose", "unbind", "unflatten",
    "unsqueeze", "view", "view_as", "vstack",
]
