"""The hooked call of ``nn.Module`` (PyTorch's ``_call_impl``): forward pre-hooks and hooks
(with or without kwargs, ``always_call``), and full backward (pre-)hooks.

Backward hooks work as PyTorch's ``BackwardHook``: the tensor positional inputs pass
through one identity node and the tensor outputs through another. When the backward pass
reaches the output node, ``grad_output`` is known: backward pre-hooks run there (and may
replace it); when it reaches the input node, ``grad_input`` is known and the full backward
hooks run (and may replace it). If no input requires grad, the hooks run at the output node
with ``grad_input`` all None, as PyTorch.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

from ..autograd.function import Function
from ..tensor import Tensor
from .hooks import (
    _GLOBAL_FORWARD_HOOKS, _GLOBAL_FORWARD_HOOKS_ALWAYS_CALLED,
    _GLOBAL_FORWARD_HOOKS_WITH_KWARGS, _GLOBAL_FORWARD_PRE_HOOKS,
    _GLOBAL_FORWARD_PRE_HOOKS_WITH_KWARGS,
)

_GLOBAL_BACKWARD_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_BACKWARD_PRE_HOOKS: OrderedDict = OrderedDict()


def _check_grads(result, n, what):
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != n:
        raise RuntimeError(f"Backward hook returned an invalid number of grad_{what} ("
                           f"got {len(result)}, but expected {n})")
    return result


class _State:
    """One hooked call: the module, its grad_output, whether the input hooks ran."""

    __slots__ = ("module", "grad_output", "n_inputs", "inputs_hooked", "done")

    def __init__(self, module):
        self.module, self.grad_output = module, None
        self.n_inputs, self.inputs_hooked, self.done = 0, False, False

    def backward_hooks(self):
        m = self.module
        return (*_GLOBAL_BACKWARD_HOOKS.values(), *m.__dict__.get("_backward_hooks", {}).values())

    def pre_hooks(self):
        m = self.module
        return (*_GLOBAL_BACKWARD_PRE_HOOKS.values(),
                *m.__dict__.get("_backward_pre_hooks", {}).values())

    def run_full_hooks(self, grad_input):
        for hook in self.backward_hooks():
            res = hook(self.module, grad_input, self.grad_output)
            if res is not None:
                grad_input = _check_grads(res, len(grad_input), "input")
        self.done = True
        return grad_input


class _InputNode(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) != 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        grad_input = ctx.state.run_full_hooks(tuple(grads))
        return (None, *grad_input)


class _OutputNode(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) != 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        grads = tuple(grads)
        for hook in state.pre_hooks():
            res = hook(state.module, grads)
            if res is not None:
                grads = _check_grads(res, len(grads), "output")
        state.grad_output = grads
        if not state.inputs_hooked and state.backward_hooks():  # no input requires grad
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients. See "
                "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.", stacklevel=2)
            state.run_full_hooks((None,) * state.n_inputs)
        return (None, *grads)


def _wrap(node, state, values, pick):
    """Pass the tensors of ``values`` chosen by ``pick`` through ``node``; others unchanged."""
    idx = [i for i, v in enumerate(values) if isinstance(v, Tensor) and pick(v)]
    if not idx:
        return values, False
    out = node.apply(state, *[values[i] for i in idx])
    out = out if isinstance(out, tuple) else (out,)
    values = list(values)
    for i, o in zip(idx, out):
        values[i] = o
    return values, True


def _setup_input(state, args):
    state.n_inputs = sum(isinstance(a, Tensor) for a in args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    from .._state import STATE

    if not STATE.grad_enabled or not any(t.requires_grad for t in tensors):
        return args
    new, state.inputs_hooked = _wrap(_InputNode, state, list(args), lambda t: True)
    return tuple(new)


def _setup_output(state, out):
    from .._state import STATE

    if not STATE.grad_enabled:
        return out
    if isinstance(out, Tensor):
        new, _ = _wrap(_OutputNode, state, [out], lambda t: t.requires_grad)
        return new[0]
    if isinstance(out, (tuple, list)):
        new, _ = _wrap(_OutputNode, state, list(out), lambda t: t.requires_grad)
        return type(out)(new) if isinstance(out, list) else tuple(new)
    return out


def _has_backward_hooks(module) -> bool:
    d = module.__dict__
    return bool(_GLOBAL_BACKWARD_HOOKS or _GLOBAL_BACKWARD_PRE_HOOKS or d.get("_backward_hooks")
                or d.get("_backward_pre_hooks"))


def _forward_hook_items(module):
    d = module.__dict__
    kw = d.get("_forward_hooks_with_kwargs", ())
    always = d.get("_forward_hooks_always_called", ())
    for hid, hook in _GLOBAL_FORWARD_HOOKS.items():
        yield hid, hook, hid in _GLOBAL_FORWARD_HOOKS_WITH_KWARGS, \
            hid in _GLOBAL_FORWARD_HOOKS_ALWAYS_CALLED
    for hid, hook in module._forward_hooks.items():
        yield hid, hook, hid in kw, hid in always


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with every registered hook (PyTorch's order)."""
    pre_kw = module.__dict__.get("_forward_pre_hooks_with_kwargs", ())
    pre = [(h, hid in _GLOBAL_FORWARD_PRE_HOOKS_WITH_KWARGS)
           for hid, h in _GLOBAL_FORWARD_PRE_HOOKS.items()]
    pre += [(h, hid in pre_kw) for hid, h in module._forward_pre_hooks.items()]
    for hook, with_kwargs in pre:
        if with_kwargs:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    state = _State(module) if _has_backward_hooks(module) else None
    if state is not None:
        args = _setup_input(state, args)
    if module.forward is None:
        raise NotImplementedError(
            f'Module [{type(module).__name__}] is missing the required "forward" function')
    called = set()
    result = None
    try:
        result = module.forward(*args, **kwargs)
        for hid, hook, with_kwargs, always in _forward_hook_items(module):
            if always:
                called.add(hid)
            res = hook(module, args, kwargs, result) if with_kwargs else hook(module, args, result)
            if res is not None:
                result = res
    except Exception:
        for hid, hook, with_kwargs, always in _forward_hook_items(module):
            if not always or hid in called:
                continue
            try:
                res = hook(module, args, kwargs, result) if with_kwargs else \
                    hook(module, args, result)
                if res is not None:
                    result = res
            except Exception as e:  # noqa: BLE001 - PyTorch silences it with a warning
                warnings.warn("module forward hook with ``always_call=True`` raised an "
                              "exception that was silenced as another error was raised in "
                              f"forward: {e}", stacklevel=2)
        raise
    if state is not None:
        result = _setup_output(state, result)
    return result


