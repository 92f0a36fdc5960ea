"""Forward hooks of ``nn.Module``: handles and the global (all-module) hook tables."""

from __future__ import annotations

from collections import OrderedDict

_GLOBAL_FORWARD_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_FORWARD_PRE_HOOKS: OrderedDict = OrderedDict()


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks: OrderedDict, hook, prepend: bool) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_hook(hook) -> RemovableHandle:
    """A forward hook ``hook(module, args, output)`` called for every module."""
    return _add_hook(_GLOBAL_FORWARD_HOOKS, hook, False)


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """A forward pre-hook ``hook(module, args)`` called for every module."""
    return _add_hook(_GLOBAL_FORWARD_PRE_HOOKS, hook, False)
