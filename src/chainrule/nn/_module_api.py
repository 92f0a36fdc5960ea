"""The rest of PyTorch's ``nn.Module`` API, as a base class of ``Module`` (kept apart for
size): forward hooks with kwargs / ``always_call``, full backward (pre-)hooks, state-dict
hooks and the ``_save_to_state_dict`` / ``_load_from_state_dict`` protocol subclasses
override, extra state, ``set_submodule``, ``to_empty``, ``_apply`` and the device/dtype
methods chainrule refuses (``cuda``, ``bfloat16``, ...). Hook tables other than the forward
ones are created on first registration (read-only empty mappings until then)."""

from __future__ import annotations

import types
import typing
import warnings
from collections import OrderedDict

from .._device import check_cpu
from ..tensor import Tensor
from ._module_hooks import _GLOBAL_BACKWARD_HOOKS, _GLOBAL_BACKWARD_PRE_HOOKS
from .hooks import _ANY_BACKWARD_HOOKS, RemovableHandle, _add_hook

_EMPTY = types.MappingProxyType({})
_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _WrappedHook:
    """A load-state-dict pre-hook called with its module first (PyTorch's ``_WrappedHook``)."""

    def __init__(self, hook, module=None):
        self.hook, self.module = hook, module

    def __call__(self, *args, **kwargs):
        if self.module is not None:
            return self.hook(self.module, *args, **kwargs)
        return self.hook(*args, **kwargs)


def _table(module, name) -> OrderedDict:
    d = module.__dict__
    table = d.get(name)
    if table is None:
        table = d[name] = OrderedDict()
    return table


def _backward_hook(table, hook, prepend) -> RemovableHandle:
    handle = _add_hook(table, hook, prepend, extra_dict=_ANY_BACKWARD_HOOKS)
    _ANY_BACKWARD_HOOKS[handle.id] = True
    return handle


def _id_set(module, name) -> set:
    return module.__dict__.setdefault(name, set())


