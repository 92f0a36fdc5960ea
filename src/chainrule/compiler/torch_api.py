"""The rest of ``torch.compiler``'s public functions, over chainrule's capture and replay.

chainrule has one compiler (record the call, replay NumPy); every ``backend=`` name runs it.
Functions that steer TorchDynamo's tracing (``allow_in_graph``, ``assume_constant_result``,
``substitute_in_graph``) return what they are given: the recorder sees the NumPy calls a
function makes, whatever it is. ``set_stance("force_eager")`` runs compiled functions
eagerly until the stance is set back (as a call, or for a ``with`` block / a decorated
function); ``"eager_on_recompile"`` and ``"fail_on_recompile"`` are accepted and behave as
``"default"`` (a new input shape records again: same numbers, no error raised).
"""

from __future__ import annotations

import functools

from .api import _disabled

__all__ = ["allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin",
           "get_default_backend", "is_dynamo_compiling", "is_exporting", "list_backends",
           "set_default_backend", "set_stance", "substitute_in_graph", "wrap_numpy"]

_STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile")
_stance = ["default"]
_backend = ["inductor"]
_exporting = [0]  # > 0 while chainrule.export records


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The backend names ``compile`` accepts; each runs chainrule's replay."""
    return ["inductor"]


def get_default_backend() -> str:
    return _backend[0]


def set_default_backend(backend: str) -> None:
    _backend[0] = backend


def _identity_decorator(fn=None, **_):
    return fn


allow_in_graph = assume_constant_result = wrap_numpy = _identity_decorator


def substitute_in_graph(original_fn, *, can_constant_fold_through=False,
                        skip_signature_check=False):
    """A decorator that leaves ``original_fn`` in place (nothing to substitute: the
    recorder sees NumPy calls, not Python bytecode)."""
    return lambda fn: fn


def cudagraph_mark_step_begin() -> None:
    """Nothing to do: no CUDA graphs on the CPU."""


def is_dynamo_compiling() -> bool:
    from .api import is_compiling

    return is_compiling()


def is_exporting() -> bool:
    """True while ``chainrule.export`` records a forward pass."""
    return _exporting[0] > 0


def _apply(stance: str) -> None:
    _stance[0] = stance
    _disabled[0] = stance == "force_eager"


class set_stance:  # noqa: N801
    """``torch.compiler.set_stance``: called, it sets the stance; as a context manager or
    decorator it holds for the block or the call and restores the previous one."""

    def __init__(self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
                 force_backend=None):
        if stance not in _STANCES:
            raise ValueError(f"set_stance: unknown stance {stance!r}; expected one of "
                             f"{', '.join(_STANCES)}")
        self._prev = _stance[0]
        self._stance = stance
        _apply(stance)

    def __enter__(self):
        _apply(self._stance)
        return self

    def __exit__(self, *exc):
        _apply(self._prev)
        return False

    def __call__(self, fn):
        _apply(self._prev)  # a decorator: the stance holds only while fn runs
        stance = self._stance

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_stance(stance):
                return fn(*args, **kwargs)

        return wrapper
