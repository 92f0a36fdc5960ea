"""The part of the tracer that records NumPy calls (see capture.py and trace.py).

``Traced`` arrays report each operation here: a ufunc, an array function, an array method
or a constructor becomes one node whose arguments are values and constants. Results are
registered as new values (views get a ``base``); writes into arrays (``out=``,
``np.copyto``, ``a[i] = v``) are recorded as the node's ``mutates``.
"""

from __future__ import annotations

import numpy as np

from . import trace
from .program import Node, leaves
from .trace import Traced

_ND = np.ndarray

# NumPy functions that write into an argument (its position), besides ``out=``
_MUTATING = {np.copyto: 0, np.put_along_axis: 0, np.put: 0, np.place: 0, np.putmask: 0,
             np.fill_diagonal: 0}
_MUTATING_METHODS = ("__setitem__", "fill", "sort", "put")
# NumPy reductions that are one ufunc.reduce call on an array (NumPy's own definition)
_REDUCTIONS = {np.sum: (np.add, None), np.max: (np.maximum, None), np.amax: (np.maximum, None),
               np.min: (np.minimum, None), np.amin: (np.minimum, None),
               np.prod: (np.multiply, None), np.any: (np.logical_or, bool),
               np.all: (np.logical_and, bool)}
# x_like(a) makes an array from a's shape and dtype only (a C-ordered one: same layout)
_LIKE = {"zeros_like": ("zeros", None), "ones_like": ("ones", None),
         "empty_like": ("empty", None), "full_like": ("full", 1)}
# NumPy functions whose Python result depends on shapes and dtypes only
_METADATA = frozenset((np.ndim, np.shape, np.size, np.result_type, np.can_cast,
                       np.may_share_memory, np.shares_memory, np.iscomplexobj, np.isrealobj,
                       np.min_scalar_type))

class NumpyRecorder:
    """Mixed into ``capture.Tracer``: the ``on_*`` methods ``trace.py`` calls."""

    def _mutate(self, node, vals):
        for v in vals:
            if v.root().kind != "temp":
                self.effects = True  # written: a parameter, buffer, input or gradient
            if v.root().kind == "const":
                self.stop("the call writes into an array the compiler does not track "
                          f"({node.op} on an array of shape {v.shape})")
        node.mutates = tuple(vals)

    def on_ufunc(self, ufunc, method, inputs, kwargs, res):
        node = Node("ufunc", ufunc, self.ref(inputs), self.ref(kwargs),
                    info={"method": method}, phase=self.phase())
        out = kwargs.get("out")
        if method == "at":
            self._mutate(node, (node.args[0],))
            self.nodes.append(node)
            return res
        if out is not None:
            self._mutate(node, node.kwargs["out"])
            self.nodes.append(node)
            return trace._out_objects(out)
        objs, node.outputs = self.produce(res, node)
        self.nodes.append(node)
        return objs

    def on_function(self, func, args, kwargs, res):
        red = _REDUCTIONS.get(func)
        if red is not None and len(args) == 1 and isinstance(args[0], _ND) \
                and set(kwargs) <= {"axis", "keepdims", "dtype"}:
            # np.sum(a, ...) is np.add.reduce(a, ...) for an array: record the ufunc (the
            # replay can give it out=, and skips NumPy's Python wrapper)
            kw = {"axis": kwargs.get("axis"), "dtype": kwargs.get("dtype") or red[1],
                  "keepdims": kwargs.get("keepdims", False)}
            return self.on_ufunc(red[0], "reduce", args, kw, res)
        node = Node("func", func, self.ref(args), self.ref(kwargs), phase=self.phase())
        pos = _MUTATING.get(func)
        if pos is not None or "out" in kwargs:
            target = node.kwargs["out"] if "out" in kwargs else (node.args[pos],)
            self._mutate(node, target if isinstance(target, tuple) else (target,))
            self.nodes.append(node)
            return kwargs["out"] if "out" in kwargs else res
        if func in _METADATA:
            return res  # shapes and dtypes, not data: nothing to replay
        objs, node.outputs = self.produce(res, node)
        self.nodes.append(node)
        return objs

    def on_method(self, name, arr, args, kwargs, res):
        node = Node("method", name, (self.value_of(arr),) + self.ref(args), self.ref(kwargs),
                    phase=self.phase())
        if name in _MUTATING_METHODS:
            self._mutate(node, (node.args[0],))
            self.nodes.append(node)
            return res
        objs, node.outputs = self.produce(res, node)
        self.nodes.append(node)
        return objs

    def on_create(self, orig, name, args, kwargs, res):
        a, k = self.ref(args), self.ref(kwargs)
        ins = leaves((a, k))
        anc = self.ancestor(res) if isinstance(res, _ND) else None
        if anc is not None and anc not in ins:
            # memory reached through an object's __array_interface__ (as_strided does
            # this): record the view's geometry, not the object (it points at this run's
            # arrays)
            v = self._view(res, anc)
            obj = _ND.view(res, Traced)
            self.alias(obj, v)
            return obj
        like = _LIKE.get(name)
        if like is not None and isinstance(res, _ND) and res.flags.c_contiguous \
                and isinstance(args[0], _ND) and not (set(kwargs) - {"dtype"}):
            fill = () if like[1] is None else (args[like[1]] if len(args) > 1
                                                else kwargs.get("fill_value"),)
            orig = trace.ORIGINALS[like[0]]
            name, a, k, ins = like[0], (res.shape, *fill), {"dtype": res.dtype}, []
        kind = "func" if ins else "create"
        node = Node(kind, orig, a, k, phase=self.phase(), info={"name": name})
        objs, node.outputs = self.produce(res, node)
        self.nodes.append(node)
        return objs

    def on_rng(self, gen, method, args, res):
        self.effects = True  # the generator's state moved on
        node = Node("rng", (gen, method), self.ref(args), phase=self.phase())
        objs, node.outputs = self.produce(res, node)
        self.nodes.append(node)
        return objs