class ModuleAPI:
    """Base class of ``nn.Module`` holding the less common half of its API."""

    T_destination = typing.TypeVar("T_destination", bound=dict)
    dump_patches = False
    call_super_init = False
    _compiled_call_impl = None
    _backward_hooks = _EMPTY
    _backward_pre_hooks = _EMPTY
    _state_dict_hooks = _EMPTY
    _state_dict_pre_hooks = _EMPTY
    _load_state_dict_pre_hooks = _EMPTY
    _load_state_dict_post_hooks = _EMPTY
    _is_full_backward_hook = None

    # -- forward hooks ---------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward`` (a non-None result replaces the
        positional arguments; a single value is wrapped in a tuple). With ``with_kwargs``:
        ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            _id_set(self, "_forward_pre_hooks_with_kwargs").add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward`` (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a non-None result replaces the output.
        ``always_call`` also runs it when forward raises."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            _id_set(self, "_forward_hooks_with_kwargs").add(handle.id)
        if always_call:
            _id_set(self, "_forward_hooks_always_called").add(handle.id)
        return handle

    # -- backward hooks --------------------------------------------------------------
    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients with respect to
        the module's tensor inputs are computed; a non-None result replaces grad_input."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = True
        return _backward_hook(_table(self, "_backward_hooks"), hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are known, before grad_input; a non-None result replaces grad_output."""
        return _backward_hook(_table(self, "_backward_pre_hooks"), hook, prepend)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """Deprecated in PyTorch; in chainrule it behaves as ``register_full_backward_hook``
        (PyTorch's legacy hook saw the last operation's gradients only)."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = False
        return _backward_hook(_table(self, "_backward_hooks"), hook, False)

    def _get_backward_hooks(self):
        return list(_GLOBAL_BACKWARD_HOOKS.values()) + list(self._backward_hooks.values()), []

    def _get_backward_pre_hooks(self):
        return list(_GLOBAL_BACKWARD_PRE_HOOKS.values()) + list(self._backward_pre_hooks.values())

    def _maybe_warn_non_full_backward_hook(self, inputs, result, grad_fn):
        return None

    # -- state-dict hooks and protocol -------------------------------------------------
    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return _add_hook(_table(self, "_state_dict_pre_hooks"), hook, False)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict`` saved
        this module and its children; it may change ``state_dict`` in place (returns None)."""
        hook._from_public_api = True
        return _add_hook(_table(self, "_state_dict_hooks"), hook, False)

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """Private form: the hook may return a new state dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook "
                               "that was previously registered via register_state_dict_post_hook")
        return _add_hook(_table(self, "_state_dict_hooks"), hook, False)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads (it may edit state_dict)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False):
        return _add_hook(_table(self, "_load_state_dict_pre_hooks"),
                         _WrappedHook(hook, self if with_module else None), False)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` after ``load_state_dict`` loaded this module;
        it may remove keys from ``incompatible_keys.missing_keys`` / ``unexpected_keys``."""
        return _add_hook(_table(self, "_load_state_dict_post_hooks"), hook, False)

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """Write this module's own parameters, persistent buffers and extra state (not its
        children's) into ``destination`` under ``prefix``; override to customise."""
        from ._state import save_own_state

        save_own_state(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Load this module's own entries of ``state_dict`` (PyTorch's protocol: append to
        ``missing_keys``/``unexpected_keys``/``error_msgs`` instead of raising)."""
        from ._state import load_own_state

        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        load_own_state(self, state_dict, prefix, local_metadata, strict, missing_keys,
                       unexpected_keys, error_msgs)

    def get_extra_state(self):
        """State beyond parameters and buffers to save in ``state_dict`` (override with
        ``set_extra_state``)."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug.")

    def set_extra_state(self, state) -> None:
        """Restore what ``get_extra_state`` returned (override both)."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug.")

    get_extra_state._default = True  # (nn._state saves extra state only when overridden)
    set_extra_state._default = True

    # -- tree edits ---------------------------------------------------------------------
    def set_submodule(self, target: str, module, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target`` (the parent must exist; with ``strict``
        the final attribute must already be a submodule)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, ModuleAPI):  # (every nn.Module is one)
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        atoms = target.split(".")
        mod = self
        for item in atoms[:-1]:
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, ModuleAPI):
                raise AttributeError(f"`{item}` is not an nn.Module")
        last = atoms[-1]
        if strict and not hasattr(mod, last):
            raise AttributeError(f"{mod._get_name()} has no attribute `{last}`")
        if hasattr(mod, last) and not isinstance(getattr(mod, last), ModuleAPI):
            raise AttributeError(f"`{last}` is not an nn.Module")
        setattr(mod, last, module)

    def _apply(self, fn, recurse: bool = True):
        """Apply ``fn`` to every parameter (its data and grad, identity kept) and buffer."""
        from ..autograd.grad_mode import no_grad

        if recurse:
            for child in self.children():
                child._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                new = fn(p)
                p._data = new._data if isinstance(new, Tensor) else new
                if p.grad is not None:
                    g = fn(p.grad)
                    p.grad = g if isinstance(g, Tensor) else Tensor._make(g, False, None, 0)
            for name, b in self._buffers.items():
                if b is not None:
                    self._buffers[name] = fn(b)
        return self

    def to_empty(self, *, device=None, recurse: bool = True):
        """Give every parameter and buffer new, uninitialised storage of the same shape."""
        import numpy as np

        from .._meta import meta_like

        if device is not None and str(device).partition(":")[0] == "meta":
            return self._apply(lambda t: Tensor._make(meta_like(t._data), False, None, 0),
                               recurse)
        if device is not None:
            check_cpu(device, "Module.to_empty")
        return self._apply(
            lambda t: Tensor._make(np.empty(t._data.shape, t._data.dtype), False, None, 0),
            recurse)

    # -- devices and dtypes chainrule does not have ----------------------------------------
    def cuda(self, device=None):
        check_cpu("cuda" if device is None else f"cuda:{device}", "Module.cuda")

    def xpu(self, device=None):
        check_cpu("xpu", "Module.xpu")

    def ipu(self, device=None):
        check_cpu("ipu", "Module.ipu")

    def mtia(self, device=None):
        check_cpu("mtia", "Module.mtia")

    def bfloat16(self):
        raise TypeError("Module.bfloat16: chainrule has no bfloat16 dtype (NumPy has none); "
                        "use .half(), .float() or .double()")

    def compile(self, *args, **kwargs) -> None:
        """PyTorch compiles the module in place; chainrule keeps running it eagerly."""
        warnings.warn("Module.compile: chainrule runs the module eagerly (no compilation)",
                      stacklevel=2)

    def _call_impl(self, *args, **kwargs):
        return type(self).__call__(self, *args, **kwargs)

    _wrapped_call_impl = _call_impl

    def _slow_forward(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _replicate_for_data_parallel(self):
        """A shallow replica sharing buffers and children tables' entries, no parameters
        (PyTorch's ``replicate`` fills them)."""
        replica = type(self).__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica.__dict__["_parameters"] = OrderedDict()
        replica.__dict__["_buffers"] = replica._buffers.copy()
        replica.__dict__["_modules"] = replica._modules.copy()
        return replica
