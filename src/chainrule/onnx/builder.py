"""Building an ONNX graph from a recorded program: names, initializers, nodes, constants.

The translator (export.py) walks the program's top-level nodes. Values whose content is
known without the inputs (constants, parameters when folding, and everything computed
only from those) are kept as NumPy arrays in ``known`` and become initializers only when
an ONNX node needs them; every other node is translated by its row in ops.py.
"""

from __future__ import annotations

import numpy as np

from ..compiler.program import Value

_INT_MAX = 2**62


class Builder:
    def __init__(self, onnx, opset: int, twin, twin_nodes):
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset = opset
        self.twin = twin  # Value -> the same value in the program recorded at other sizes
        self.twin_nodes = twin_nodes  # Node -> the same node in that program
        self.sizes = []  # (graph input name, axis, size, size in the other recording)
        self.nodes = []
        self.inits = {}
        self.names = {}  # Value -> ONNX name
        self.known = {}  # Value -> array (a constant)
        self._n = 0

    # -- names -------------------------------------------------------------------------
    def fresh(self, hint="t") -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, arr, hint="const") -> str:
        arr = np.asarray(arr)
        name = self.fresh(hint)
        self.inits[name] = self.helper.make_tensor(
            name, self.helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape,
            arr.tobytes(), raw=True) if arr.size else self.helper.make_tensor(
            name, self.helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape, [])
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), np.int64), "ints")

    def name(self, v: Value) -> str:
        n = self.names.get(v)
        if n is not None:
            return n
        if v in self.known:
            if self.dynamic(v):
                from .errors import UnsupportedOperatorError

                raise UnsupportedOperatorError(f"a constant of shape {v.shape} ({v.name}) depends on the "
                                "dynamic axes (an array made in the forward from a dynamic "
                                "size)")
            n = self.const(self.known[v], v.name.replace(".", "_"))
            self.names[v] = n
            return n
        raise KeyError(v)

    def inp(self, x, like: Value | None = None) -> str:
        """The ONNX name of an argument: a value, or a constant (Python scalars take the
        dtype of ``like``, as NumPy's weak scalars do)."""
        if type(x) is Value:
            return self.name(x)
        if isinstance(x, (bool, int, float)) and like is not None and not isinstance(x, bool):
            return self.const(np.asarray(x, like.dtype))
        return self.const(np.asarray(x))

    def op(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs,
                                                name=self.fresh(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def set(self, v: Value, name: str) -> None:
        self.names[v] = name

    # -- shapes with dynamic dimensions ----------------------------------------------------
    def dynamic(self, v: Value) -> set:
        """Axes of ``v`` whose size depends on a dynamic input axis."""
        t = self.twin.get(v) if self.twin else None
        if t is None:
            return set()
        return {i for i, (a, b) in enumerate(zip(v.shape, t.shape)) if a != b}

    def dim(self, a: int, b: int, what: str) -> str:
        """A 1-element int64 tensor: the size ``a`` (``b`` in the other recording) computed
        from a dynamic input size it is proportional to."""
        for name, axis, sa, sb in self.sizes:
            if a * sb != b * sa:
                continue
            size = self.op("Shape", [name], start=axis, end=axis + 1)
            if a % sa == 0:
                return size if a == sa else self.op("Mul", [size, self.ints([a // sa])])
            if sa % a == 0:
                return self.op("Div", [size, self.ints([sa // a])])
        from .errors import UnsupportedOperatorError

        raise UnsupportedOperatorError(f"{what}: a size ({a}, then {b}) that is not "
                                       "proportional to a dynamic input size")

    def axes(self, data: str, axes, keepdims: int, op_type: str, noop_empty=False):
        """A reduction with ``axes`` given as an input (opset >= 18, or ReduceSum >= 13) or as
        an attribute (older)."""
        as_input = op_type == "ReduceSum" or self.opset >= 18
        if axes is None:
            return self.op(op_type, [data], keepdims=keepdims)
        if as_input:
            return self.op(op_type, [data, self.ints(axes)], keepdims=keepdims)
        return self.op(op_type, [data], keepdims=keepdims, axes=list(axes))

    def slice(self, data, starts, ends, axes, steps=None):
        ins = [data, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None:
            ins.append(self.ints(steps))
        return self.op("Slice", ins)


INT_MAX = _INT_MAX
