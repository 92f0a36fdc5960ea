"""``chainrule.autograd.graph`` (``torch.autograd.graph``): the graph's nodes and the
saved-tensor hook context managers.

``Node`` is what ``tensor.grad_fn`` is (every chainrule graph node is a ``Function``
instance, which ``isinstance(fn, Node)`` accepts, as it accepts the ``AccumulateGrad`` a
leaf shows in ``next_functions``); nodes have ``name()``, ``next_functions``,
``metadata``, ``register_hook(fn(grad_inputs, grad_outputs))`` and
``register_prehook(fn(grad_outputs))``, each returning a handle with ``remove()``.

``saved_tensors_hooks(pack, unpack)``, ``save_on_cpu`` and ``disable_saved_tensors_hooks``
are accepted for compatibility and change nothing: chainrule keeps saved values as they
are (on the one CPU device there is nothing to offload), so the pack/unpack hooks are not
called. Programs using them run unchanged with the same results.
"""

from __future__ import annotations

import abc

from .function import Function
from .function.base import AccumulateGrad


class Node(abc.ABC):
    """A node of the backward graph (``tensor.grad_fn``)."""

    @classmethod
    def __subclasshook__(cls, C):
        if cls is Node and (issubclass(C, Function) or C is AccumulateGrad):
            return True
        return NotImplemented

    @abc.abstractmethod
    def name(self):
        ...


class saved_tensors_hooks:  # noqa: N801
    """Context manager for pack/unpack hooks on saved tensors (accepted; not called)."""

    def __init__(self, pack_hook, unpack_hook):
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks: pack_hook and unpack_hook must be callable")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """Offload saved tensors to the CPU: they already are (a no-op)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:  # noqa: N801
    """Context manager that forbids saved-tensor hooks (none are ever run here)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def increment_version(tensor):
    """Bump a tensor's version counter (as an in-place write would)."""
    tensor._version += 1


__all__ = ["Node", "disable_saved_tensors_hooks", "increment_version", "save_on_cpu",
           "saved_tensors_hooks"]
