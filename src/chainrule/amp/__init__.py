"""``chainrule.amp``: PyTorch's automatic mixed precision API, for programs that use it.

chainrule computes in the dtypes it is given (float32 by default) and has no bfloat16, so
``autocast`` runs its body unchanged (an enabled autocast to another dtype warns once), and
``GradScaler`` is the pass-through PyTorch's is when disabled: ``scale(loss)`` returns the
loss, ``step(optimizer)`` calls ``optimizer.step()``, ``update()`` does nothing and
``get_scale()`` is 1.0. Training scripts written for AMP therefore run and train in float32.
"""

from __future__ import annotations

import warnings

from . import autocast_state as _state


class autocast:  # noqa: N801 - mirrors torch.autocast
    """A context manager and decorator that leaves computation in its own dtypes."""

    _warned = False

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled
        self.cache_enabled = cache_enabled
        if enabled and dtype is not None and not autocast._warned:
            name = getattr(dtype, "name", str(dtype))
            if name not in ("float32", "float"):
                autocast._warned = True
                warnings.warn(f"autocast(dtype={name}): chainrule computes in float32 (no "
                              "mixed precision on its NumPy CPU backend)", stacklevel=2)

    def __enter__(self):
        # PyTorch's bookkeeping (read back by torch.get_autocast_dtype and friends)
        self._prev = _state.get_autocast_dtype(self.device_type), _state.is_autocast_cache_enabled()
        _state.set_autocast_dtype(self.device_type, self.dtype or self._prev[0])
        if self.cache_enabled is not None:
            _state.set_autocast_cache_enabled(self.cache_enabled)
        _state.autocast_increment_nesting()
        return self

    def __exit__(self, *exc):
        if _state.autocast_decrement_nesting() == 0:
            _state.clear_autocast_cache()
        _state.set_autocast_dtype(self.device_type, self._prev[0])
        _state.set_autocast_cache_enabled(self._prev[1])
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapped


def is_autocast_available(device_type: str) -> bool:
    return device_type == "cpu"


class GradScaler:
    """Loss scaling for float16 training: here a pass-through (no float16 gradients)."""

    def __init__(self, device="cpu", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._enabled = enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        pass

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict) -> None:
        pass


def custom_fwd(fwd=None, *, device_type="cpu", cast_inputs=None):
    """Decorator of custom Function forwards under autocast: returns the function."""
    return fwd if fwd is not None else (lambda f: f)


def custom_bwd(bwd=None, *, device_type="cpu"):
    return bwd if bwd is not None else (lambda f: f)
