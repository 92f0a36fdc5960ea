"""A program as JSON (plus arrays), and back, without executing anything while reading.

Arguments are encoded as JSON values where they are JSON already (null, booleans, strings,
integers, finite floats, lists) and as tagged objects otherwise: ``{"v": id}`` a value,
``{"tuple": [...]}``, ``{"dict": [[k, v], ...]}``, ``{"slice": [a, b, c]}``,
``{"ellipsis": 1}``, ``{"float": "nan"}``, ``{"dtype": "float32"}``, ``{"scalar":
["float32", "0.5"]}`` a NumPy scalar, ``{"array": "c3"}`` a constant array (stored with
the weights), ``{"geom": ["ConvGeom", {...}]}`` a shape record of a primitive.

Callables are names checked against allowlists on load: a primitive is a class of
``chainrule.ops``; a NumPy node is a ufunc or one of the array functions in ``FUNCTIONS``;
a kernel of chainrule's thread pool (recorded whole when it splits) is ``"chainrule:NAME"``
from ``ops._kernels.kernels()``;
a method is one of ``trace.METHODS``. Random draws use the default generator when loaded.
Programs with optimizer steps or user-defined ``autograd.Function`` classes cannot be saved.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..ops.conv import ConvGeom
from ..ops.pool import PoolGeom
from .program import Node, Value
from .trace import METHODS, ORIGINALS

FUNCTIONS = frozenset((
    "where", "copyto", "broadcast_to", "concatenate", "stack", "take_along_axis",
    "put_along_axis", "einsum", "transpose", "swapaxes", "moveaxis", "expand_dims",
    "squeeze", "reshape", "clip", "flip", "pad", "cumsum", "cumprod", "array", "asarray",
    "asanyarray", "ascontiguousarray", "zeros", "ones", "empty", "full", "eye", "identity",
    "arange", "linspace", "zeros_like", "ones_like", "empty_like", "full_like", "copy",
    "matmul", "dot", "tensordot", "split", "tile", "repeat", "take", "isnan", "isinf",
    "isfinite", "nonzero", "argmax", "argmin", "argsort", "sort", "mean", "var", "std",
    "sum", "prod", "max", "min", "amax", "amin", "any", "all", "round", "ravel",
    "atleast_1d", "atleast_2d", "atleast_3d", "diagonal", "trace", "outer", "vstack",
    "hstack", "squeeze", "result_type", "count_nonzero", "indices", "meshgrid", "diff",
))
GEOMS = {"ConvGeom": ConvGeom, "PoolGeom": PoolGeom}


_KERNEL = "chainrule:"  # the name prefix of a chainrule kernel node (ops/_parallel.py)


@functools.cache
def _kernel_names() -> dict:
    """Every kernel the intra-op pool records as one node (``_parallel.KERNELS``), by
    function: its saved name."""
    from ..ops._kernels import kernels

    return {fn: _KERNEL + name for name, fn in kernels().items()}


@functools.cache
def _kernels_by_name() -> dict:
    return {name: fn for fn, name in _kernel_names().items()}


class FormatError(ValueError):
    """A saved program that cannot be read (names what is wrong)."""


def _prim_registry():
    """Every primitive (``Function`` subclass) defined in a ``chainrule.ops`` module, by
    name."""
    import sys

    from .. import ops  # noqa: F401  (loads the primitive modules)
    from ..autograd.function import Function

    reg = {}
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "chainrule.ops" or mod_name.startswith("chainrule.ops.")):
            continue
        for name, obj in vars(mod).items():
            if isinstance(obj, type) and issubclass(obj, Function) and obj is not Function \
                    and obj.__module__.startswith("chainrule.ops"):
                reg.setdefault(name, obj)
    return reg


class Encoder:
    """Encode nodes and arguments; constant arrays go to ``self.arrays``."""

    def __init__(self):
        self.arrays = {}

    def arg(self, x):
        t = type(x)
        if t is Value:
            return {"v": x.id}
        if x is None or t in (bool, int, str):
            return x
        if t is float:
            return x if math.isfinite(x) else {"float": repr(x)}
        if t is list:
            return [self.arg(i) for i in x]
        if t is tuple:
            return {"tuple": [self.arg(i) for i in x]}
        if t is dict:
            return {"dict": [[self.arg(k), self.arg(v)] for k, v in x.items()]}
        if t is slice:
            return {"slice": [self.arg(x.start), self.arg(x.stop), self.arg(x.step)]}
        if x is Ellipsis:
            return {"ellipsis": 1}
        if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
            return {"dtype": np.dtype(x).name}
        if x in (bool, int, float):
            return {"pytype": x.__name__}
        if isinstance(x, np.generic):
            return {"scalar": [x.dtype.name, repr(x.item())]}
        if isinstance(x, np.ndarray):
            key = f"const.{len(self.arrays)}"
            self.arrays[key] = np.array(x, order="C")  # (0-d stays 0-d)
            return {"array": key}
        if type(x).__name__ in GEOMS and type(x) is GEOMS[type(x).__name__]:
            return {"geom": [type(x).__name__,
                             {s: self.arg(getattr(x, s)) for s in type(x).__slots__}]}
        raise FormatError(f"chainrule.export.save: cannot save an argument of type "
                          f"{type(x).__name__} ({x!r:.60})")

    def node(self, n: Node) -> dict:
        if n.kind == "host":
            raise FormatError(f"chainrule.export.save: a program with an optimizer step "
                              f"({n.op}) cannot be saved; export the model's forward")
        if n.kind == "prim":
            reg = _prim_registry()
            if reg.get(n.fn.__name__) is not n.fn:
                raise FormatError(f"chainrule.export.save: {n.fn.__name__} is not a chainrule "
                                  "primitive (a custom autograd.Function cannot be saved)")
            fn = n.fn.__name__
        elif n.kind == "ufunc":
            fn = n.fn.__name__
        elif n.kind in ("func", "create"):
            kernel = _kernel_names().get(n.fn)
            fn = n.fn.__name__ if kernel is None else kernel
        elif n.kind == "rng":
            fn = n.fn[1]
        else:
            fn = n.fn
        info = {k: self.arg(v) for k, v in n.info.items() if k not in ("bindings",)}
        out = {"kind": n.kind, "fn": fn, "args": self.arg(n.args), "kwargs": self.arg(n.kwargs),
               "outputs": [v.id for v in n.outputs], "mutates": [v.id for v in n.mutates],
               "info": info, "phase": n.phase}
        if n.body is not None:
            out["body"] = [self.node(b) for b in n.body]
        return out


class Decoder:
    """Decode what ``Encoder`` wrote; every name is checked against an allowlist."""

    def __init__(self, values, arrays, where):
        self.values = values
        self.arrays = arrays
        self.where = where

    def fail(self, what):
        raise FormatError(f"chainrule.export.load: {self.where!r}: {what}")

    def val(self, i) -> Value:
        if not isinstance(i, int) or not 0 <= i < len(self.values):
            self.fail(f"value id {i!r} out of range")
        return self.values[i]

    def arg(self, x):
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, list):
            return [self.arg(i) for i in x]
        if not isinstance(x, dict) or len(x) != 1:
            self.fail(f"malformed argument {x!r:.60}")
        (tag, v), = x.items()
        if tag == "v":
            return self.val(v)
        if tag == "tuple":
            return tuple(self.arg(i) for i in v)
        if tag == "dict":
            return {self.arg(k): self.arg(w) for k, w in v}
        if tag == "slice":
            return slice(*(self.arg(i) for i in v))
        if tag == "ellipsis":
            return Ellipsis
        if tag == "float":
            return float(v)
        if tag == "dtype":
            return np.dtype(v)
        if tag == "pytype":
            return {"bool": bool, "int": int, "float": float}[v]
        if tag == "scalar":
            return np.dtype(v[0]).type(float(v[1]) if "." in v[1] or "e" in v[1]
                                       or "n" in v[1] else int(v[1]))
        if tag == "array":
            if v not in self.arrays:
                self.fail(f"constant {v!r} missing from the weights")
            return self.arrays[v]
        if tag == "geom":
            cls = GEOMS.get(v[0])
            if cls is None:
                self.fail(f"unknown shape record {v[0]!r}")
            obj = cls.__new__(cls)
            for slot, val in v[1].items():
                if slot not in cls.__slots__:
                    self.fail(f"{v[0]} has no field {slot!r}")
                setattr(obj, slot, self.arg(val))
            return obj
        self.fail(f"unknown argument tag {tag!r}")

    def node(self, d) -> Node:
        kind, fn = d.get("kind"), d.get("fn")
        if kind == "prim":
            cls = _prim_registry().get(fn)
            if cls is None:
                self.fail(f"unknown primitive {fn!r}")
            fn = cls
        elif kind == "ufunc":
            fn = getattr(np, fn, None)
            if not isinstance(fn, np.ufunc):
                self.fail(f"{d.get('fn')!r} is not a NumPy ufunc")
        elif kind == "func" and isinstance(fn, str) and fn.startswith(_KERNEL):
            kernel = _kernels_by_name().get(fn)
            if kernel is None:
                self.fail(f"unknown chainrule kernel {fn!r}")
            fn = kernel
        elif kind in ("func", "create"):
            if fn not in FUNCTIONS:
                self.fail(f"NumPy function {fn!r} is not allowed in a saved program")
            fn = ORIGINALS.get(fn, getattr(np, fn))
        elif kind == "method":
            if fn not in METHODS:
                self.fail(f"array method {fn!r} is not allowed in a saved program")
        elif kind == "rng":
            from ..random import default_generator

            if fn not in ("random", "standard_normal", "integers", "permutation"):
                self.fail(f"unknown random draw {fn!r}")
            fn = (default_generator, fn)
        elif kind not in ("view", "guard"):
            self.fail(f"unknown node kind {kind!r}")
        body = [self.node(b) for b in d["body"]] if "body" in d else None
        n = Node(kind, fn, self.arg(d["args"]), self.arg(d["kwargs"]),
                 [self.val(i) for i in d["outputs"]], [self.val(i) for i in d["mutates"]],
                 body=body, info={k: self.arg(v) for k, v in d["info"].items()},
                 phase=d["phase"])
        for v in n.outputs:
            if v.node is None:
                v.node = n
        return n
