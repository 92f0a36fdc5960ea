"""The part of the tracer that knows which ``Value`` each array and tensor of the call is
(see capture.py): registering arrays and tensors, their views and ancestors, and the values
a primitive's results become."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor
from . import trace
from .program import Node, Value
from .trace import Traced
from .record import _METADATA
from .units import DEAD

_ND = np.ndarray
_asarray = trace.ORIGINALS["asarray"]


class TrackedValues:
    """Mixed into ``capture.Tracer``: its table of values (``self.values``, ``_vals``, ...,
    set up by ``Tracer.__init__``)."""

    def new_value(self, obj, kind, node=None, base=None, data=None, name=None) -> Value:
        v = Value(len(self.values), obj.shape, obj.dtype, kind, name, node, base, data)
        self.values.append(v)
        self._vals[id(obj)] = v
        self._objs[id(obj)] = obj
        self._obj_of[v.id] = obj
        return v

    def alias(self, x, v: Value) -> None:
        """Register array object ``x`` as another name of value ``v`` (same memory)."""
        self._vals[id(x)] = v
        self._objs[id(x)] = x

    def lookup(self, x):
        v = self._vals.get(id(x))
        return v if v is not None and self._objs[id(x)] is x else None

    def array_of(self, v: Value):
        return self._obj_of[v.id]

    def ancestor(self, x, below=None):
        """The nearest registered array whose memory ``x`` views (None if it owns it)."""
        b = getattr(x, "base", None)
        while b is not None:
            v = self.lookup(b)
            if v is not None and (below is None or v.id < below) and v.node is not DEAD:
                return v
            b = getattr(b, "base", None)
        return None

    def _own(self, arr, kind, name, data=None):
        """A Traced view of ``arr`` registered as a new value. It wraps an ``as_strided``
        copy of the header, whose base is not an ndarray, so NumPy's views of it name it as
        their base (views of ``arr`` itself would name arr's owner: a whole dataset)."""
        rec, self.recording = self.recording, False
        own = as_strided(arr)
        self.recording = rec
        obj = _ND.view(own, Traced)
        v = self.new_value(obj, kind, data=data, name=name)
        self.alias(own, v)
        return obj, v

    def track(self, t: Tensor, kind: str, name: str, path=None) -> Value:
        """Give tensor ``t`` a Traced view of its array for the call (restored by finish)."""
        arr = t._data
        v = self.lookup(arr)
        if v is not None:
            return v
        obj = self._orig.get(id(arr))
        if obj is None:
            obj, v = self._own(arr, kind, name, t if path is None else path)
            self._orig[id(arr)] = obj
        else:
            v = self.lookup(obj)
        t._data = obj
        self._swaps.append((t, arr, obj))
        return v

    def leaf(self, t: Tensor) -> None:
        """``t`` is a leaf whose ``.grad`` the call may set: remember whether it had one
        (a guard) and give its gradient a value (read live at replay)."""
        if id(t) in self._leaf_ids:
            return
        self._leaf_ids.add(id(t))
        self.leaves.append(t)
        self.was_none.append((t, t.grad is None))
        if t.grad is not None:
            self.grads[id(t)] = (t, self.track(t.grad, "grad", "grad", path=t))

    def discover(self, t: Tensor) -> None:
        """A leaf that requires grad seen first as a primitive's argument (reached through
        a closure the roots did not show): tracked like a root tensor."""
        h = t._hooks
        if h is not None and (h.pre or h.post):
            self.stop(f"a tensor of shape {tuple(t.shape)} has gradient hooks")
        if self.lookup(t._data) is None or self.lookup(t._data).kind == "const":
            self.track(t, "tensor", f"tensor{len(self.leaves)}")
        self.leaf(t)

    def track_array(self, arr, name) -> Value:
        """A NumPy array argument as an input value (``substitute_arrays`` hands the traced
        code a Traced view of it)."""
        v = self.lookup(arr)
        if v is None:
            obj, v = self._own(arr, "input", name)
            self.alias(arr, v)
            self._arg_views[id(arr)] = obj
        return v

    def substitute_arrays(self, x, depth=0):
        """``x`` (the call's arguments) with NumPy arrays replaced by their Traced views."""
        if isinstance(x, _ND) and id(x) in self._arg_views:
            return self._arg_views[id(x)]
        if depth < 3 and type(x) in (tuple, list):
            return type(x)(self.substitute_arrays(i, depth + 1) for i in x)
        if depth < 3 and type(x) is dict:
            return {k: self.substitute_arrays(v, depth + 1) for k, v in x.items()}
        return x

    def ref(self, x):
        """``x`` with arrays replaced by their values (nested containers walked)."""
        t = type(x)
        if t is Traced or isinstance(x, _ND):
            return self.value_of(x)
        if t is tuple:
            return tuple([self.ref(i) for i in x])
        if t is list:
            return [self.ref(i) for i in x]
        if t is dict:
            return {k: self.ref(v) for k, v in x.items()}
        if t is slice:
            return slice(self.ref(x.start), self.ref(x.stop), self.ref(x.step))
        if isinstance(x, Tensor):
            return self.value_of(x._data)
        return x

    def value_of(self, x) -> Value:
        v = self.lookup(x)
        if v is not None:
            return v
        anc = self.ancestor(x)
        if anc is not None:
            return self._view(x, anc)
        data = _ND.view(x, _ND) if type(x) is Traced else x
        return self.new_value(x, "const", data=data)

    def _view(self, x, anc: Value) -> Value:
        a = self.array_of(anc)
        offset = x.__array_interface__["data"][0] - a.__array_interface__["data"][0]
        if offset == 0 and x.shape == a.shape and x.strides == a.strides and x.dtype == a.dtype:
            self.alias(x, anc)  # the same array seen through another object
            return anc
        info = {"shape": x.shape, "strides": x.strides, "offset": offset, "dtype": x.dtype}
        node = Node("view", None, (anc,), info=info, phase=self.phase())
        v = self.new_value(x, "temp", node=node, base=anc)
        node.outputs = (v,)
        self.nodes.append(node)
        return v

    def produce(self, res, node):
        """Register a NumPy result made by ``node``: return (object to hand back, values)."""
        if isinstance(res, _ND):
            v = self.lookup(res)
            if v is not None:
                return res, (v,)
            obj = res if type(res) is Traced else _ND.view(res, Traced)
            base = self.ancestor(res)
            v = self.new_value(obj, "temp", node=node, base=base)
            if obj is not res:
                self.alias(res, v)  # views of obj name res as their base
            return obj, (v,)
        if isinstance(res, np.generic):
            return self.produce(_asarray(res), node)
        if isinstance(res, (tuple, list)):
            objs, vals = [], []
            for r in res:
                o, vs = self.produce(r, node)
                objs.append(o)
                vals.extend(vs)
            return (tuple(objs) if isinstance(res, tuple) else objs), tuple(vals)
        if res is None:
            return None, ()
        if node.kind == "func" and node.fn in _METADATA:
            return res, ()  # shapes and dtypes: not the data
        fn = getattr(node.fn, "__name__", node.fn)
        self.on_read(f"np.{fn} returning a Python {type(res).__name__}")
        return res, ()

