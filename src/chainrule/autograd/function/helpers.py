"""``torch.autograd.function`` helpers: ``FunctionCtx``, ``once_differentiable``,
``ctx.save_for_forward`` (exported by ``chainrule.autograd.function``).

In chainrule the ctx of a Function call is the graph node itself (an instance of the user's
Function class), so ``FunctionCtx`` is the Function base class: ``isinstance(ctx,
FunctionCtx)`` holds in forward, setup_context, backward and jvp.
"""

from __future__ import annotations

import functools

from ...tensor import Tensor
from ..grad_mode import STATE, no_grad
from .base import Function

FunctionCtx = Function


def _save_for_forward(self, *tensors):
    """Save tensors for the ``jvp`` rule (read there as ``ctx.saved_tensors``)."""
    self._saved_fw = tensors


Function.save_for_forward = _save_for_forward
Function._saved_fw = None


class _DelayedError(Function):
    """A node whose backward raises: what ``once_differentiable`` puts on gradients computed
    under create_graph=True, so a second differentiation fails loudly instead of silently
    giving zero."""

    @staticmethod
    def forward(ctx, value, *inputs):
        return value.detach()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that is not differentiable itself (written with
    NumPy, say): it runs under no_grad, and when a double backward is requested
    (``create_graph=True``) the gradients it returns raise on differentiation."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.grad_enabled:
            return outputs
        needing = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not needing:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(_DelayedError.apply(o, *needing) if isinstance(o, Tensor) else o
                     for o in outs)
        return outs[0] if single else outs

    return wrapper


class _NodeHookHandle:
    def __init__(self, node, attr, fn, key=None):
        self.node, self.attr, self.fn, self.key = node, attr, fn, key

    def remove(self):
        if self.key is None:
            hooks = getattr(self.node, self.attr) or ()
            setattr(self.node, self.attr, tuple(h for h in hooks if h is not self.fn))
        else:
            lst = (getattr(self.node, self.attr) or {}).get(self.key, [])
            if self.fn in lst:
                lst.remove(self.fn)


def _register_hook(self, fn):
    """Call ``fn(grad_inputs, grad_outputs)`` after this node's backward; a non-None return
    replaces grad_inputs. Returns a handle with ``remove()``."""
    self._node_hooks = (self._node_hooks or ()) + (fn,)
    return _NodeHookHandle(self, "_node_hooks", fn)


def _register_prehook(self, fn):
    """Call ``fn(grad_outputs)`` before this node's backward; a non-None return (a tuple)
    replaces grad_outputs. Returns a handle with ``remove()``."""
    n = self._n_out

    def per_output(k):
        def hook(g):
            outs = [None] * n
            outs[k] = g
            r = fn(tuple(outs))
            return None if r is None else r[k]
        return hook

    table = self._tensor_hooks
    if table is None:
        table = self._tensor_hooks = {}
    handles = []
    for k in range(n):
        h = per_output(k)
        table.setdefault(k, []).append(h)
        handles.append(_NodeHookHandle(self, "_tensor_hooks", h, k))
    return handles[0] if n == 1 else _Many(handles)


class _Many:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()


def _metadata(self) -> dict:
    """A dict for the user's own data about this node (PyTorch's ``Node.metadata``)."""
    md = self.__dict__.get("_metadata")
    if md is None:
        md = self.__dict__["_metadata"] = {}
    return md


Function.metadata = property(_metadata)
Function.register_hook = _register_hook
Function.register_prehook = _register_prehook
