"""Gradient hooks: the ``Tensor`` methods that register them (``register_hook``,
``register_post_accumulate_grad_hook``, ``retain_grad``), and what the engine calls to run
them (tensor hooks on a node's incoming gradients, retained gradients, callbacks queued
for the end of a pass; a hooked leaf's gradients are summed by ``engine_grads._hooked_leaf``), plus the engine's bookkeeping
helpers that read those structures (``_owned``, ``_capture``, ``_as_grad``)."""

from __future__ import annotations

import sys
import weakref

import numpy as np

from ..tensor import Tensor


class _LeafHooks:
    """A leaf's gradient hooks: ``pre`` see (and may replace) the incoming gradient,
    ``post`` run with the tensor once its ``.grad`` holds the accumulated value."""

    __slots__ = ("pre", "post")

    def __init__(self):
        self.pre = []
        self.post = []


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# callbacks queued during a backward pass (``queue_callback``), run when it ends
_CALLBACKS = []
_DEPTH = [0]


def queue_callback(fn):
    """Run ``fn()`` once the backward pass now running has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``; DDP waits for its reductions there)."""
    if not _DEPTH[0]:
        raise RuntimeError("queue_callback: can only be called during a backward pass")
    _CALLBACKS.append(fn)


def retain_grad(self) -> None:
    if self.grad_fn is None:
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
        return
    self._retains = True
    node = self.grad_fn
    retained = getattr(node, "_retained", None)
    if retained is None:
        retained = node._retained = {}

    retained[self._out_idx] = weakref.ref(self)

def retains_grad(self) -> bool:
    return self._retains

def register_hook(self, hook):
    """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return
    value replaces the gradient. Returns a handle with ``remove()``."""
    if not self.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        if self._hooks is None:
            self._hooks = _LeafHooks()
        hooks = self._hooks.pre
    else:
        node = self.grad_fn
        table = getattr(node, "_tensor_hooks", None)
        if table is None:
            table = node._tensor_hooks = {}
        hooks = table.setdefault(self._out_idx, [])
    hooks.append(hook)
    return _HookHandle(hooks, hook)

def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` after a backward pass has accumulated into this leaf's
    ``.grad`` (PyTorch's hook of the same name; data parallelism starts its gradient
    reductions from it). Returns a handle with ``remove()``."""
    if self.grad_fn is not None:
        raise RuntimeError(
            "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
            "registered on non-leaf tensors"
        )
    if not self.requires_grad:
        raise RuntimeError(
            "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
            "doesn't require gradient"
        )
    if self._hooks is None:
        self._hooks = _LeafHooks()
    self._hooks.post.append(hook)
    return _HookHandle(self._hooks.post, hook)


Tensor.retain_grad = retain_grad
Tensor.retains_grad = property(retains_grad)
Tensor.register_hook = register_hook
Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook


def _owned(g, in_grads, out_grads) -> bool:
    """Whether the engine holds the only reference to the gradient tensor ``g`` about to be
    accumulated into a leaf: not given to another edge of the node (``Add`` returns the
    same tensor for both inputs), not kept by anyone else (another node's buffer, a hook).
    References: the loop's name, getrefcount's argument, ``in_grads``, ``out_grads``."""
    n = 3  # the loop name, the parameter, getrefcount's argument
    for t in in_grads:
        if t is g:
            n += 1
    if n > 4:
        return False
    if out_grads is not None:
        for t in out_grads:
            if t is g:
                n += 1
    return sys.getrefcount(g) <= n


def _as_grad(g):
    if isinstance(g, Tensor):
        return g
    return Tensor._make(np.asarray(g), False, None, 0)


def _capture(capture, results, key, g):
    positions = capture.get(key)
    if positions is None:
        return
    for pos in positions:
        results[pos] = g if results[pos] is None else results[pos] + g


def _run_tensor_hooks(node, out_grads):
    hooks = node._tensor_hooks
    if hooks:
        for k, fns in hooks.items():
            for fn in fns:
                if out_grads[k] is not None:
                    r = fn(out_grads[k])
                    if r is not None:
                        out_grads[k] = r
    retained = node._retained
    if retained:
        for k, ref in retained.items():
            t = ref()
            if t is not None and out_grads[k] is not None:
                g = out_grads[k]
                if t.grad is None:
                    t.grad = Tensor._make(np.array(g._data, copy=True), False, None, 0)
                else:
                    t.grad = Tensor._make(t.grad._data + g._data, False, None, 0)
