"""``chainrule.compile`` (PyTorch's ``torch.compile``), ``OptimizedModule``, ``reset``."""

from __future__ import annotations

import functools
import types
import weakref

from ..nn.module import Module
from .compiled import CompiledFunction, _disabled

MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
BACKENDS = ("inductor", "chainrule", "eager", "aot_eager")
OPTIONS = ("buffers",)
_ALL = weakref.WeakSet()  # every CompiledFunction, for reset()


def compile(model=None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend="inductor", mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec=None):
    """Compile a module or a function: record it once, then replay it as NumPy code.

    The first call runs eagerly while the operations it performs are recorded (forward,
    backward, the optimizer's step); later calls with the same input shapes, dtypes, grad
    mode, train/eval state and parameters replay the recorded program directly on the
    arrays (no tensors, graph nodes or Python framework code per operation), writing into
    preallocated buffers. Parameters, ``.grad`` and optimizer state are updated in place, as
    the eager code would. A call the recorder cannot replay (it reads a tensor's value in
    Python, registers hooks, steps with a closure ...) runs eagerly and says why once.

    Args:
        model: an ``nn.Module`` (an ``OptimizedModule`` wrapping it is returned) or a
            function (a ``CompiledFunction`` is returned); None returns a decorator.
        fullgraph: raise ``chainrule.compiler.Unsupported`` instead of running eagerly.
        dynamic: accepted for PyTorch compatibility. Programs are specialised to shapes:
            a new input shape records a new program whatever the value.
        backend: ``"inductor"`` (the default, as PyTorch) or ``"chainrule"`` record and
            replay; ``"eager"`` / ``"aot_eager"`` run the function eagerly (debugging).
        mode: one of PyTorch's modes ("default", "reduce-overhead", "max-autotune",
            "max-autotune-no-cudagraphs"); all replay the same way.
        options: ``{"buffers": False}`` turns off preallocated buffers (every value is
            allocated at each call).
        name: the name used in messages and in the generated code.
        disable: return ``model`` unchanged.
        recompile_limit: programs kept per function (default 8); beyond it, new shapes or
            states run eagerly.

    Example::

        model = cr.compile(model)          # like torch.compile(model)

        @cr.compile
        def train_step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    for k in options or {}:
        if k not in OPTIONS:
            raise RuntimeError(f"Unexpected optimization option {k}, known options are "
                               f"{list(OPTIONS)}")
    if callable(backend) and not isinstance(backend, str):
        raise NotImplementedError(
            "chainrule.compile: custom backend callables are not supported; use "
            f"backend= one of {BACKENDS} (chainrule.export(model, args) returns the "
            "recorded program to inspect)")
    if backend not in BACKENDS:
        raise ValueError(f"chainrule.compile: unknown backend {backend!r}; expected one of "
                         f"{', '.join(BACKENDS)}")
    if shapes_spec is not None:
        raise NotImplementedError("chainrule.compile: shapes_spec is not supported (programs "
                                  "are specialised to the shapes they were recorded with)")
    if recompile_limit is not None and (not isinstance(recompile_limit, int)
                                        or recompile_limit < 1):
        raise ValueError(f"chainrule.compile: recompile_limit must be a positive int, got "
                         f"{recompile_limit!r}")
    kw = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
              name=name, disable=disable, recompile_limit=recompile_limit,
              isolate_recompiles=isolate_recompiles)
    if model is None:
        return lambda m: compile(m, **kw)
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"chainrule.compile: expected a Module or a callable, got "
                        f"{type(model).__name__}")
    if isinstance(model, OptimizedModule):
        model = model._orig_mod
    fn = CompiledFunction(model, fullgraph, recompile_limit or 8, options, name,
                          eager=backend in ("eager", "aot_eager"))
    _ALL.add(fn)
    if isinstance(model, Module):
        return OptimizedModule(model, fn)
    functools.update_wrapper(fn, model, updated=())
    return fn


def reset() -> None:
    """Forget every recorded program (``torch.compiler.reset`` / ``torch._dynamo.reset``):
    the next call of each compiled function records again."""
    for fn in list(_ALL):
        fn.reset()


def is_compiling() -> bool:
    """True while a call is being recorded (``torch.compiler.is_compiling``)."""
    from .._state import STATE

    return STATE.tracer is not None and STATE.tracer.compiling  # (not a profiler alone)


class disable:  # noqa: N801
    """Run compiled functions eagerly inside this block (a context manager, or a decorator:
    ``torch.compiler.disable``-like, for code that must always run eagerly)."""

    def __init__(self, fn=None, recursive=True, *, reason=None):
        self._fn = fn
        if fn is not None:
            functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        with disable():
            return self._fn(*args, **kwargs)

    def __enter__(self):
        self._prev = _disabled[0]
        _disabled[0] = True
        return self

    def __exit__(self, *exc):
        _disabled[0] = self._prev
        return False


class OptimizedModule(Module):
    """A compiled module (``torch._dynamo.eval_frame.OptimizedModule``): calling it runs
    the compiled forward; the original module is ``_orig_mod`` (registered as a child, so
    ``state_dict()`` keys start with ``_orig_mod.`` as in PyTorch); other attributes are
    read from and written to the original module."""

    _own = frozenset(("_orig_mod", "_compiled", "forward", "_initialised"))

    def __init__(self, mod: Module, compiled: CompiledFunction):
        object.__setattr__(self, "_initialised", False)
        super().__init__()
        self._modules["_orig_mod"] = mod
        self.__dict__["_compiled"] = compiled
        self.__dict__["forward"] = compiled
        self.__dict__["_initialised"] = True

    @property
    def training(self) -> bool:
        return self._modules["_orig_mod"].training

    @training.setter
    def training(self, value: bool) -> None:
        if self.__dict__.get("_initialised"):
            self._modules["_orig_mod"].training = value

    def __getattr__(self, name: str):
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    def __setattr__(self, name: str, value) -> None:
        if name in OptimizedModule._own or hasattr(type(self), name) \
                or not self.__dict__.get("_initialised"):
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __dir__(self):
        return sorted(set(dir(self._orig_mod)) | set(super().__dir__()))


def _bind(fn, obj):
    return types.MethodType(fn, obj)
