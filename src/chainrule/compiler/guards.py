"""What a compiled call depends on besides its tensor inputs, and the checks (guards) that
decide whether a recorded program may be replayed for a new call.

The *roots* of a call are the modules, optimizers and tensors it can reach without running:
its arguments, the object of a bound method, its closure cells, and the globals its code
names. Their parameters and buffers become the program's external values; their identity,
train/eval state and ``requires_grad`` flags are guarded.

The *key* of a call (a dict key into the cache of programs) holds: grad mode, each tensor
argument's shape, dtype and ``requires_grad``, which tensor arguments share an array, the
other arguments' values (or identities, for modules, optimizers and unhashable objects),
the train/eval flag of every root module and the ``requires_grad`` flag of every root
parameter. A program then checks that each root is still the object it recorded and that
each parameter and buffer still holds the same array (``p.data = ...`` replaces it).
"""

from __future__ import annotations

import functools
import types
from operator import is_

import numpy as np

from .._state import STATE
from ..nn.module import Module
from ..ops import _parallel
from ..optim.optimizer import Optimizer
from ..tensor import Tensor

_SCALARS = (int, float, bool, str, bytes, complex, type(None))


class Roots:
    """The modules, optimizers and tensors a call reaches, and where each was found."""

    def __init__(self):
        self.modules = []  # every module (submodules included), each once
        self.top_modules = []
        self.optimizers = []
        self.tensors = []  # standalone tensors (not inside a module)
        self.sources = []  # (container, key, object): container[key] must stay object
        self.dicts = []  # (dict or list, ids of its values when recorded)
        self._seen = set()

    def add(self, x, source=None) -> bool:
        if id(x) in self._seen:
            return True
        if isinstance(x, Module):
            self._seen.add(id(x))
            self.top_modules.append(x)
            for m in x.modules():
                if id(m) not in self._seen or m is x:
                    self._seen.add(id(m))
                    self.modules.append(m)
        elif isinstance(x, Optimizer):
            self._seen.add(id(x))
            self.optimizers.append(x)
        elif isinstance(x, Tensor):
            self._seen.add(id(x))
            self.tensors.append(x)
        else:
            return False
        if source is not None:
            self.sources.append(source + (x,))
        return True

    def named_tensors(self):
        """``(name, tensor, kind)`` for every parameter, buffer and standalone tensor, each
        once, modules first (their parameters' dotted names), then optimizer parameters."""
        seen, out = set(), []
        for k, m in enumerate(self.top_modules):
            prefix = "" if len(self.top_modules) == 1 else f"m{k}."
            for name, p in m.named_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((prefix + name, p, "param"))
            for name, b in m.named_buffers():
                if b is not None and id(b) not in seen:
                    seen.add(id(b))
                    out.append((prefix + name, b, "buffer"))
        for k, opt in enumerate(self.optimizers):
            for g in opt.param_groups:
                for i, p in enumerate(g["params"]):
                    if id(p) not in seen:
                        seen.add(id(p))
                        out.append((f"opt{k}.param{i}", p, "param"))
        for i, t in enumerate(self.tensors):
            if id(t) not in seen:
                seen.add(id(t))
                out.append((f"tensor{i}", t, "tensor"))
        return out

    def freeze(self) -> None:
        """Remember the structure: which parameters, buffers and children each module has,
        and which parameters each optimizer group holds (checked by ``still``)."""
        dicts = []
        for m in self.modules:
            for d in (m._parameters, m._buffers, m._modules):
                if d:
                    dicts.append((d.values(), len(d), tuple(d.values())))
        for opt in self.optimizers:
            groups = opt.param_groups
            dicts.append((groups, len(groups), tuple(groups)))
            for g in groups:
                dicts.append((g["params"], len(g["params"]), tuple(g["params"])))
        self.dicts = dicts

    def still(self) -> bool:
        for view, n, items in self.dicts:  # the same objects, compared by identity
            if len(view) != n or not all(map(is_, view, items)):
                return False
        for container, key, obj in self.sources:
            try:
                cur = container[key] if isinstance(container, (dict, _Cell)) else getattr(container, key)
            except (KeyError, AttributeError, ValueError):
                return False
            if cur is not obj:
                return False
        return True


class _Cell:
    """A closure cell seen as a container (``cell_contents``)."""

    def __init__(self, cell):
        self.cell = cell

    def __getitem__(self, _):
        return self.cell.cell_contents


def _names(code, out, depth=0):
    out.update(code.co_names)
    if depth < 3:
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                _names(c, out, depth + 1)


