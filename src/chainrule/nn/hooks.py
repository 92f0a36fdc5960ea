"""Forward hooks of ``nn.Module``: handles and the global (all-module) hook tables."""

from __future__ import annotations

from collections import OrderedDict

_GLOBAL_FORWARD_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_FORWARD_PRE_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_FORWARD_HOOKS_WITH_KWARGS: set = set()  # handle ids
_GLOBAL_FORWARD_HOOKS_ALWAYS_CALLED: set = set()
_GLOBAL_FORWARD_PRE_HOOKS_WITH_KWARGS: set = set()
# every live backward (pre-)hook, module-level or global: Module.__call__ checks this one
# table instead of each module's backward tables (modules without hooks pay one lookup)
_ANY_BACKWARD_HOOKS: dict = {}


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict, *, extra_dict=None):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self.extra_dict = () if extra_dict is None else (
            tuple(extra_dict) if isinstance(extra_dict, (list, tuple)) else (extra_dict,))

    def remove(self) -> None:
        self.hooks.pop(self.id, None)
        for d in self.extra_dict:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks: OrderedDict, hook, prepend: bool, extra_dict=None) -> RemovableHandle:
    handle = RemovableHandle(hooks, extra_dict=extra_dict)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """A forward hook ``hook(module, args, output)`` (``hook(module, args, kwargs, output)``
    with ``with_kwargs``) called for every module; ``always_call`` runs it even when forward
    raises."""
    handle = _add_hook(_GLOBAL_FORWARD_HOOKS, hook, False)
    if with_kwargs:
        _GLOBAL_FORWARD_HOOKS_WITH_KWARGS.add(handle.id)
    if always_call:
        _GLOBAL_FORWARD_HOOKS_ALWAYS_CALLED.add(handle.id)
    return handle


def register_module_forward_pre_hook(hook, *, with_kwargs: bool = False) -> RemovableHandle:
    """A forward pre-hook ``hook(module, args)`` (``hook(module, args, kwargs)`` returning
    None or ``(args, kwargs)`` with ``with_kwargs``) called for every module."""
    handle = _add_hook(_GLOBAL_FORWARD_PRE_HOOKS, hook, False)
    if with_kwargs:
        _GLOBAL_FORWARD_PRE_HOOKS_WITH_KWARGS.add(handle.id)
    return handle
