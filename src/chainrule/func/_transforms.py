"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian``: derivatives of whole functions over pytrees of tensors, composable in any
order with each other and with ``vmap``.

Reverse mode records the forward on the physical (unbatched) tensors and calls the engine
with ``create_graph=True``, so an outer transform can differentiate the result again.
Inputs differentiated inside vmap are first broadcast over every active vmap level, so
their gradients are per example (``vmap(grad(loss), in_dims=(None, 0))(params, x)``).
Forward mode uses one new forward-AD level per ``jvp`` (levels nest: ``jacfwd(jacfwd(f))``).
``jacrev`` is ``vmap`` of ``vjp`` over the rows of an identity, ``jacfwd`` ``vmap`` of ``jvp``
over its columns (the tangents only are batched: the primal runs once).
"""

from __future__ import annotations

import functools

import numpy as np

from ..autograd import forward_ad as fwad
from ..autograd.engine import grad as _engine_grad
from ..autograd.functional import _prep as _prep_plain
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from ._batched import _STACK, build, flatten, lift_all
from ._dual import align_to, rebuild
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import _DEPTH, _outer_result, _transform, _watched

def _zeros_like(t):
    return Tensor._make(np.zeros(t._data.shape, t._data.dtype), False, None, 0)


def _argnums(argnums, n, name):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{name}: argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"{name}: argnums must be an int or a tuple of ints, got {a!r}")
        if not -n <= a < n:
            raise RuntimeError(f"{name}: Got argnums={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums), single


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return out


def _check_leaves(leaves, name, what="inputs"):
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{name}: expected {what} to be (pytrees of) tensors, got "
                               f"{type(x).__name__}")
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: only floating-point {what} can be differentiated, "
                               f"got {x.dtype}")


def prep(x):
    """A differentiable handle on x: broadcast over the active vmap levels, its physical
    value a fresh leaf (or a view connected to x's graph when x requires grad)."""
    P, dims = flatten(lift_all(x))
    return build(_prep_plain(P), dims)


def _top_level():
    return _STACK[-1].level if _STACK else 0


def _pruned(roots, inputs):
    """Per node, which inputs lead to the differentiated ``inputs`` (set as the nodes'
    ``needs_input_grad`` for one backward pass, so no unneeded gradient is computed);
    returns the previous values to restore."""
    leaf_ids = {id(t) for t in inputs if t.grad_fn is None}
    targets = {id(t.grad_fn) for t in inputs if t.grad_fn is not None}
    order = []  # post-order: every node after the nodes its edges lead to
    visited = set()
    stack = [(r.grad_fn, False) for r in roots if r.grad_fn is not None]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for e in node._edges or ():
            if e is not None and e[1] >= 0 and id(e[0]) not in visited:
                stack.append((e[0], False))
    reach = {}
    for node in order:
        r = id(node) in targets
        for e in node._edges or ():
            if e is not None and (id(e[0]) in leaf_ids if e[1] < 0 else reach[id(e[0])]):
                r = True
                break
        reach[id(node)] = r
    saved = []
    for node in order:
        needs = tuple([e is not None and (id(e[0]) in leaf_ids if e[1] < 0 else reach[id(e[0])])
                       for e in node._edges or ()])
        saved.append((node, node._needs))
        node._needs = needs
    return saved


def backward(outs, cts, inputs, keep_above):
    """Gradients of ``outs`` (weighted by cotangents ``cts``) w.r.t. prepared ``inputs``,
    recorded (create_graph) so they can be differentiated again."""
    roots, grads = [], []
    for o, c in zip(outs, cts):
        P, dims = flatten(o)
        if not P.requires_grad:
            continue
        if not isinstance(c, Tensor):
            c = Tensor._make(np.asarray(c, dtype=P._data.dtype), False, None, 0)
        roots.append(P)
        grads.append(align_to(c, P, dims, keep_above))
    phys = [flatten(x) for x in inputs]
    if not roots:
        return [_zeros_like(x) for x in inputs]
    saved = _pruned(roots, [P for P, _ in phys])
    try:
        with enable_grad():
            gs = _engine_grad(roots, [P for P, _ in phys], grads, retain_graph=True,
                              create_graph=True, allow_unused=True)
    finally:
        for node, old in saved:
            node._needs = old
    return [_zeros_like(x) if g is None else rebuild(g, dims)
            for x, g, (_, dims) in zip(inputs, gs, phys)]


# -- reverse mode ---------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """``torch.func.grad_and_value``: f -> (x -> (df/dx, f(x))) for a scalar-valued f
    (``((df/dx, (f(x), aux))`` with ``has_aux``). Inputs selected by ``argnums`` may be
    pytrees of tensors; the gradient has the same structure."""

    @_transform
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "grad_and_value")
        with enable_grad():
            args = list(args)
            specs = []
            for a in nums:
                leaves, spec = tree_flatten(args[a])
                _check_leaves(leaves, "grad")
                prepped = [prep(x) for x in leaves]
                specs.append((prepped, spec))
                args[a] = tree_unflatten(prepped, spec)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out).__name__}")
            if out._data.ndim != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                    f"got tensor with {out._data.ndim} dims. Maybe you wanted to use the "
                    "vjp or jacrev APIs instead?")
            flat = [x for prepped, _ in specs for x in prepped]
            one = Tensor._make(np.ones((), out._data.dtype), False, None, 0)
            gs = backward([lift_all(out)], [one], flat, _top_level())
        grads, k = [], 0
        for prepped, spec in specs:
            grads.append(tree_unflatten(gs[k:k + len(prepped)], spec))
            k += len(prepped)
        g = grads[0] if single else tuple(grads)
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``torch.func.grad``: f -> df/dx for a scalar-valued f (``(df/dx, aux)`` with
    ``has_aux``).

    Example::

        >>> chainrule.func.grad(lambda x: (x ** 3).sum())(chainrule.tensor([1.0, 2.0]))
        tensor([ 3., 12.])
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``torch.func.vjp``: ``(f(*primals), vjp_fn)`` (``+ aux``), where ``vjp_fn(v)`` returns
    a tuple with, per primal, v^T J (the pytree structure of that primal); v has f's
    output structure."""
    watched = _DEPTH[0] == 0 and _watched(primals)
    _DEPTH[0] += 1
    try:
        with enable_grad():
            specs, xs = [], []
            for p in primals:
                leaves, spec = tree_flatten(p)
                _check_leaves(leaves, "vjp")
                prepped = [prep(x) for x in leaves]
                specs.append((len(prepped), spec))
                xs.append(tree_unflatten(prepped, spec))
            flat_in = [x for p in xs for x in tree_flatten(p)[0]]
            out, aux = _split_aux(func(*xs), has_aux, "vjp")
            flat_out, out_spec = tree_flatten(out)
            _check_leaves(flat_out, "vjp", "outputs")
            flat_out = [lift_all(o) for o in flat_out]
    finally:
        _DEPTH[0] -= 1
    level = _top_level()

    def vjp_fn(*cotangents):
        ct = cotangents[0] if len(cotangents) == 1 else cotangents
        flat_ct, ct_spec = tree_flatten(ct)
        if len(flat_ct) != len(flat_out):
            raise RuntimeError(f"vjp_fn: expected {len(flat_out)} cotangents (the structure "
                               f"of the output), got {len(flat_ct)}")
        for o, c in zip(flat_out, flat_ct):
            if isinstance(c, Tensor) and tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"vjp_fn: Mismatch in shape: grad_output has shape "
                                   f"{tuple(c.shape)} and output has shape {tuple(o.shape)}")
        w = _DEPTH[0] == 0 and (watched or _watched(flat_ct))
        _DEPTH[0] += 1
        try:
            gs = backward(flat_out, flat_ct, flat_in, level)
        finally:
            _DEPTH[0] -= 1
        res, k = [], 0
        for n, spec in specs:
            res.append(tree_unflatten(gs[k:k + n], spec))
            k += n
        return _outer_result(tuple(res), w)

    shown = _outer_result(tree_unflatten(flat_out, out_spec) if not has_aux else out, watched)
    if has_aux:
        return shown, vjp_fn, _outer_result(aux, watched)
    return shown, vjp_fn


# -- forward mode ---------------------------------------------------------------------------
def _jvp(func, primals, tangents, has_aux, name="jvp"):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError(f"{name}: Expected primals and tangents to be tuples")
    fp, pspec = tree_flatten(tuple(primals))
    ft, tspec = tree_flatten(tuple(tangents))
    if pspec != tspec:
        raise RuntimeError(f"{name}: Expected primals and tangents to have the same python "
                           "structure")
    _check_leaves(fp, name, "primals")
    for p, t in zip(fp, ft):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{name}: Expected primals and tangents to have the same shape, "
                               f"got {tuple(p.shape)} and {tuple(t.shape)}")
    level = fwad._push()
    try:
        duals = [fwad.make_dual(p, t, level=level) for p, t in zip(fp, ft)]
        out, aux = _split_aux(func(*tree_unflatten(duals, pspec)), has_aux, name)
        flat_out, ospec = tree_flatten(out)
        _check_leaves(flat_out, name, "outputs")
        prim, tang = [], []
        for o in flat_out:
            p, t = fwad.unpack_dual(o, level=level)
            prim.append(p)
            tang.append(_zeros_like(o) if t is None else t)
    finally:
        fwad._pop(level)
    res = (tree_unflatten(prim, ospec), tree_unflatten(tang, ospec))
    return res + (aux,) if has_aux else res


@_transform
def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``torch.func.jvp``: ``(f(*primals), J tangents)`` (``+ aux``) by forward mode;
    ``primals`` and ``tangents`` are tuples of (pytrees of) tensors of equal structure."""
    return _jvp(func, primals, tangents, has_aux)


def linearize(func, *primals):
    """``torch.func.linearize``: ``(f(*primals), jvp_fn)`` with ``jvp_fn(*tangents) = J
    tangents``. (chainrule re-runs the forward in each ``jvp_fn`` call instead of tracing it
    once, as PyTorch does; results are the same.)"""
    out = jvp(func, primals, tuple(tree_map_zeros(p) for p in primals))[0]

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]

    return out, jvp_fn


def tree_map_zeros(p):
    leaves, spec = tree_flatten(p)
    return tree_unflatten([_zeros_like(x) for x in leaves], spec)