def _walk(roots, x, depth, source=None):
    if roots.add(x, source) or depth <= 0 or type(x) in _SCALARS:
        return
    if isinstance(x, (list, tuple)):
        for i in x:
            _walk(roots, i, depth - 1)
    elif isinstance(x, dict):
        for i in x.values():
            _walk(roots, i, depth - 1)
    elif not isinstance(x, (type, types.FunctionType, types.ModuleType, types.MethodType)) \
            and isinstance(getattr(x, "__dict__", None), dict):
        for k, v in list(vars(x).items()):  # an object holding a model and an optimizer
            _walk(roots, v, 0, (x, k))


def find_roots(fn, args, kwargs) -> Roots:
    roots = Roots()
    for a in args:
        _walk(roots, a, 2)
    for a in kwargs.values():
        _walk(roots, a, 2)
    while isinstance(fn, functools.partial):
        for a in (*fn.args, *fn.keywords.values()):
            _walk(roots, a, 2)
        fn = fn.func
    while isinstance(fn, types.MethodType) or hasattr(fn, "__wrapped__"):
        if isinstance(fn, types.MethodType):
            obj = fn.__self__
            if not roots.add(obj):
                for k, v in list(vars(obj).items()) if hasattr(obj, "__dict__") else []:
                    _walk(roots, v, 1, (obj, k))
            fn = fn.__func__
        else:
            fn = fn.__wrapped__
    if isinstance(fn, Module):
        roots.add(fn)
        return roots
    code = getattr(fn, "__code__", None)
    if code is None:
        return roots
    for d in (*(getattr(fn, "__defaults__", None) or ()),
              *(getattr(fn, "__kwdefaults__", None) or {}).values()):
        _walk(roots, d, 2)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            _walk(roots, cell.cell_contents, 2, (_Cell(cell), name))
        except ValueError:  # an empty cell
            pass
    names = set()
    _names(code, names)
    g = fn.__globals__
    for name in sorted(names):
        if name in g:
            _walk(roots, g[name], 1, (g, name))
    return roots


def signature(args, kwargs):
    """``(key part, tensors in order)`` of a call's arguments (see the module docstring)."""
    if not kwargs and all(type(a) is Tensor for a in args):  # the common case, quickly
        parts = tuple([(a._data.shape, a._data.dtype, a.requires_grad) for a in args])
        if len(args) > 1:
            ids = [id(a._data) for a in args]
            if len(set(ids)) != len(ids):
                parts += (tuple(ids.index(i) for i in ids),)
        return parts, list(args)
    tensors = []
    parts = []
    _sig(args, parts, tensors, 3)
    if kwargs:
        for k in sorted(kwargs):
            parts.append(k)
            _sig(kwargs[k], parts, tensors, 3)
    if len(tensors) > 1:
        ids = [id(data_of(t)) for t in tensors]
        if len(set(ids)) != len(ids):
            parts.append(tuple(ids.index(i) for i in ids))
    return tuple(parts), tensors


def data_of(t):
    """The array of an input: a tensor's, or a NumPy array argument itself."""
    return t._data if isinstance(t, Tensor) else t


def _sig(x, parts, tensors, depth):
    if isinstance(x, Tensor):
        tensors.append(x)
        d = x._data
        parts.append((d.shape, d.dtype, x.requires_grad))
    elif isinstance(x, np.ndarray):  # a NumPy argument is an input like a tensor
        tensors.append(x)
        parts.append(("nd", x.shape, x.dtype.str))
    elif type(x) in _SCALARS:
        parts.append((type(x), x))
    elif isinstance(x, (tuple, list)) and depth > 0:
        parts.append((type(x), len(x)))
        for i in x:
            _sig(i, parts, tensors, depth - 1)
    elif isinstance(x, dict) and depth > 0:
        parts.append((dict, tuple(x)))
        for v in x.values():
            _sig(v, parts, tensors, depth - 1)
    else:
        try:
            hash(x)
            parts.append(("h", type(x), x) if not isinstance(x, (Module, Optimizer)) else
                         ("id", id(x)))
        except TypeError:
            parts.append(("id", id(x)))


def state_key(roots: Roots, params) -> tuple:
    """Grad mode, module train/eval flags, parameter ``requires_grad`` flags and whether
    chainrule's thread pool splits kernels (a program recorded with one thread has the
    kernels' NumPy calls inline, one recorded with more calls the splitting kernels)."""
    return (STATE.grad_enabled, tuple([m.training for m in roots.modules]),
            tuple([p.requires_grad for p in params]), _parallel._N > 1)
