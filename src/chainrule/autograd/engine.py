"""The reverse-mode engine: walk the graph from the outputs back to the leaves.

Algorithm (the course's "visit the nodes in reverse topological order and add each node's
contribution to its parents' partial derivatives"):

1. discovery: an iterative depth-first walk from the output nodes counts, for each node,
   how many edges point at it (its pending contributions);
2. a node runs once all its contributions have arrived (Kahn's algorithm, iterative, so a
   graph 100,000 nodes deep needs no recursion); its ``backward`` gives one gradient per
   input, which is summed back to the input's shape (undoing broadcasting, once, here) and
   either added to the producing node's buffer or accumulated into the leaf's ``.grad``;
3. unless ``retain_graph``, each node releases its saved values after it runs.
"""

from __future__ import annotations


import threading

import numpy as np

from ..tensor import Tensor
from .grad_mode import STATE
from .engine_grads import (
    _accumulate, _accumulate_array, _hooked_leaf, _see_grads, _sum_to_shape,
    _sum_to_shape_array, _wrap, _wrap_all,
)
from .hooks import (  # noqa: F401  (queue_callback: this module's public name, as PyTorch's)
    _CALLBACKS, _DEPTH, _as_grad, _capture, _owned, queue_callback,
)


def _primitives():
    """The primitive the engine applies itself (bound once ops is importable)."""
    global _Add
    from ..ops import Add as _Add  # noqa: F811


_Add = None


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``chainrule.autograd.backward``: accumulate gradients of ``tensors`` into leaves."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
        grad_tensors = [grad_tensors]
    elif grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads = _prepare(tensors, grad_tensors, "backward", create_graph)
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        captured = run(roots, grads, retain_graph, create_graph, inputs, allow_unused=True)
        for t, g in zip(inputs, captured):
            if g is not None:
                _accumulate(t, g, create_graph)
        return
    run(roots, grads, retain_graph, create_graph)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = _tensor_backward  # (bound here: tensor.py imports nothing of autograd)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """``chainrule.autograd.grad``: return d(outputs)/d(inputs) without touching ``.grad``."""
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the differentiated tensors does not require grad")
    roots, grads = _prepare(outputs, grad_outputs, "grad", create_graph)
    result = run(roots, grads, retain_graph, create_graph, inputs, allow_unused)
    if materialize_grads:
        from ..creation import zeros_like

        result = [zeros_like(t) if g is None else g for t, g in zip(inputs, result)]
    return tuple(result)


def _prepare(tensors, grad_tensors, op, create_graph=False):
    roots, grads = [], []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"{op}: element 0 of tensors does not require grad and does not have a grad_fn "
                "(did you forget requires_grad=True, or compute it under no_grad?)"
            )
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but the "
                    f"output has shape {tuple(t._data.shape)}; pass a gradient of that shape "
                    "(out.backward(gradient=chainrule.ones_like(out))) or reduce the output "
                    "first (out.sum().backward())"
                )
            g = Tensor._make(np.ones_like(t._data), False, None, 0)
        elif not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=t._data.dtype), False, None, 0)
        elif not (create_graph and g.requires_grad):
            # the caller keeps its tensor: a second holder, so the engine never takes its
            # array (with create_graph a gradient that requires grad stays in the graph)
            g = Tensor._make(g._data, False, None, 0)
        if g._data.shape != t._data.shape:
            raise RuntimeError(
                f"{op}: mismatch in shape: gradient has shape {tuple(g._data.shape)} but the "
                f"output has shape {tuple(t._data.shape)}"
            )
        roots.append(t)
        grads.append(g)
    return roots, grads


