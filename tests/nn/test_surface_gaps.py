"""torch.nn surface: the list of what PyTorch has and chainrule lacks, by name, is empty
(except what chainrule refuses on purpose, listed in REFUSED with the reason). Run as a
script (``python tests/nn/test_surface_gaps.py``) it prints the list."""

from __future__ import annotations

import importlib
import inspect

# name -> why chainrule does not provide it (must raise a clear error where a user reaches)
REFUSED: dict = {}

# submodules of torch.nn (and torch.nn.utils) whose public names are compared
SPACES = [
    ("torch.nn", "chainrule.nn", "class"), ("torch.nn.functional", "chainrule.nn.functional", None),
    ("torch.nn.init", "chainrule.nn.init", None), ("torch.nn.utils", "chainrule.nn.utils", None),
    ("torch.nn.utils.parametrize", "chainrule.nn.utils.parametrize", None),
    ("torch.nn.utils.parametrizations", "chainrule.nn.utils.parametrizations", None),
    ("torch.nn.utils.prune", "chainrule.nn.utils.prune", None),
    ("torch.nn.utils.rnn", "chainrule.nn.utils.rnn", None),
    ("torch.nn.utils.fusion", "chainrule.nn.utils.fusion", None),
    ("torch.nn.utils.stateless", "chainrule.nn.utils.stateless", None),
    ("torch.nn.grad", "chainrule.nn.grad", None),
]


_BROAD = ("torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils")


def _public(mod, kind):
    """Public callables of a torch namespace: everything for the four main ones (minus
    Python's own helpers imported there), the names defined in the module for the others."""
    names = []
    for n in dir(mod):
        if n.startswith("_"):
            continue
        v = getattr(mod, n)
        where = getattr(v, "__module__", None)
        if inspect.ismodule(v) or (isinstance(where, str) and not where.startswith("torch")):
            continue
        if mod.__name__ not in _BROAD and where != mod.__name__:
            continue
        if kind == "class" and not inspect.isclass(v):
            continue
        if not callable(v) and not inspect.isclass(v):
            continue
        names.append(n)
    return names


def missing():
    """{torch namespace: [names chainrule lacks]} (refused names excluded)."""
    out = {}
    for t_name, c_name, kind in SPACES:
        t_mod, c_mod = importlib.import_module(t_name), importlib.import_module(c_name)
        gone = [n for n in _public(t_mod, kind) if not hasattr(c_mod, n) and
                f"{t_name}.{n}" not in REFUSED]
        if gone:
            out[t_name] = gone
    t_nn = importlib.import_module("torch.nn")
    c_nn = importlib.import_module("chainrule.nn")
    gone = [n for n in dir(t_nn.Module) if not n.startswith("__") and not hasattr(c_nn.Module, n)]
    if gone:
        out["torch.nn.Module"] = gone
    return out


def test_nothing_public_is_missing(torch):
    assert missing() == {}


def test_every_torch_nn_modules_path_resolves(torch):
    import chainrule.nn.modules as cm
    from chainrule.nn.modules._names import MODULES

    unresolved = []
    for file, names in MODULES.items():
        names = (names,) if isinstance(names, str) else names
        mod = importlib.import_module(f"chainrule.nn.modules.{file}")
        for n in names:
            try:
                getattr(mod, n)
            except AttributeError:
                unresolved.append(f"{file}.{n}")
    assert unresolved == []
    assert cm.batchnorm._NormBase is importlib.import_module("chainrule.nn.normalization")._NormBase


def test_private_bases_are_in_the_same_places_as_torch(torch):
    import chainrule.nn as nn

    wrong = []
    for name in dir(torch.nn):
        t_cls, c_cls = getattr(torch.nn, name), getattr(nn, name, None)
        if not inspect.isclass(t_cls) or not inspect.isclass(c_cls):
            continue
        t_private = {c.__name__ for c in t_cls.__mro__ if c.__name__.startswith("_")
                     and c.__module__.startswith("torch.nn.modules")}
        c_private = {c.__name__ for c in c_cls.__mro__}
        for base in sorted(t_private - c_private - {"_LazyProtocol"}):
            wrong.append(f"{name} lacks {base}")
    assert wrong == []


def test_refused_names_are_listed_with_reasons():
    assert all(isinstance(why, str) and len(why) > 20 for why in REFUSED.values())


if __name__ == "__main__":
    result = missing()
    for space, names in result.items():
        print(f"{space}: {len(names)} missing\n   {' '.join(names)}")
    print("nothing missing" if not result else "")
