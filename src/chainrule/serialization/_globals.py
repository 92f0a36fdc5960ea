"""Which classes and functions a file may name (PyTorch's ``torch.serialization`` allowlist).

A saved whole module names its classes by import path (``"mypkg.models.Net"``). Loading
rebuilds a module only from a class that is allowed:

- chainrule's own ``nn.Module`` subclasses, and the math functions of
  ``chainrule.nn.functional``, ``chainrule.nn.init`` and ``chainrule`` itself (``relu``,
  ``tanh``, ... : functions that are also tensor methods), allowed by default;
- whatever the user added with :func:`add_safe_globals` or inside :class:`safe_globals`.

A path is matched against these objects without importing anything: chainrule's own are
looked up in modules already in ``sys.modules`` (by ``vars()``, so no module ``__getattr__``
runs), the user's by the path they were registered under. Only ``load(...,
weights_only=False)`` imports the module a file names, as PyTorch's unsafe mode does.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

_LOCK = threading.Lock()
_marked: list = []  # what the user added, in order, without duplicates


def add_safe_globals(safe_globals: list) -> None:
    """Allow classes or functions to be named by files given to ``chainrule.load``.

    Each item is a class/function, registered under ``f"{obj.__module__}.{obj.__qualname__}"``
    (the path ``chainrule.save`` writes), or a tuple ``(obj, "path.in.the.file")`` to accept
    it under another path (for example a class saved from ``__main__`` and now imported
    from a module).

    Example::

        chainrule.serialization.add_safe_globals([MyModel])
        model = chainrule.load("model.pt")
    """
    items = list(safe_globals)
    for item in items:
        _check_item(item)
    with _LOCK:
        for item in items:
            if item not in _marked:
                _marked.append(item)


def get_safe_globals() -> list:
    """The classes/functions (or ``(obj, path)`` tuples) the user has allowed."""
    with _LOCK:
        return list(_marked)


def clear_safe_globals() -> None:
    """Forget every class/function added with :func:`add_safe_globals`."""
    with _LOCK:
        _marked.clear()


class safe_globals:  # noqa: N801 - PyTorch's name
    """Context manager allowing ``safe_globals`` inside the block only; on exit it removes
    those that were not already allowed before the block.

    Example::

        with chainrule.serialization.safe_globals([MyModel]):
            model = chainrule.load("model.pt")
    """

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)
        self._added: list = []

    def __enter__(self):
        before = get_safe_globals()
        add_safe_globals(self.safe_globals)
        self._added = [g for g in self.safe_globals if g not in before]
        return self

    def __exit__(self, *exc):
        with _LOCK:
            for g in self._added:
                if g in _marked:
                    _marked.remove(g)
        return False


def _check_item(item) -> None:
    obj = item[0] if isinstance(item, tuple) else item
    if isinstance(item, tuple) and (len(item) != 2 or not isinstance(item[1], str)):
        raise TypeError(f"add_safe_globals: expected a class/function or a (class, 'path') "
                        f"tuple, got {item!r}")
    if not callable(obj):
        raise TypeError(f"add_safe_globals: expected a class or function, got {obj!r}")


def path_of(obj) -> str:
    """The path a file uses for ``obj``: a public chainrule path when there is one (stable
    across internal moves), else ``module.qualname``."""
    public = _public_chainrule_path(obj)
    return public or f"{obj.__module__}.{obj.__qualname__}"


def _public_chainrule_path(obj) -> str | None:
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or not str(getattr(obj, "__module__", "")).startswith(
            "chainrule"):
        return None
    for mod in ("chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init", "chainrule"):
        m = sys.modules.get(mod)
        if m is not None and vars(m).get(name) is obj:
            return f"{mod}.{name}"
    return None


def _lookup(path: str):
    """The object at ``path`` among modules already imported (no import, no __getattr__)."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        mod = sys.modules.get(".".join(parts[:cut]))
        if mod is None:
            continue
        obj = mod
        for attr in parts[cut:]:
            ns = getattr(obj, "__dict__", None)  # module or class namespace, no descriptors
            if ns is None or attr not in ns:
                return None
            obj = ns[attr]
        return obj
    return None


def _default_allowed(obj) -> bool:
    from ..nn.module import Module
    from ..tensor import Tensor

    if isinstance(obj, type):
        return issubclass(obj, Module) and obj.__module__.startswith("chainrule.")
    if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return False
    name = obj.__name__
    for mod in ("chainrule.nn.functional", "chainrule.nn.init"):
        m = sys.modules.get(mod)
        if m is not None and vars(m).get(name) is obj:
            return True
    top = sys.modules.get("chainrule")
    return top is not None and vars(top).get(name) is obj and hasattr(Tensor, name)


def resolve(path: str, weights_only: bool):
    """The allowed object named ``path``, or None when it is not allowed."""
    for item in get_safe_globals():
        obj, registered = item if isinstance(item, tuple) else (item, None)
        if path == (registered or f"{obj.__module__}.{obj.__qualname__}"):
            return obj
    if path.startswith("chainrule."):
        obj = _lookup(path)
        if obj is not None and _default_allowed(obj):
            return obj
    if weights_only:
        return None
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # the longest importable prefix
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def not_allowed_message(name: str, paths: list) -> str:
    short = ", ".join(p.rsplit(".", 1)[-1] for p in paths)
    named = ", ".join(repr(p) for p in paths)
    return (f"chainrule.load: {name!r} names {named}, which "
            f"{'is' if len(paths) == 1 else 'are'} not allowed: loading a whole module "
            f"rebuilds it from its class, and chainrule imports or runs nothing a file names "
            f"unless you allow it. If you trust this file, allow "
            f"{'it' if len(paths) == 1 else 'them'} with "
            f"chainrule.serialization.add_safe_globals([{short}]) or inside "
            f"`with chainrule.serialization.safe_globals([{short}]): ...` (or load with "
            f"weights_only=False, which imports whatever the file names: trusted files only)")
