"""The state-dict and dtype-conversion machinery behind ``Module`` (kept apart for size)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from .. import _dtype
from .._device import check_cpu
from .._device import device as device_type
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it expected but did not get, and the keys
    it got but does not know."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _local_state(mod):
    """(name, tensor) of a module's own parameters and persistent buffers."""
    for name, p in mod._parameters.items():
        if p is not None:
            yield name, p
    skip = mod._non_persistent_buffers_set
    for name, b in mod._buffers.items():
        if b is not None and name not in skip:
            yield name, b


def _has_own(mod, name) -> bool:
    """The module's class overrides ``name`` (get/set_extra_state) of ``Module``."""
    return not getattr(getattr(type(mod), name), "_default", False)


def save_own_state(mod, destination, prefix, keep_vars) -> None:
    """Module._save_to_state_dict: own parameters, persistent buffers, extra state."""
    for name, t in _local_state(mod):
        destination[prefix + name] = t if keep_vars else Tensor._make(t._data, False, None, 0)
    if _has_own(mod, "get_extra_state"):
        destination[prefix + "_extra_state"] = mod.get_extra_state()


def state_dict_of(module, destination, prefix, keep_vars):
    """PyTorch's ``state_dict``: pre-hooks, ``_save_to_state_dict``, each child's
    ``state_dict`` (so overrides take effect), then post-hooks."""
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    local_metadata = {"version": module._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in module._state_dict_pre_hooks.values():
        hook(module, prefix, keep_vars)
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
    for hook in module._state_dict_hooks.values():
        result = hook(module, destination, prefix, local_metadata)
        if getattr(hook, "_from_public_api", False):
            if result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        elif result is not None:
            destination = result
    return destination


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


_PENDING = "_chainrule_pending_copies"


def load_own_state(mod, state_dict, prefix, local_metadata, strict, missing_keys,
                   unexpected_keys, error_msgs) -> None:
    """Module._load_from_state_dict after its pre-hooks: check this module's own entries and
    queue the copies (``load_state_dict`` applies them once everything checked out; a
    direct call copies at once)."""
    from .parameter import is_lazy

    local = dict(_local_state(mod))
    assign = local_metadata.get("assign_to_params_buffers", False)
    pending = local_metadata.get(_PENDING)
    for name, t in local.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        value = state_dict[key]
        if not isinstance(value, (Tensor, np.ndarray)):
            error_msgs.append(f'While copying the parameter named "{key}", expected '
                              f"torch.Tensor or Tensor-like object from checkpoint but received "
                              f"{type(value)}")
            continue
        arr = value._data if isinstance(value, Tensor) else value
        lazy = is_lazy(t)
        if not lazy and t._data.ndim == 0 and arr.ndim == 1 and arr.shape[0] == 1:
            arr = arr[0]  # PyTorch's backward compatibility for old 1-element buffers
        if not lazy and arr.shape != t._data.shape:
            error_msgs.append(
                f"size mismatch for {key}: copying a value of shape {_shape_str(arr.shape)} "
                f"from the state dict, but the shape in the current model is "
                f"{_shape_str(t._data.shape)}.")
            continue
        if pending is None:
            _copy_into(mod, name, t, arr, assign)
        else:
            pending.append((mod, name, t, arr, assign))
    extra_key = prefix + "_extra_state"
    if _has_own(mod, "set_extra_state"):
        if extra_key in state_dict:
            mod.set_extra_state(state_dict[extra_key])
        elif strict:
            missing_keys.append(extra_key)
    elif strict and extra_key in state_dict:
        unexpected_keys.append(extra_key)
    if strict:
        for key in state_dict.keys():
            if key.startswith(prefix) and key != extra_key:
                head = key[len(prefix):].split(".", 1)[0]
                if head not in mod._modules and head not in local:
                    unexpected_keys.append(key)


def _copy_into(mod, name, t, arr, assign) -> None:
    from .parameter import Parameter

    with no_grad():
        if assign:
            if isinstance(t, Parameter):
                mod._parameters[name] = Parameter(Tensor._make(arr, False, None, 0),
                                                  t.requires_grad)
            else:
                mod._buffers[name] = Tensor._make(arr, False, None, 0)
        else:
            t.copy_(np.asarray(arr).astype(t._data.dtype, copy=False))


def _walk_load(module, state_dict, prefix, metadata, assign, pending, lists, order):
    local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
    if assign:
        local_metadata["assign_to_params_buffers"] = True
    local_metadata[_PENDING] = pending
    module._load_from_state_dict(state_dict, prefix, local_metadata, True, *lists)
    for name, child in module._modules.items():
        if child is not None:
            cp = prefix + name + "."
            sub = {k: v for k, v in state_dict.items() if k.startswith(cp)}
            _walk_load(child, sub, cp, metadata, assign, pending, lists, order)
    order.append(module)  # post-order: a module's post-hooks run after its children's


def load_state_dict_into(module, state_dict, strict, assign):
    """PyTorch's ``load_state_dict`` protocol (each module's ``_load_from_state_dict`` and
    hooks). Copies are applied only if no entry failed its checks; with strict=True and no
    load post-hooks, missing/unexpected keys are reported before anything is copied."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(
            f"load_state_dict: expected a dict-like mapping names to tensors, got "
            f"{type(state_dict).__name__}"
        )
    metadata = getattr(state_dict, "_metadata", None)
    state = OrderedDict(state_dict)
    missing, unexpected, errors, pending, order = [], [], [], [], []
    _walk_load(module, state, "", metadata, assign, pending, (missing, unexpected, errors), order)
    keys = IncompatibleKeys(missing, unexpected)
    has_post = any(m._load_state_dict_post_hooks for m in order)

    def fail(msgs):
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
                           + "\n\t".join(msgs))

    def key_errors():
        msgs = []
        if strict and missing:
            msgs.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
                        + ".")
        if strict and unexpected:
            msgs.append("Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in unexpected) + ".")
        return msgs

    if errors or (not has_post and key_errors()):
        fail(key_errors() + errors)
    for item in pending:
        _copy_into(*item)
    for m in order:
        for hook in m._load_state_dict_post_hooks.values():
            if hook(m, keys) is not None:
                raise RuntimeError("load_state_dict post-hook must return None")
    if key_errors():
        fail(key_errors())
    return keys


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device_type)):
            device = a
        elif a is not None:
            dtype = a
    if device is not None:
        check_cpu(device, "to")
    if dtype is None:
        return None
    np_dt = _dtype.to_dtype(dtype).np
    if np_dt.kind != "f":
        raise TypeError(
            f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
        )
    return np_dt


def _to_meta(module):
    """``module.to("meta")``: shapes and dtypes kept, values dropped (``chainrule._meta``)."""
    from .._meta import meta_like

    for mod in module.modules():
        for table in (mod._parameters, mod._buffers):
            for t in table.values():
                if t is not None:
                    t._data = meta_like(t._data)
                    t.grad = None
    return module


def _wants_meta(args, kwargs) -> bool:
    devs = [a for a in args if isinstance(a, (str, device_type))] + [kwargs.get("device")]
    return any(d is not None and str(d).partition(":")[0] == "meta" for d in devs)


def to_module(module, args, kwargs):
    if _wants_meta(args, kwargs):
        kwargs = {k: v for k, v in kwargs.items() if k != "device"}
        args = tuple(a for a in args if not isinstance(a, (str, device_type)))
        to_module(module, args, kwargs)  # a dtype given too
        return _to_meta(module)
    np_dt = _parse_to(args, dict(kwargs))
    if np_dt is None:
        return module
    for mod in module.modules():
        for table in (mod._parameters, mod._buffers):
            for t in table.values():
                if t is None or t._data.dtype.kind != "f" or t._data.dtype == np_dt:
                    continue
                t._data = t._data.astype(np_dt)
                if t.grad is not None:
                    t.grad = Tensor._make(t.grad._data.astype(np_dt), False, None, 0)
    return module
