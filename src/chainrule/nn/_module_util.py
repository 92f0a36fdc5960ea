"""Helpers of ``nn.Module`` kept apart for size: name checks, repr indentation, and the
recording of constructor arguments that lets ``chainrule.save`` store a whole module.

Recording: ``Module.__init_subclass__`` wraps the ``__init__`` each subclass defines. The
outermost call (``MyNet(3, hidden=8)``, not the ``super().__init__(...)`` calls it makes)
stores ``(args, kwargs)`` in the instance's ``__dict__["_init_args"]`` exactly as given, and
``_built_by``: the ``id`` of the module whose constructor was running when this one was
made (None at top level). ``chainrule.save`` uses the second to know which submodules an
enclosing constructor recreates by itself.
"""

from __future__ import annotations

import functools
import threading
import types

_building = threading.local()  # .stack: modules whose constructor is running (innermost last)


def record_init(cls) -> None:
    """Wrap ``cls.__init__`` (if ``cls`` defines one) to record its constructor arguments."""
    init = cls.__dict__.get("__init__")
    if not isinstance(init, types.FunctionType) or getattr(init, "_records_args", False):
        return

    @functools.wraps(init)
    def recording_init(self, *args, **kwargs):
        d = self.__dict__
        if "_init_args" in d:  # a super().__init__(...) call inside the outermost one
            return init(self, *args, **kwargs)
        stack = getattr(_building, "stack", None)
        if stack is None:
            stack = _building.stack = []
        d["_init_args"] = (args, kwargs)
        d["_built_by"] = id(stack[-1]) if stack else None
        stack.append(self)
        try:
            init(self, *args, **kwargs)
        finally:
            stack.pop()

    recording_init._records_args = True
    cls.__init__ = recording_init


def check_name(kind: str, name, owner) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f'{kind} name can\'t be empty or contain ".", got: {name!r}')
    if hasattr(owner, name) and name not in owner._parameters and name not in owner._buffers \
            and name not in owner._modules:
        raise KeyError(f"attribute '{name}' already exists")


def addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def module_repr(m) -> str:
    extra = m.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    child_lines = [f"({name}): " + addindent(repr(c), 2) for name, c in m._modules.items()]
    lines = extra_lines + child_lines
    text = m._get_name() + "("
    if lines:
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        else:
            text += "\n  " + "\n  ".join(lines) + "\n"
    return text + ")"
