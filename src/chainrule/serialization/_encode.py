"""Turning Python objects (and whole modules) into a JSON structure plus named arrays."""

from __future__ import annotations

import inspect
import math
import types
from collections import OrderedDict

import numpy as np

from .._device import device
from .._dtype import dtype
from ..tensor import Tensor
from ._globals import path_of

MAX_LEVELS = 64  #: containers/modules nested deeper than this are refused by save

_HOW = ("chainrule saves tensors, NumPy arrays, numbers, strings, bools, None, dtypes, "
        "devices, modules, classes and functions defined at module level, and lists/tuples/"
        "dicts of them")


class UnencodableError(TypeError):
    """An object ``save`` cannot store; ``where`` says where it sits."""

    def __init__(self, obj, where: str, why: str = ""):
        self.obj, self.where = obj, where
        kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
        super().__init__(why or f"chainrule.save: can't save an object of type {kind} at "
                                f"{where}; {_HOW} (or save a model's state_dict())")


class Encoder:
    """Encodes one object; ``arrays`` are the safetensors entries, ``modules`` the module
    table (one record per distinct module, referenced as ``{"t": "module", "i": n}``)."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: dict[int, tuple] = {}
        self.modules: list = []
        self.module_ids: dict[int, int] = {}
        self.names: dict[int, str] = {}  # id(tensor) -> its state_dict key in its model
        self.paths: dict[int, str] = {}  # id(module) -> where it sits in its model
        self._count = 0

    def _key(self, name: str | None) -> str:
        if name and name not in self.arrays:
            return name
        while str(self._count) in self.arrays:
            self._count += 1
        return str(self._count)

    def _store(self, arr: np.ndarray, node: dict, obj) -> dict:
        key = self._key(self.names.get(id(obj)))
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        node["k"] = key
        self.seen[id(obj)] = (node, obj)
        return node

    def encode(self, obj, where: str, depth: int = 0):
        if depth > MAX_LEVELS:
            raise UnencodableError(obj, where, f"chainrule.save: {where} is nested more than "
                                          f"{MAX_LEVELS} levels deep")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"t": "float", "v": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) in self.seen:
                return dict(self.seen[id(obj)][0])
            node = {"t": "tensor", "rg": bool(obj.requires_grad)}
            if type(obj).__name__ == "Parameter":
                node["cls"] = "Parameter"
            return self._store(obj._data, node, obj)
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise UnencodableError(obj, where, f"chainrule.save: can't save a NumPy array of "
                                              f"dtype {obj.dtype} at {where} (only bool, "
                                              "integer and float arrays)")
            if id(obj) in self.seen:
                return dict(self.seen[id(obj)][0])
            return self._store(obj, {"t": "ndarray"}, obj)
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biuf":
                raise UnencodableError(obj, where, f"chainrule.save: can't save a NumPy scalar of "
                                              f"dtype {obj.dtype} at {where}")
            return self._store(np.asarray(obj), {"t": "npscalar"}, obj)
        if isinstance(obj, (list, tuple)):
            tag = "tuple" if isinstance(obj, tuple) else "list"
            return {"t": tag, "v": [self.encode(v, f"{where}[{i}]", depth + 1)
                                    for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool, tuple)) and k is not None:
                    raise UnencodableError(k, where, f"chainrule.save: can't save a dict key of "
                                                f"type {type(k).__name__} at {where}")
                items.append([self.encode(k, where, depth + 1),
                              self.encode(v, f"{where}[{k!r}]", depth + 1)])
            return {"t": tag, "v": items}
        if isinstance(obj, dtype):
            return {"t": "dtype", "v": obj.name}
        if isinstance(obj, device):
            return {"t": "device", "v": str(obj)}
        from ..nn.module import Module

        if isinstance(obj, Module):
            if id(obj) not in self.module_ids:  # name its tensors by their state_dict keys
                for key, t in (*obj.named_parameters(), *obj.named_buffers()):
                    self.names.setdefault(id(t), key)
                for key, sub in obj.named_modules():
                    self.paths.setdefault(id(sub), f"{where}.{key}" if key else where)
            return {"t": "module", "i": self.module(obj, where, depth, ())}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"t": "global", "v": _global_path(obj, where)}
        raise UnencodableError(obj, where)

    # -- whole modules ---------------------------------------------------------------------
    def module(self, m, where: str, depth: int, ancestors: tuple) -> int:
        if id(m) in self.module_ids:
            return self.module_ids[id(m)]
        if depth > MAX_LEVELS:
            raise UnencodableError(m, where, f"chainrule.save: {where} is nested more than "
                                        f"{MAX_LEVELS} levels deep")
        where = self.paths.get(id(m), where)
        index = len(self.modules)
        self.module_ids[id(m)] = index
        self.seen[id(m)] = (None, m)  # keeps m alive, so its id stays unique
        self.modules.append(None)
        d = m.__dict__
        rec = {"cls": _global_path(type(m), where, module=True)}
        from_ctor = d.get("_built_by") in ancestors
        args, kwargs = d.get("_init_args", ((), {}))
        try:
            rec["args"] = [self.encode(a, f"{where}<arg {i}>", depth + 1)
                           for i, a in enumerate(args)]
            rec["kwargs"] = [[k, self.encode(v, f"{where}<arg {k}>", depth + 1)]
                             for k, v in kwargs.items()]
        except UnencodableError as e:
            if getattr(e, "final", False):  # a submodule's own, already explained
                raise
            if not from_ctor:  # nobody else can rebuild it: the arguments are needed
                raise _argument_error(m, where, args, kwargs, e) from None
            rec["args"] = rec["kwargs"] = None
        rec["ctor"] = from_ctor
        inner = ancestors + (id(m),)
        rec["children"] = [
            [n, None if c is None else self.module(c, f"{where}.{n}", depth + 1, inner)]
            for n, c in d["_modules"].items()]
        rec["params"] = [[n, None if p is None else self.encode(p, f"{where}.{n}", depth + 1)]
                         for n, p in d["_parameters"].items()]
        skip = d["_non_persistent_buffers_set"]
        rec["buffers"] = [[n, None if b is None else self.encode(b, f"{where}.{n}", depth + 1),
                           n not in skip] for n, b in d["_buffers"].items()]
        rec["attrs"] = self._attrs(m, where, depth)
        self.modules[index] = rec
        return index

    def _attrs(self, m, where: str, depth: int) -> list:
        """Plain data attributes (numbers, strings, dtypes, tensors, containers of them):
        saved when they can be; the constructor recreates everything else."""
        out = []
        for name, value in m.__dict__.items():
            if name in _internal_names() or isinstance(value, (type, types.FunctionType)):
                continue
            try:
                node = _plain(self, value, f"{where}.{name}", depth + 1)
            except UnencodableError:
                continue
            out.append([name, node])
        return out


def _plain(enc: Encoder, value, where: str, depth: int):
    """``enc.encode`` restricted to data: no modules or globals anywhere inside."""
    stack = [(value, depth)]
    while stack:
        v, level = stack.pop()
        if level > MAX_LEVELS:
            raise UnencodableError(v, where)
        if isinstance(v, (list, tuple)):
            stack.extend((x, level + 1) for x in v)
        elif isinstance(v, dict):
            if not all(k is None or isinstance(k, (str, int, float, bool, tuple)) for k in v):
                raise UnencodableError(v, where)
            stack.extend((x, level + 1) for x in (*v.keys(), *v.values()))
        elif isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind not in "biuf":
            raise UnencodableError(v, where)
        elif not (v is None or isinstance(v, (bool, int, float, str, Tensor, np.ndarray,
                                              np.generic, dtype, device))):
            raise UnencodableError(v, where)
    return enc.encode(value, where, depth)


_INTERNAL: set = set()


def _internal_names() -> set:
    """Module's own bookkeeping attributes (what a bare ``Module()`` holds), except
    ``training``, which is saved as an attribute."""
    if not _INTERNAL:
        from ..nn.module import Module

        _INTERNAL.update(Module().__dict__)
        _INTERNAL.update(("_init_args", "_built_by"))
        _INTERNAL.discard("training")
    return _INTERNAL


def _global_path(obj, where: str, module: bool = False) -> str:
    path = path_of(obj)
    what = "class" if isinstance(obj, type) else "function"
    if "<locals>" in path or "<lambda>" in path:
        whole = (f"can't save the module at {where} whole: its class {obj.__qualname__}"
                 if module else f"can't save the {what} {obj.__qualname__} at {where}: it")
        raise UnencodableError(obj, where, f"chainrule.save: {whole} is defined inside a function "
                                      "or is a lambda, so a loader could not name it; define "
                                      "it at module level (or save a state_dict())")
    return path


def _argument_error(m, where: str, args, kwargs, e: UnencodableError) -> UnencodableError:
    tag = e.where[len(where):] if e.where.startswith(where + "<arg ") else ""
    arg = tag[5:].split(">", 1)[0] if tag else "?"
    rest = tag.split(">", 1)[1] if ">" in tag else ""
    if arg.isdigit():
        try:
            bound = list(inspect.signature(type(m)).bind(*args, **kwargs).arguments)
            arg = bound[int(arg)] if int(arg) < len(bound) else f"#{arg}"
        except (TypeError, ValueError):
            arg = f"#{int(arg) + 1} (positional)"
    kind = f"{type(e.obj).__module__}.{type(e.obj).__qualname__}"
    cause = str(e) if "nested more than" in str(e) or "defined inside" in str(e) else (
        f"is a {kind}, which chainrule cannot store")
    err = UnencodableError(e.obj, where, (
        f"chainrule.save: can't save the module at {where} ({type(m).__name__}) whole: its "
        f"constructor argument {arg!r}{rest} {cause.removeprefix('chainrule.save: ')}. A "
        f"whole module is saved as its class and constructor arguments, which must be None, "
        f"bools, numbers, strings, lists/tuples/dicts of them, dtypes, devices, tensors, "
        f"modules, or classes/functions defined at module level. Save its state_dict() "
        f"instead, or give the constructor only such values"))
    err.final = True
    return err
