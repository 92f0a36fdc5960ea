"""PyTorch's autocast switches (``torch.get_autocast_dtype``, ``torch.set_autocast_dtype``,
``torch.is_autocast_cache_enabled``, ``torch.autocast_increment_nesting``, ...).

chainrule has no mixed precision, so nothing here changes a computation: the switches keep
the values PyTorch keeps (the autocast dtype per device type, bfloat16 on the CPU and
float16 elsewhere by default; the weight-cast cache flag; the nesting depth) so that code
reading them back, and ``chainrule.amp.autocast`` (which sets and restores the dtype, cache
flag and nesting as PyTorch's context manager does), see PyTorch's answers.
``is_autocast_enabled`` stays False (``chainrule.switches``): no operation is autocast.
"""

from __future__ import annotations

import warnings

from .. import _dtype

_DEVICES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
            "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
            "privateuseone")
_STATE = {"dtype": {}, "cache": True, "nesting": 0}


def _device(device_type) -> str:
    name = str(getattr(device_type, "type", device_type))
    base = name.split(":")[0]
    if base not in _DEVICES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICES)} device type at start of "
                           f"device string: {name}")
    return base


def get_autocast_dtype(device_type):
    """The dtype autocast would compute in on ``device_type``: bfloat16 for "cpu" and "xla",
    float16 for the others, unless ``set_autocast_dtype`` changed it."""
    dev = _device(device_type)
    default = _dtype.bfloat16 if dev in ("cpu", "xla") else _dtype.float16
    return _STATE["dtype"].get(dev, default)


def set_autocast_dtype(device_type, dtype) -> None:
    """Record the autocast dtype of ``device_type`` (read back by ``get_autocast_dtype``)."""
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' must be torch.dtype, not "
                        f"{type(dtype).__name__}")
    _STATE["dtype"][_device(device_type)] = dtype


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype) -> None:
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def get_autocast_ipu_dtype():
    return get_autocast_dtype("ipu")


def set_autocast_ipu_dtype(dtype) -> None:
    set_autocast_dtype("ipu", dtype)


def get_autocast_xla_dtype():
    return get_autocast_dtype("xla")


def set_autocast_xla_dtype(dtype) -> None:
    set_autocast_dtype("xla", dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast would cache the casts of leaf weights (PyTorch's default True)."""
    return _STATE["cache"]


def set_autocast_cache_enabled(enabled) -> None:
    _STATE["cache"] = bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing is cached: chainrule never casts weights."""


def autocast_increment_nesting() -> int:
    """One more enclosing autocast region; returns the new depth."""
    _STATE["nesting"] += 1
    return _STATE["nesting"]


def autocast_decrement_nesting() -> int:
    """One autocast region fewer; returns the new depth (negative if unbalanced, as
    PyTorch)."""
    _STATE["nesting"] -= 1
    return _STATE["nesting"]


def _refuse(name):
    def setter(enabled) -> None:
        if enabled:
            raise RuntimeError(f"{name}: chainrule has no autocast (mixed precision); compute "
                               "in float32 or float64")

    setter.__name__ = name
    setter.__doc__ = "Only ``False`` is accepted: chainrule has no autocast."
    return setter


set_autocast_cpu_enabled = _refuse("set_autocast_cpu_enabled")
set_autocast_ipu_enabled = _refuse("set_autocast_ipu_enabled")
set_autocast_xla_enabled = _refuse("set_autocast_xla_enabled")


def is_autocast_ipu_enabled() -> bool:
    return False


def is_autocast_xla_enabled() -> bool:
    return False


__all__ = [
    "autocast_decrement_nesting", "autocast_increment_nesting", "clear_autocast_cache",
    "get_autocast_cpu_dtype", "get_autocast_dtype", "get_autocast_gpu_dtype",
    "get_autocast_ipu_dtype", "get_autocast_xla_dtype", "is_autocast_cache_enabled",
    "is_autocast_ipu_enabled", "is_autocast_xla_enabled", "set_autocast_cache_enabled",
    "set_autocast_cpu_dtype", "set_autocast_cpu_enabled", "set_autocast_dtype",
    "set_autocast_gpu_dtype", "set_autocast_ipu_dtype", "set_autocast_ipu_enabled",
    "set_autocast_xla_dtype", "set_autocast_xla_enabled",
]
