"""ONNX rows for the NumPy-level nodes between primitives (masks, comparisons, casts,
indexing, copies). Keys: ``ufunc:<name>``, ``ufunc:<name>.reduce``, ``func:<name>``,
``method:<name>``. Nodes computed from constants only never get here (they are folded)."""

from __future__ import annotations

import numpy as np

from ..compiler.program import Value
from .errors import UnsupportedOperatorError
from .ops import _binary, _unary, index


def _bool_binary(op_type):
    return lambda b, n: [b.op(op_type, [b.inp(n.args[0]), b.inp(n.args[1])])]


def _compare(op_type):
    def conv(b, n):
        x, y = n.args[0], n.args[1]
        like = x if type(x) is Value else y
        return [b.op(op_type, [b.inp(x, like), b.inp(y, like)])]

    return conv


def _not_equal(b, n):
    return [b.op("Not", [_compare("Equal")(b, n)[0]])]


def _square(b, n):
    x = b.inp(n.args[0])
    return [b.op("Mul", [x, x])]


def _reciprocal(b, n):
    return [b.op("Reciprocal", [b.inp(n.args[0])])]


def _reduce(op_type):
    def conv(b, n):
        x = n.args[0]
        axis = n.kwargs.get("axis", n.args[1] if len(n.args) > 1 else None)
        if isinstance(axis, int):
            axis = (axis,)
        keep = int(bool(n.kwargs.get("keepdims", False)))
        return [b.axes(b.inp(x), axis, keep, op_type)]

    return conv


def _astype(b, n):
    to = b.helper.np_dtype_to_tensor_dtype(np.dtype(n.args[1]))
    return [b.op("Cast", [b.inp(n.args[0])], to=to)]


def _identity(b, n):
    return [b.op("Identity", [b.inp(n.args[0])])]


def _where(b, n):
    cond, x, y = n.args
    like = n.outputs[0]
    return [b.op("Where", [b.inp(cond), b.inp(x, like), b.inp(y, like)])]


def _reshape(b, n):
    from .ops import shape_input

    def shape_of(node):
        shape = node.args[1:] if len(node.args) > 2 else node.args[1]
        return (shape,) if isinstance(shape, int) else tuple(shape)

    return [b.op("Reshape", [b.inp(n.args[0]), shape_input(b, n, shape_of, -1)])]


def _view(b, n):
    if len(n.args) > 1 and isinstance(n.args[1], np.dtype) and n.args[1] != n.args[0].dtype:
        raise UnsupportedOperatorError(f"reinterpreting an array's bytes as {n.args[1]} (.view)")
    return _identity(b, n)


def _transpose(b, n):
    x = n.args[0]
    perm = n.args[1:] if len(n.args) > 1 else n.kwargs.get("axes")
    if perm and isinstance(perm[0], (tuple, list)):
        perm = perm[0]
    perm = list(perm) if perm else list(range(len(x.shape)))[::-1]
    return [b.op("Transpose", [b.inp(x)], perm=[int(p) % len(x.shape) for p in perm])]


def _swapaxes(b, n):
    x, a1, a2 = n.args[0], n.args[1], n.args[2]
    perm = list(range(len(x.shape)))
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return [b.op("Transpose", [b.inp(x)], perm=perm)]


def _getitem(b, n):
    return [index(b, b.inp(n.args[0]), n.args[0], n.args[1])]


def _broadcast_to(b, n):
    from .ops import shape_input

    return [b.op("Expand", [b.inp(n.args[0]), shape_input(b, n, lambda m: m.args[1], 1)])]


def _concatenate(b, n):
    xs = n.args[0]
    axis = n.kwargs.get("axis", n.args[1] if len(n.args) > 1 else 0)
    return [b.op("Concat", [b.inp(x) for x in xs], axis=int(axis))]


NUMPY = {
    "ufunc:add": _binary("Add"), "ufunc:subtract": _binary("Sub"),
    "ufunc:multiply": _binary("Mul"), "ufunc:divide": _binary("Div"),
    "ufunc:true_divide": _binary("Div"), "ufunc:power": _binary("Pow"),
    "ufunc:maximum": _binary("Max"), "ufunc:minimum": _binary("Min"),
    "ufunc:negative": _unary("Neg"), "ufunc:exp": _unary("Exp"), "ufunc:log": _unary("Log"),
    "ufunc:sqrt": _unary("Sqrt"), "ufunc:tanh": _unary("Tanh"), "ufunc:absolute": _unary("Abs"),
    "ufunc:floor": _unary("Floor"), "ufunc:ceil": _unary("Ceil"), "ufunc:sign": _unary("Sign"),
    "ufunc:square": _square, "ufunc:reciprocal": _reciprocal,
    "ufunc:greater": _compare("Greater"), "ufunc:greater_equal": _compare("GreaterOrEqual"),
    "ufunc:less": _compare("Less"), "ufunc:less_equal": _compare("LessOrEqual"),
    "ufunc:equal": _compare("Equal"), "ufunc:not_equal": _not_equal,
    "ufunc:logical_and": _bool_binary("And"), "ufunc:bitwise_and": _bool_binary("And"),
    "ufunc:logical_or": _bool_binary("Or"), "ufunc:bitwise_or": _bool_binary("Or"),
    "ufunc:logical_not": _unary("Not"), "ufunc:invert": _unary("Not"),
    "ufunc:add.reduce": _reduce("ReduceSum"), "ufunc:maximum.reduce": _reduce("ReduceMax"),
    "ufunc:minimum.reduce": _reduce("ReduceMin"),
    "func:where": _where, "func:broadcast_to": _broadcast_to, "func:concatenate": _concatenate,
    "func:copy": _identity, "func:array": _identity, "func:asarray": _identity,
    "func:ascontiguousarray": _identity, "func:transpose": _transpose,
    "func:swapaxes": _swapaxes,
    "method:astype": _astype, "method:copy": _identity, "method:reshape": _reshape,
    "method:transpose": _transpose, "method:swapaxes": _swapaxes,
    "method:__getitem__": _getitem, "method:view": _view,
}
