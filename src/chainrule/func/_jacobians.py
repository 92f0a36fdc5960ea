"""``jacrev``, ``jacfwd``, ``hessian``: Jacobians as ``vmap`` of ``vjp`` over the rows of an
identity, or of ``jvp`` over its columns (only the tangents batched: the primal runs once)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._levels import pop_level, push_level
from ._pytree import tree_flatten, tree_unflatten
from ._transforms import _argnums, _check_leaves, _jvp, vjp
from ._vmap import _transform, _unbatch


def _basis(sizes, dtype):
    """Rows of an identity split into per-leaf blocks: block j has shape (total, n_j)."""
    total = sum(sizes)
    eye = np.eye(total, dtype=dtype)
    blocks, k = [], 0
    for n in sizes:
        blocks.append(eye[:, k:k + n])
        k += n
    return total, blocks


def _vmapped(fn, tangent_only, size, chunk_size, batched):
    """Run fn over leading-dim batches (a private vmap level; chunked if asked)."""
    from ..functions import shape as FS
    from ._batched import wrap

    def once(parts, n):
        lv = push_level(n, "error")
        lv.tangent_only = tangent_only
        try:
            out = fn([wrap(p, 0, lv.level) for p in parts])
        finally:
            pop_level(lv)
        return [_unbatch(o, lv.level, n, 0) for o in out]

    if chunk_size is None or chunk_size >= size:
        return once(batched, size)
    pieces = [once([b.narrow(0, s, min(chunk_size, size - s)) for b in batched],
                   min(chunk_size, size - s)) for s in range(0, size, chunk_size)]
    return [FS.cat([p[k] for p in pieces], 0) for k in range(len(pieces[0]))]


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``torch.func.jacrev``: the Jacobian of f by reverse mode, ``vmap`` of ``vjp`` over the
    rows of an identity (``chunk_size`` rows at a time). Output structure: per output leaf,
    the input's structure (a tuple over ``argnums`` when it is a tuple)."""

    @_transform
    def wrapper(*args):
        nums, single = _argnums(argnums, len(args), "jacrev")

        def selected(*sel):
            a = list(args)
            for i, s in zip(nums, sel):
                a[i] = s
            return func(*a)

        res = vjp(selected, *[args[i] for i in nums], has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        aux = res[2] if has_aux else None
        out_leaves, ospec = tree_flatten(out)
        sizes = [o.numel() for o in out_leaves]
        total, blocks = _basis(sizes, out_leaves[0]._data.dtype)
        cts = [Tensor._make(np.ascontiguousarray(b).reshape((total,) + tuple(o.shape))
                            .astype(o._data.dtype, copy=False), False, None, 0)
               for b, o in zip(blocks, out_leaves)]
        in_specs = [tree_flatten(args[i]) for i in nums]

        def rows(parts):
            g = vjp_fn(tree_unflatten(parts, ospec))
            return [x for gi in g for x in tree_flatten(gi)[0]]

        flat = _vmapped(rows, False, total, chunk_size, cts) if total else None
        result = []
        for k, o in enumerate(out_leaves):
            start = sum(sizes[:k])
            groups, j = [], 0
            for leaves, spec in in_specs:
                Js = []
                for x in leaves:
                    shape = tuple(o.shape) + tuple(x.shape)
                    if flat is None:
                        Js.append(Tensor._make(np.zeros(shape, x._data.dtype), False, None, 0))
                    else:
                        Js.append(flat[j].narrow(0, start, sizes[k]).reshape(shape))
                    j += 1
                groups.append(tree_unflatten(Js, spec))
            result.append(groups[0] if single else tuple(groups))
        jac = tree_unflatten(result, ospec)
        return (jac, aux) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error", chunk_size=None):
    """``torch.func.jacfwd``: the Jacobian of f by forward mode, ``vmap`` of ``jvp`` over
    the columns of an identity (only the tangents are batched: the primal runs once)."""

    @_transform
    def wrapper(*args):
        nums, single = _argnums(argnums, len(args), "jacfwd")
        prim = tuple(args[i] for i in nums)
        leaves, pspec = tree_flatten(prim)
        _check_leaves(leaves, "jacfwd")
        sizes = [x.numel() for x in leaves]
        total, blocks = _basis(sizes, leaves[0]._data.dtype)
        basis = [Tensor._make(np.ascontiguousarray(b).reshape((total,) + tuple(x.shape))
                              .astype(x._data.dtype, copy=False), False, None, 0)
                 for b, x in zip(blocks, leaves)]
        info = {}

        def selected(*sel):
            a = list(args)
            for i, s in zip(nums, sel):
                a[i] = s
            return func(*a)

        def cols(parts):
            res = _jvp(selected, prim, tree_unflatten(parts, pspec), has_aux, "jacfwd")
            out_leaves, ospec = tree_flatten(res[0])
            info["out"], info["spec"] = out_leaves, ospec
            if has_aux:
                info["aux"] = res[2]
            return tree_flatten(res[1])[0]

        tans = _vmapped(cols, True, total, chunk_size, basis)
        out_leaves, ospec = info["out"], info["spec"]
        in_specs = [tree_flatten(args[i]) for i in nums]
        result = []
        for k, o in enumerate(out_leaves):
            t = tans[k]  # (total,) + o.shape
            t = t.movedim(0, -1) if t._data.ndim > 1 else t
            groups, start = [], 0
            for lv, spec in in_specs:
                Js = []
                for x in lv:
                    n = x.numel()
                    Js.append(t.narrow(-1, start, n).reshape(tuple(o.shape) + tuple(x.shape)))
                    start += n
                groups.append(tree_unflatten(Js, spec))
            result.append(groups[0] if single else tuple(groups))
        jac = tree_unflatten(result, ospec)
        return (jac, info.get("aux")) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """``torch.func.hessian``: ``jacfwd(jacrev(f))`` (forward-over-reverse)."""
    return jacfwd(jacrev(func, argnums), argnums)
