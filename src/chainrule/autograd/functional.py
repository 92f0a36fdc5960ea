"""``chainrule.autograd.functional``: derivatives of whole functions.

``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp`` with PyTorch's signatures and
output conventions (a tuple of inputs gives a tuple of results; ``J[i][j]`` is
d output_i / d input_j with shape ``out_i.shape + in_j.shape``).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import forward_ad as fwad
from .engine import grad as _grad
from .grad_mode import enable_grad


def _as_tuple(x):
    return (x, False) if isinstance(x, tuple) else ((x,), True)


def _prep(x: Tensor) -> Tensor:
    """A fresh differentiable handle on ``x``: connected to x's graph when x is itself being
    differentiated (so transforms nest), a new leaf otherwise; keeps a forward tangent."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected tensors as inputs, got {type(x).__name__}")
    if x.requires_grad:
        return x.view_as(x)
    t = Tensor._make(x._data, False, None, 0)
    t._fw = x._fw
    return t.requires_grad_(True)


def _zeros_for(t):
    return Tensor._make(np.zeros_like(t._data), False, None, 0)


def _grads(outputs, inputs, grad_outputs, create_graph, retain_graph=True, strict=False,
           what="output"):
    outs = [o for o in outputs if o.requires_grad]
    gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not outs:
        res = [None] * len(inputs)
    else:
        res = _grad(outs, list(inputs), gos, retain_graph=retain_graph,
                    create_graph=create_graph, allow_unused=True)
    if strict:
        for j, g in enumerate(res):
            if g is None:
                raise RuntimeError(
                    f"The {what} of the user-provided function is independent of input {j}. "
                    "This is not allowed in strict mode.")
    return [_zeros_for(x) if g is None else g for x, g in zip(inputs, res)]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    inputs, single_in = _as_tuple(inputs)
    with enable_grad():
        xs = tuple(_prep(x) for x in inputs)
        outputs = func(*xs)
        outs, single_out = _as_tuple(outputs)
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("vjp: v can be omitted only when func returns a single scalar")
            vs = (Tensor._make(np.ones_like(outs[0]._data), False, None, 0),)
        else:
            vs, _ = _as_tuple(v)
        gs = _grads(outs, xs, vs, create_graph, strict=strict)
    outs = outs if create_graph else tuple(o.detach() for o in outs)
    gs = gs if create_graph else [g.detach() for g in gs]
    return (outs[0] if single_out else outs), (gs[0] if single_in else tuple(gs))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by forward mode."""
    inputs, single_in = _as_tuple(inputs)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("jvp: v can be omitted only for a single one-element input")
        v = (Tensor._make(np.ones_like(inputs[0]._data), False, None, 0),)
    vs, _ = _as_tuple(v)
    with fwad.dual_level():
        xs = tuple(fwad.make_dual(x.detach() if not create_graph else x, t)
                   for x, t in zip(inputs, vs))
        outputs = func(*xs)
        outs, single_out = _as_tuple(outputs)
        prim, tang = [], []
        for o in outs:
            p, t = fwad.unpack_dual(o)
            prim.append(p if create_graph else p.detach())
            tang.append(_zeros_for(o) if t is None else (t if create_graph else t.detach()))
    return (prim[0] if single_out else tuple(prim)), (tang[0] if single_out else tuple(tang))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: one reverse pass per output element
    (``strategy="reverse-mode"``) or one forward pass per input element ("forward-mode")."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    if strategy == "forward-mode" and not vectorize:  # as PyTorch
        raise NotImplementedError(
            "jacobian: strategy='forward-mode' requires vectorize=True (as in PyTorch)"
        )
    if strict and vectorize:
        raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                           "together; set strict=False")
    if strict and strategy == "forward-mode":
        raise RuntimeError("jacobian: strict=True is not supported with "
                           "strategy='forward-mode'")
    inputs, single_in = _as_tuple(inputs)
    if vectorize:
        return _jacobian_vectorized(func, inputs, single_in, create_graph, strategy)
    with enable_grad():
        xs = tuple(_prep(x) for x in inputs)
        outputs = func(*xs)
        outs, single_out = _as_tuple(outputs)
        rows = []
        for o in outs:
            per_input = [[] for _ in xs]
            flat_n = o.numel()
            for i in range(flat_n):
                e = np.zeros(flat_n, o._data.dtype)
                e[i] = 1
                gs = _grads((o,), xs, (Tensor._make(e.reshape(o._data.shape), False, None, 0),),
                            create_graph, strict=strict, what=f"output {len(rows)}")
                for j, g in enumerate(gs):
                    per_input[j].append(g)
            row = []
            for j, x in enumerate(xs):
                from ..functions import shape as FS

                if flat_n:
                    J = FS.stack(per_input[j]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    J = Tensor._make(np.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype),
                                     False, None, 0)
                row.append(J if create_graph else J.detach())
            rows.append(tuple(row))
    return _pack(rows, single_in, single_out)


def _jacobian_vectorized(func, inputs, single_in, create_graph, strategy):
    """One vmap over the basis (``chainrule.func.jacrev``/``jacfwd``)."""
    from .. import func as F

    transform = F.jacrev if strategy == "reverse-mode" else F.jacfwd
    xs = tuple(x if create_graph else x.detach() for x in inputs)
    out_single = []

    def f(*args):
        out = func(*args)
        out_single.append(isinstance(out, Tensor))
        return out

    with enable_grad():
        J = transform(f, argnums=tuple(range(len(xs))))(*xs)
    single_out = out_single[-1]
    rows = [J] if single_out else list(J)
    rows = [tuple(r if create_graph else r.detach() for r in row) for row in rows]
    return _pack(rows, single_in, single_out)


def _pack(rows, single_in, single_out):
    if single_in:
        rows = [r[0] for r in rows]
    else:
        rows = [tuple(r) for r in rows]
    return rows[0] if single_out else tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs`` (the Jacobian of its gradient)."""
    inputs, single_in = _as_tuple(inputs)

    def gradient(*xs):
        with enable_grad():
            ys = tuple(_prep(x) for x in xs)
            out = func(*ys)
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("hessian: func must return a single-element tensor")
            gs = _grads((out,), ys, (Tensor._make(np.ones_like(out._data), False, None, 0),),
                        create_graph=True, strict=strict)
        return tuple(gs)

    H = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                 vectorize=vectorize, strategy=outer_jacobian_strategy)
    if single_in:
        return H[0][0]
    return H


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) by reverse-over-reverse."""
    inputs, single_in = _as_tuple(inputs)
    vs, _ = _as_tuple(v)
    with enable_grad():
        xs = tuple(_prep(x) for x in inputs)
        out = func(*xs)
        gs = _grads((out,), xs, (Tensor._make(np.ones_like(out._data), False, None, 0),),
                    create_graph=True, strict=strict)
        dot = None
        for g, vv in zip(gs, vs):
            term = (g * vv).sum()
            dot = term if dot is None else dot + term
        hv = _grads((dot,), xs, (Tensor._make(np.ones_like(dot._data), False, None, 0),),
                    create_graph) if dot.requires_grad else [_zeros_for(x) for x in xs]
    out = out if create_graph else out.detach()
    hv = hv if create_graph else [h.detach() for h in hv]
    return out, (hv[0] if single_in else tuple(hv))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v), by forward-over-reverse: the gradient's directional derivative."""
    inputs, single_in = _as_tuple(inputs)
    vs, _ = _as_tuple(v)

    def gradient(*xs):
        with enable_grad():
            ys = tuple(_prep(x) for x in xs)
            out = func(*ys)
            gs = _grads((out,), ys, (Tensor._make(np.ones_like(out._data), False, None, 0),),
                        create_graph=True)
        gradient.value = out
        return tuple(gs)

    _, hv = jvp(gradient, inputs, vs, create_graph=create_graph)
    value = gradient.value if create_graph else gradient.value.detach()
    value = Tensor._make(value._data, value.requires_grad and create_graph, value.grad_fn
                         if create_graph else None, value._out_idx)
    hv = tuple(hv) if isinstance(hv, tuple) else (hv,)
    return value, (hv[0] if single_in else hv)
