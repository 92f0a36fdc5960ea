"""Backward through a compiled forward: the autograd node a replayed call hands back.

When a compiled call returns tensors that require grad (``cr.compile(model)`` in a training
loop that calls ``loss.backward()`` itself), the capture also runs one backward pass from
those outputs (gradients of ones, nothing accumulated) and records it as a second program:
inputs are the output gradients and the forward values it reads (the *residuals*), outputs
the gradients of the parameters and input tensors. At replay the outputs get one
``CompiledFunctionBackward`` node whose ``backward`` runs that program; the engine then
accumulates into ``.grad`` as for any other node.
"""

from __future__ import annotations

import numpy as np

from .._state import STATE
from ..autograd.function import _FREED, Function
from ..tensor import Tensor
from .trace import ORIGINALS, Traced


class CompiledFunctionBackward(Function):
    """The graph node of a compiled call's outputs (PyTorch: ``CompiledFunctionBackward``).

    ``backward`` runs the recorded backward program on the residuals of the forward call.
    Double backward (``create_graph=True``) is not available through it.
    """

    _arrays = True

    def name(self) -> str:
        return "CompiledFunctionBackward"

    @staticmethod
    def backward(ctx, *grads):
        if STATE.grad_enabled:
            raise NotImplementedError(
                "CompiledFunctionBackward: double backward (create_graph=True) through a "
                "chainrule.compile'd call is not supported; call the module uncompiled "
                "for higher-order derivatives")
        saved = ctx._saved
        if saved is _FREED:
            raise RuntimeError(
                "CompiledFunctionBackward: trying to backward through the graph a second time "
                "(its saved values were freed); pass retain_graph=True to the first backward")
        arrays = ctx._bw.run(*[g._data for g in grads], *saved)
        out = []
        for k in ctx._which:
            out.append(None if k is None else Tensor._make(arrays[k], False, None, 0))
        return tuple(out)


def graph_alive(t: Tensor) -> bool:
    """Whether ``t``'s graph still has its saved values (no backward has consumed it)."""
    stack, seen = [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node._saved is _FREED:
            return False
        for e in node._edges or ():
            if e is not None and e[1] >= 0:
                stack.append(e[0])
    return True


def record_backward(tr, outs, targets):
    """Run one backward pass from ``outs`` (ones as output gradients) under the tracer;
    return ``(seed values, gradient values per target or None)``."""
    from ..autograd.engine import run

    seeds, seed_vals = [], []
    for i, t in enumerate(outs):
        arr = ORIGINALS["ones_like"](np.ndarray.view(t._data, np.ndarray))
        obj = np.ndarray.view(arr, Traced)
        v = tr.new_value(obj, "grad_out", name=f"grad_out{i}")
        seeds.append(Tensor._make(obj, False, None, 0))
        seed_vals.append(v)
    grads = run(list(outs), seeds, True, False, list(targets), True)
    vals = [None if g is None else tr.value_of(g._data) for g in grads]
    return seed_vals, vals


def residuals(bw_nodes, seeds, flatten):
    """Values the backward nodes read that the forward call made (or received)."""
    made = {v for n in flatten(bw_nodes) for v in n.outputs}
    seen, out = set(), []
    for n in flatten(bw_nodes):
        used = n.values_in() + list(n.mutates)
        for v in used:
            r = v.root()
            if v in made or v in seeds or r.kind in ("const", "param", "buffer", "tensor"):
                continue
            if v not in seen:
                seen.add(v)
                out.append(v)
    return out


def make_node(bw_plan, saved, edges, which, out_meta):
    node = CompiledFunctionBackward.__new__(CompiledFunctionBackward)
    node._edges = edges
    node._saved = saved
    node._bw = bw_plan
    node._which = which
    node._n_out = len(out_meta)
    node._out_meta = out_meta
    return node


def edge_of(t: Tensor):
    d = t._data
    return (t, -1, d.shape, d.dtype) if t.grad_fn is None else (t.grad_fn, t._out_idx, d.shape,
                                                                 d.dtype)


