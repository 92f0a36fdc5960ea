"""``chainrule.jit``: PyTorch's TorchScript entry points, for programs that call them.

There is no TorchScript in chainrule. ``script`` and ``trace`` return what they are given
(the eager module or function, which computes the same values); the program runs, only
without TorchScript's compilation (``chainrule.compile`` is chainrule's compiler and
``chainrule.export`` / ``chainrule.onnx.export`` its export paths). ``save`` and ``load``
of TorchScript archives are refused: they are zip files of pickled code.
"""

from __future__ import annotations


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns ``obj`` unchanged (a module, function or class runs eagerly)."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """Returns ``func`` unchanged (it runs eagerly on every call)."""
    return func


trace_module = trace


def ignore(drop=False, **kwargs):
    return drop if callable(drop) else (lambda fn: fn)


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def _refuse(*_, **__):
    raise NotImplementedError(
        "chainrule.jit.save/load: TorchScript archives are zip files of pickled code, which "
        "chainrule never reads or writes; use chainrule.save(model, path) (safe, no pickle), "
        "chainrule.export(...).save(path) or chainrule.onnx.export(...)"
    )


save = load = freeze = _refuse
