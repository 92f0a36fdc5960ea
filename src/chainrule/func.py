"""``chainrule.func``: composable function transforms in the style of ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian`` and
``vmap`` (a loop over the batch dimension). Transforms nest: ``grad(grad(f))`` and
``jacfwd(jacrev(f))`` work because every gradient is computed with ``create_graph=True``
on a handle connected to the caller's graph.
"""

from __future__ import annotations

import numpy as np

from . import shape_ops
from .autograd import forward_ad as fwad
from .autograd.engine import grad as _grad
from .autograd.functional import _prep
from .autograd.grad_mode import enable_grad
from .tensor import Tensor


_DEPTH = [0]  # how many transforms are running (results are detached at the outermost)


def _transform(wrapper):
    """Count nesting; the outermost transform returns results detached from the graph."""

    def run(*args, **kwargs):
        _DEPTH[0] += 1
        try:
            result = wrapper(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
        return result if _DEPTH[0] else _detach(result)

    run.__wrapped__ = wrapper
    return run


def _detach(obj):
    if isinstance(obj, Tensor):
        return obj.detach()
    if isinstance(obj, tuple):
        return tuple(_detach(o) for o in obj)
    if isinstance(obj, list):
        return [_detach(o) for o in obj]
    return obj


def _argnums(argnums, n):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"argnums {a} out of range for a function of {n} positional arguments")
    return tuple(a % n for a in nums), single


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}(f, has_aux=True): f must return a (output, aux) tuple")
    return out


def grad_and_value(func, argnums=0, has_aux=False):
    """f -> (x -> (df/dx, f(x))) for a scalar-valued f."""

    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args))
        with enable_grad():
            args = list(args)
            for a in nums:
                args[a] = _prep(args[a])
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad")
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError(
                    "grad: f must return a scalar tensor (one element), got "
                    f"{'shape ' + str(tuple(out.shape)) if isinstance(out, Tensor) else type(out).__name__}"
                )
            if out.requires_grad:
                gs = _grad(out, [args[a] for a in nums], create_graph=True, allow_unused=True)
            else:
                gs = [None] * len(nums)
            gs = tuple(Tensor._make(np.zeros_like(args[a]._data), False, None, 0) if g is None
                       else g for a, g in zip(nums, gs))
        g = gs[0] if single else gs
        return (g, (out, aux)) if has_aux else (g, out)

    return _transform(wrapper)


