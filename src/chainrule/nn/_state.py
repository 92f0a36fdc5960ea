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


def state_dict_of(module, destination, prefix, keep_vars):
    if destination is None:
        destination = OrderedDict()
    for mod_prefix, mod in module.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
        head = mod_prefix + "." if mod_prefix else ""
        for name, t in _local_state(mod):
            destination[head + name] = t if keep_vars else Tensor._make(t._data, False, None, 0)
    return destination


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def load_state_dict_into(module, state_dict, strict, assign):
    from .parameter import Parameter

    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(
            f"load_state_dict: expected a dict-like mapping names to tensors, got "
            f"{type(state_dict).__name__}"
        )
    expected = set()
    missing, mismatched, updates = [], [], []
    for mod_prefix, mod in module.named_modules(remove_duplicate=False):
        head = mod_prefix + "." if mod_prefix else ""
        for name, t in list(_local_state(mod)):
            key = head + name
            expected.add(key)
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != t._data.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a value of shape {_shape_str(arr.shape)} "
                    f"from the state dict, but the shape in the current model is "
                    f"{_shape_str(t._data.shape)}."
                )
                continue
            updates.append((mod, name, t, arr))
    unexpected = [k for k in state_dict.keys() if k not in expected]
    errors = []
    if strict:
        if unexpected:
            errors.append("Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if missing:
            errors.append("Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ".")
    errors.extend(mismatched)
    if errors:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
            + "\n\t".join(errors)
        )
    with no_grad():
        for mod, name, t, arr in updates:
            if assign:
                if isinstance(t, Parameter):
                    mod._parameters[name] = Parameter(
                        Tensor._make(arr, False, None, 0), t.requires_grad)
                else:
                    mod._buffers[name] = Tensor._make(arr, False, None, 0)
            else:
                t.copy_(arr.astype(t._data.dtype, copy=False))
    return IncompatibleKeys(missing, unexpected)


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


def to_module(module, args, kwargs):
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