def run(roots, grads, retain_graph, create_graph, inputs=None, allow_unused=False):
    """Run the backward pass. With ``inputs``, return their gradients instead of
    accumulating into ``.grad``."""
    # 1. discovery: count the edges into each node
    deps = {}
    post = {}
    stack = []
    for r in roots:
        fn = r.grad_fn
        if fn is not None and fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    while stack:
        node = stack.pop()
        for e in node._edges:
            if e is None:
                continue
            if e[1] < 0:
                # a leaf with hooks: count its edges, so that its gradients are summed and
                # its hooks run once, on the total, after the last contribution (as
                # PyTorch's AccumulateGrad: a tensor hook sees the leaf's whole gradient)
                hooks = e[0]._hooks
                if hooks is not None and (hooks.pre or hooks.post):
                    post.setdefault(id(e[0]), [0, None])[0] += 1  # [edges left, total]
                continue
            nxt = e[0]
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                stack.append(nxt)

    capture = results = None
    if inputs is not None:
        capture = {}
        for pos, t in enumerate(inputs):
            key = id(t) if t.grad_fn is None else (id(t.grad_fn), t._out_idx)
            capture.setdefault(key, []).append(pos)
        results = [None] * len(inputs)

    # In the plain pass -- nothing records (create_graph), checks (anomaly), traces
    # (compile) or batches (vmap) it -- every gradient in flight is a NumPy array: the rules
    # marked _vjp_arrays run on arrays (STATE.arrays, see ops/_array_rules.py), two gradients
    # of a node are summed with NumPy, and only hooks, grad()'s results and the other rules
    # see tensors. Otherwise gradients are tensors and every operation is a primitive's apply.
    plain = not (create_graph or STATE.anomaly or STATE.vmap_level or STATE.tracer is not None)
    ident = threading.get_ident()  # (STATE.arrays applies to this thread only)

    # 2. seed the buffers with the output gradients
    buffers = {}
    for r, g in zip(roots, grads):
        fn = r.grad_fn
        if fn is None:
            if capture is not None:
                _capture(capture, results, id(r), g)
            else:
                _accumulate(r, g, create_graph)
            continue
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * fn._n_out
        k = r._out_idx
        if plain:
            g = g._data
        buf[k] = g if buf[k] is None else buf[k] + g

    if _Add is None:
        _primitives()
    ready = [fn for fn in buffers if deps[fn] == 0]
    prev_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    _DEPTH[0] += 1
    n_callbacks = len(_CALLBACKS)
    try:
        slow = STATE.anomaly or STATE.tracer is not None  # nodes go through _call_backward
        while ready:
            node = ready.pop()
            out_grads = buffers.pop(node, None)
            edges = node._edges
            if out_grads is None or (out_grads[0] is None if len(out_grads) == 1
                                     else all(g is None for g in out_grads)):
                in_grads = None  # nothing flows through this node: only release its parents
            else:
                if node._tensor_hooks is not None or node._retained is not None \
                        or capture is not None:
                    out_grads = _see_grads(node, out_grads, plain, capture, results)
                cls = type(node)
                if len(out_grads) == 1 and not slow and node._node_hooks is None:
                    if plain:
                        if cls._vjp_arrays:
                            STATE.arrays = ident
                            in_grads = cls.backward(node, out_grads[0])  # on arrays
                            STATE.arrays = 0
                        else:
                            in_grads = cls.backward(node, _wrap(out_grads[0]))
                    else:
                        in_grads = cls.backward(node, out_grads[0])  # the common case
                    if in_grads.__class__ is not tuple or len(in_grads) != len(edges):
                        in_grads = _check_result(node, in_grads)
                else:
                    in_grads = _call_backward(node, _wrap_all(out_grads) if plain else out_grads)
            i = -1
            for e in edges:  # (not zip: its reused result tuple would hold a reference to g)
                i += 1
                if e is None:
                    continue
                target, k, shape, dt = e
                g = None if in_grads is None else in_grads[i]
                if g is not None:
                    if plain:  # an array of the edge's shape and dtype
                        if g.__class__ is not np.ndarray:
                            g = g._data if isinstance(g, Tensor) else np.asarray(g)
                        if g.shape != shape:
                            g = _sum_to_shape_array(g, shape)
                        if g.dtype is not dt and g.dtype != dt:
                            g = g.astype(dt, order="C")
                    else:
                        if g.__class__ is not Tensor:
                            g = _as_grad(g)
                        # (no local name for g's array: _accumulate counts its references)
                        if g._data.shape != shape:
                            g = _sum_to_shape(g, shape)
                        if g._data.dtype is not dt and g._data.dtype != dt:
                            g = g.to(dt)
                if k < 0:
                    if capture is not None:
                        if g is not None:
                            _capture(capture, results, id(target), _wrap(g) if plain else g)
                    elif post and id(target) in post:  # a hooked leaf: sum, then once
                        _hooked_leaf(post, target, g, plain, create_graph)
                    elif g is not None:
                        own = _owned(g, in_grads, out_grads)  # (before g is an argument)
                        if plain:
                            _accumulate_array(target, g, False, own)
                        else:
                            _accumulate(target, g, create_graph, False, own)
                    continue
                if g is not None:
                    buf = buffers.get(target)
                    if buf is None:
                        buf = buffers[target] = [None] * target._n_out
                    old = buf[k]
                    if old is None:
                        buf[k] = g
                    elif plain:  # same shape and dtype (summed/cast to the edge's)
                        buf[k] = old + g
                    else:  # recorded (create_graph), checked (anomaly), traced or batched
                        buf[k] = _Add.apply(old, g)
                n = deps[target] - 1
                deps[target] = n
                if n == 0:
                    ready.append(target)
            if not retain_graph and node._saved is not None:
                node._release()
        while len(_CALLBACKS) > n_callbacks:
            _CALLBACKS.pop(n_callbacks)()
    finally:
        STATE.arrays = 0
        _DEPTH[0] -= 1
        del _CALLBACKS[n_callbacks:]
        STATE.grad_enabled = prev_mode

    if capture is None:
        return None
    for pos, g in enumerate(results):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {pos} was not used in the graph of the outputs (or its gradient "
                "could not be computed); pass allow_unused=True to get None for it"
            )
    return results


def _check_result(node, result):
    """Bring a backward rule's result to one gradient (or None) per edge."""
    if not isinstance(result, tuple):
        result = (result,)
    n = len(node._edges)
    if len(result) != n:
        if type(node)._arrays and len(result) < n:  # trailing non-tensor arguments
            result = result + (None,) * (n - len(result))
        elif len(result) > n and all(r is None for r in result[n:]):  # unused optional args
            result = result[:n]
        else:
            raise RuntimeError(
                f"{node.name()}: backward returned an incorrect number of gradients "
                f"(expected {n}, got {len(result)})"
            )
    return result


def _call_backward(node, out_grads):
    if len(out_grads) > 1 and node._materialize:
        for k, g in enumerate(out_grads):
            if g is None:
                shape, dt = node._out_meta[k]
                out_grads[k] = Tensor._make(np.zeros(shape, dt), False, None, 0)
    if STATE.anomaly:
        from .anomaly import backward_unchecked

        result = backward_unchecked(node, out_grads)
    else:
        timed = getattr(STATE.tracer, "node_backward", None)  # a profiler times the node
        result = type(node).backward(node, *out_grads) if timed is None else timed(node, out_grads)
    result = _check_result(node, result)
    if STATE.anomaly:
        from .anomaly import check_backward

        check_backward(node, result)
    hooks = node._node_hooks
    if hooks:
        for h in hooks:
            r = h(result, tuple(out_grads))
            if r is not None:
                result = tuple(r)
    return result