def grad(func, argnums=0, has_aux=False):
    """f -> df/dx (``torch.func.grad``)."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return _transform(wrapper)


def vjp(func, *primals, has_aux=False):
    """(f(primals), vjp_fn) where vjp_fn(v) returns v^T J for each primal."""
    with enable_grad():
        xs = tuple(_prep(p) for p in primals)
        out, aux = _split_aux(func(*xs), has_aux, "vjp")

    def vjp_fn(*cotangents):
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        cts = cotangents[0] if len(cotangents) == 1 and isinstance(cotangents[0], tuple) else cotangents
        pairs = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
        if not pairs:
            return tuple(Tensor._make(np.zeros_like(x._data), False, None, 0) for x in xs)
        gs = _grad([o for o, _ in pairs], list(xs), [c for _, c in pairs], retain_graph=True,
                   create_graph=True, allow_unused=True)
        res = tuple(Tensor._make(np.zeros_like(x._data), False, None, 0) if g is None else g
                    for x, g in zip(xs, gs))
        return res if _DEPTH[0] else _detach(res)

    shown = out if _DEPTH[0] else _detach(out)
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(func, primals, tangents, *, has_aux=False):
    """(f(primals), J tangents) by forward mode."""
    with fwad.dual_level():
        xs = tuple(fwad.make_dual(p, t) for p, t in zip(primals, tangents))
        out, aux = _split_aux(func(*xs), has_aux, "jvp")
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        prim, tang = [], []
        for o in outs:
            p, t = fwad.unpack_dual(o)
            prim.append(p)
            tang.append(Tensor._make(np.zeros_like(o._data), False, None, 0) if t is None else t)
    single = isinstance(out, Tensor)
    res = (prim[0], tang[0]) if single else (tuple(prim), tuple(tang))
    return res + (aux,) if has_aux else res


def jacrev(func, argnums=0, *, has_aux=False):
    """f -> the Jacobian of f by reverse mode (one backward pass per output element)."""

    def wrapper(*args):
        nums, single = _argnums(argnums, len(args))
        with enable_grad():
            args = list(args)
            for a in nums:
                args[a] = _prep(args[a])
            out, aux = _split_aux(func(*args), has_aux, "jacrev")
            outs = (out,) if isinstance(out, Tensor) else tuple(out)
            result = []
            for o in outs:
                rows = [[] for _ in nums]
                n = o.numel()
                for i in range(n):
                    e = np.zeros(n, o._data.dtype)
                    e[i] = 1
                    ct = Tensor._make(e.reshape(o._data.shape), False, None, 0)
                    if o.requires_grad:
                        gs = _grad(o, [args[a] for a in nums], ct, retain_graph=True,
                                   create_graph=True, allow_unused=True)
                    else:
                        gs = [None] * len(nums)
                    for k, (a, g) in enumerate(zip(nums, gs)):
                        rows[k].append(Tensor._make(np.zeros_like(args[a]._data), False, None, 0)
                                       if g is None else g)
                Js = []
                for k, a in enumerate(nums):
                    shape = tuple(o.shape) + tuple(args[a].shape)
                    Js.append(shape_ops.stack(rows[k]).reshape(shape) if n else
                              Tensor._make(np.zeros(shape, args[a]._data.dtype), False, None, 0))
                result.append(Js[0] if single else tuple(Js))
        res = result[0] if isinstance(out, Tensor) else tuple(result)
        return (res, aux) if has_aux else res

    return _transform(wrapper)


def jacfwd(func, argnums=0, *, has_aux=False):
    """f -> the Jacobian of f by forward mode (one pass per input element)."""

    def wrapper(*args):
        nums, single = _argnums(argnums, len(args))
        per_arg = []
        aux = None
        out_struct = None
        for a in nums:
            x = args[a]
            n = x.numel()
            cols = None
            for i in range(n):
                e = np.zeros(n, x._data.dtype)
                e[i] = 1
                with fwad.dual_level():
                    new = list(args)
                    new[a] = fwad.make_dual(x, Tensor._make(e.reshape(x._data.shape), False, None, 0))
                    out, aux = _split_aux(func(*new), has_aux, "jacfwd")
                    outs = (out,) if isinstance(out, Tensor) else tuple(out)
                    out_struct = out
                    tans = []
                    for o in outs:
                        t = fwad.unpack_dual(o).tangent
                        tans.append(Tensor._make(np.zeros_like(o._data), False, None, 0)
                                    if t is None else t)
                if cols is None:
                    cols = [[] for _ in tans]
                    shapes = [tuple(o.shape) for o in outs]
                for k, t in enumerate(tans):
                    cols[k].append(t)
            per_arg.append([shape_ops.stack(c, dim=-1).reshape(shapes[k] + tuple(x.shape))
                            for k, c in enumerate(cols)])
        n_out = len(per_arg[0])
        result = []
        for k in range(n_out):
            Js = [per_arg[j][k] for j in range(len(nums))]
            result.append(Js[0] if single else tuple(Js))
        res = result[0] if isinstance(out_struct, Tensor) else tuple(result)
        return (res, aux) if has_aux else res

    return _transform(wrapper)


def hessian(func, argnums=0):
    """f -> the Hessian of a scalar f: ``jacfwd(jacrev(f))`` (forward-over-reverse)."""
    return jacfwd(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a batch dimension (a loop over the batch, then a stack)."""

    def wrapper(*args):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None and isinstance(a, Tensor)}
        if len(sizes) != 1:
            raise ValueError(f"vmap: expected one common batch size over mapped inputs, got {sizes}")
        (n,) = sizes
        results = []
        for i in range(n):
            sl = [a.select(d, i) if (d is not None and isinstance(a, Tensor)) else a
                  for a, d in zip(args, dims)]
            results.append(func(*sl))
        if isinstance(results[0], Tensor):
            return shape_ops.stack(results, dim=out_dims)
        return tuple(shape_ops.stack([r[k] for r in results], dim=out_dims)
                     for k in range(len(results[0])))

    return wrapper
