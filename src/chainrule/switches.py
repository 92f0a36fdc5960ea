"""PyTorch's process-wide switches: print options, determinism, float32 matmul precision,
inter-op threads, denormal flushing, warn-always, anomaly and autocast queries.

chainrule runs NumPy on the CPU: its results are already deterministic (no atomics, one
BLAS call per product), matmul precision is always full float32, there is no inter-op
thread pool and no autocast. These switches are recorded and reported back as PyTorch
does, so programs that set them run unchanged; ``set_printoptions`` is wired into tensor
printing.
"""

from __future__ import annotations

import math

from ._format import PRINT_OPTS
from ._state import STATE

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print (PyTorch's options).

    Args:
        precision: digits after the decimal point (default 4).
        threshold: more elements than this are summarized with ``...`` (default 1000).
        edgeitems: elements shown at each end of a summarized dim (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: "default", "short" (precision 2, edgeitems 2) or "full" (no summary);
            applied first, then the explicit options.
        sci_mode: True/False forces scientific/fixed notation; None (what every call that
            does not give it sets, as in PyTorch) chooses automatically.

    Example::

        >>> chainrule.set_printoptions(precision=2)
        >>> chainrule.tensor([1.23456])
        tensor([1.23])
        >>> chainrule.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            setattr(PRINT_OPTS, k, v)
    PRINT_OPTS.sci_mode = sci_mode


class _Flags:
    deterministic = False
    warn_only = False
    matmul_precision = "highest"
    interop_threads = 1
    warn_always = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the request (chainrule's NumPy kernels are deterministic already)."""
    _Flags.deterministic = bool(mode)
    _Flags.warn_only = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _Flags.deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _Flags.warn_only


def set_deterministic_debug_mode(debug_mode) -> None:
    """0 / "default", 1 / "warn", 2 / "error" (as PyTorch: 1 and 2 turn determinism on)."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _Flags.deterministic:
        return 0
    return 1 if _Flags.warn_only else 2


def set_float32_matmul_precision(precision: str) -> None:
    """"highest", "high" or "medium" (recorded; NumPy always multiplies in full float32)."""
    if precision not in ("highest", "high", "medium"):
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _Flags.matmul_precision = precision


def get_float32_matmul_precision() -> str:
    return _Flags.matmul_precision


def set_num_interop_threads(n: int) -> None:
    """Record the inter-op pool size (chainrule has no inter-op pool; see set_num_threads)."""
    if int(n) < 1:
        raise RuntimeError(f"Expected positive number of threads, got {n}")
    _Flags.interop_threads = int(n)


def get_num_interop_threads() -> int:
    return _Flags.interop_threads


def set_flush_denormal(mode: bool) -> bool:
    """False: NumPy gives no control over denormal flushing (PyTorch returns False where
    the CPU lacks the feature, too)."""
    return False


def set_warn_always(b: bool) -> None:
    _Flags.warn_always = bool(b)


def is_warn_always_enabled() -> bool:
    return _Flags.warn_always


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return STATE.anomaly


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    STATE.anomaly = bool(enabled)


def is_autocast_enabled(device_type=None) -> bool:
    """False: chainrule has no autocast (mixed precision)."""
    return False


def is_autocast_cpu_enabled() -> bool:
    return False


def set_autocast_enabled(*args) -> None:
    """Only ``False`` is accepted: chainrule has no autocast."""
    if args and args[-1]:
        raise RuntimeError("set_autocast_enabled: chainrule has no autocast (mixed precision); "
                           "compute in float32 or float64")


def is_vulkan_available() -> bool:
    return False


__all__ = [
    "are_deterministic_algorithms_enabled", "get_deterministic_debug_mode",
    "get_float32_matmul_precision", "get_num_interop_threads", "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled", "is_autocast_cpu_enabled", "is_autocast_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "is_vulkan_available",
    "is_warn_always_enabled", "set_anomaly_enabled", "set_autocast_enabled",
    "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_flush_denormal",
    "set_num_interop_threads", "set_printoptions", "set_warn_always",
    "use_deterministic_algorithms",
]