def _global_backward(table, hook):
    from .hooks import _ANY_BACKWARD_HOOKS, _add_hook

    handle = _add_hook(table, hook, False, extra_dict=_ANY_BACKWARD_HOOKS)
    _ANY_BACKWARD_HOOKS[handle.id] = True
    return handle


def register_module_full_backward_hook(hook):
    """A full backward hook ``hook(module, grad_input, grad_output)`` for every module."""
    return _global_backward(_GLOBAL_BACKWARD_HOOKS, hook)


def register_module_full_backward_pre_hook(hook):
    """A backward pre-hook ``hook(module, grad_output)`` for every module."""
    return _global_backward(_GLOBAL_BACKWARD_PRE_HOOKS, hook)


register_module_backward_hook = register_module_full_backward_hook  # deprecated in PyTorch


def _registration_hook(kind):
    def register(hook):
        raise NotImplementedError(
            f"register_module_{kind}_registration_hook: chainrule does not call hooks when a "
            f"{kind} is registered; wrap Module.register_{'module' if kind == 'module' else kind}"
            " instead")
    register.__name__ = f"register_module_{kind}_registration_hook"
    return register


register_module_buffer_registration_hook = _registration_hook("buffer")
register_module_module_registration_hook = _registration_hook("module")
register_module_parameter_registration_hook = _registration_hook("parameter")
