"""One row per chainrule primitive: how it is written in ONNX (opset 17 or later).

Each converter gets the builder ``b``, the program node ``n`` (arguments are program
values or constants) and returns the ONNX names of the node's outputs in order. Shapes
that contain a dynamic axis (``dynamic_axes``) are read from the program recorded at a
second size: a reshape target's dynamic entry becomes -1, an expand target's becomes 1.
Primitives that only appear in backward passes or losses have no row: exporting a model
that uses them fails naming the primitive. NumPy-level nodes between primitives (masks,
casts, indexing) have rows in ``NUMPY``.
"""

from __future__ import annotations

import numpy as np

from ..compiler.program import Value
from .builder import INT_MAX
from .errors import UnsupportedOperatorError
from .rnn import rnn_layer


def _binary(op_type):
    def conv(b, n):
        x, y = n.args[0], n.args[1]
        like = n.outputs[0] if n.outputs[0].dtype.kind == "f" else (
            x if type(x) is Value else y)
        return [b.op(op_type, [b.inp(x, like), b.inp(y, like)])]

    return conv


def _unary(op_type):
    return lambda b, n: [b.op(op_type, [b.inp(n.args[0])])]


def _expm1(b, n):
    x = b.inp(n.args[0])
    return [b.op("Sub", [b.op("Exp", [x]), b.inp(1.0, n.outputs[0])])]


def _log1p(b, n):
    x = b.inp(n.args[0])
    return [b.op("Log", [b.op("Add", [x, b.inp(1.0, n.outputs[0])])])]


def _pow(b, n):
    x, y = n.args
    if isinstance(y, (int, float)) and y == 2:
        xn = b.inp(x)
        return [b.op("Mul", [xn, xn])]
    return [b.op("Pow", [b.inp(x), b.inp(y, n.outputs[0])])]


def _clamp(b, n):
    x, lo, hi = n.args
    like = n.outputs[0]
    return [b.op("Clip", [b.inp(x), "" if lo is None else b.inp(lo, like),
                          "" if hi is None else b.inp(hi, like)])]


def _where(b, n):
    cond, x, y = n.args
    like = n.outputs[0]
    return [b.op("Where", [b.inp(cond), b.inp(x, like), b.inp(y, like)])]


def _cast(b, n):
    to = b.helper.np_dtype_to_tensor_dtype(np.dtype(n.args[1]))
    return [b.op("Cast", [b.inp(n.args[0])], to=to)]


def _zero_grad(b, n):
    x, fn = n.args
    name = getattr(fn, "__name__", "")
    simple = {"floor": "Floor", "ceil": "Ceil", "sign": "Sign", "rint": "Round",
              "round": "Round"}
    if name in simple:
        return [b.op(simple[name], [b.inp(x)])]
    if name == "_heaviside":  # H(x): 0 below 0, 1/2 at 0, 1 above
        xn, like = b.inp(x), n.outputs[0]
        half = b.op("Where", [b.op("Less", [xn, b.inp(0.0, like)]), b.inp(0.0, like),
                              b.inp(0.5, like)])
        return [b.op("Where", [b.op("Greater", [xn, b.inp(0.0, like)]), b.inp(1.0, like),
                               half])]
    raise UnsupportedOperatorError(f"ZeroGrad with {name or fn!r}")


def _reduce(op_type):
    def conv(b, n):
        x, axis, keepdim = n.args
        return [b.axes(b.inp(x), axis, int(bool(keepdim)), op_type)]

    return conv


def _reduce_mean(b, n):
    x, axis, keepdim, _ = n.args  # (ReduceMean counts the elements itself: any batch size)
    return [b.axes(b.inp(x), axis, int(bool(keepdim)), "ReduceMean")]


def _softmax(op_type):
    return lambda b, n: [b.op(op_type, [b.inp(n.args[0])], axis=int(n.args[1]))]


def shape_input(b, n, shape_of, fill):
    """The ONNX shape input for a shape argument ``shape_of(n)``. Entries that differ in
    the program recorded at other sizes are dynamic: in an expand target they become 1
    (ONNX broadcasts); in a reshape target they become 0 (the input's size on that axis)
    or -1 where that is unambiguous, else they are computed from the graph input's
    dynamic size (``Shape``, times or divided by the recorded ratio)."""
    shape = [int(s) for s in shape_of(n)]
    t = b.twin_nodes.get(n) if b.twin_nodes else None
    if t is None:
        return b.ints(shape)
    other = [int(s) for s in shape_of(t)]
    dyn = [i for i, (p, q) in enumerate(zip(shape, other)) if p != q]
    if fill == 1:
        return b.ints([1 if i in dyn else s for i, s in enumerate(shape)])
    x = n.args[0]
    same = b.dynamic(x)  # a reshape keeping an input axis in place: 0 copies its size
    for i in dyn:
        if i in same and x.shape[i] == shape[i]:
            shape[i] = 0
    rest = [i for i in dyn if shape[i] != 0]
    if not rest:
        return b.ints(shape)
    if len(rest) == 1 and -1 not in shape:
        shape[rest[0]] = -1
        return b.ints(shape)
    parts = [b.dim(shape[i], other[i], n.op) if i in rest else b.ints([s])
             for i, s in enumerate(shape)]
    return b.op("Concat", parts, axis=0)


def _reshape(b, n):
    return [b.op("Reshape", [b.inp(n.args[0]), shape_input(b, n, lambda m: m.args[1], -1)])]


def _expand(b, n):
    return [b.op("Expand", [b.inp(n.args[0]), shape_input(b, n, lambda m: m.args[1], 1)])]


def _permute(b, n):
    return [b.op("Transpose", [b.inp(n.args[0])], perm=[int(d) for d in n.args[1]])]


def _flip(b, n):
    dims = list(n.args[1])
    return [b.slice(b.inp(n.args[0]), [-1] * len(dims), [-INT_MAX] * len(dims), dims,
                    [-1] * len(dims))]


def _cat(b, n):
    return [b.op("Concat", [b.inp(x) for x in n.args[1:]], axis=int(n.args[0]))]


def index(b, data: str, x: Value, idx):
    """``x[idx]`` for basic indices (ints, slices, None, ...) and one integer array."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    if Ellipsis in idx:
        k = idx.index(Ellipsis)
        used = sum(1 for i in idx if i is not None and i is not Ellipsis)
        idx = idx[:k] + (slice(None),) * (len(x.shape) - used) + idx[k + 1:]
    axis, out_axis, unsq = 0, 0, []
    starts, ends, axes, steps, gathers = [], [], [], [], []
    for i in idx:
        if i is None:
            unsq.append(out_axis)
            out_axis += 1
            continue
        if isinstance(i, slice):
            st, en, sp = i.indices(x.shape[axis])
            if (st, en, sp) != (0, x.shape[axis], 1) or axis in b.dynamic(x):
                if axis in b.dynamic(x) and i != slice(None):
                    raise UnsupportedOperatorError(f"indexing a dynamic axis with {i}")
                if axis not in b.dynamic(x):
                    starts.append(st)
                    ends.append(en if en >= 0 or sp > 0 else -INT_MAX)
                    axes.append(axis)
                    steps.append(sp)
            axis += 1
            out_axis += 1
        elif isinstance(i, (int, np.integer)) or (type(i) is Value and i.shape == ()):
            gathers.append((axis, i))
            axis += 1
        elif type(i) is Value or isinstance(i, np.ndarray):
            gathers.append((axis, i))
            axis += 1
            out_axis += len(i.shape)
        else:
            raise UnsupportedOperatorError(f"indexing with {type(i).__name__}")
    out = data
    if axes:
        out = b.slice(out, starts, ends, axes, steps)
    for ax, i in reversed(gathers):
        ind = b.inp(i) if type(i) is Value else b.const(np.asarray(i, np.int64))
        out = b.op("Gather", [out, ind], axis=ax)
    if len([g for g in gathers if not isinstance(g[1], (int, np.integer))]) > 1:
        raise UnsupportedOperatorError("indexing with several index arrays")
    if unsq:
        out = b.op("Unsqueeze", [out, b.ints(unsq)])
    return out


def _getitem(b, n):
    return [index(b, b.inp(n.args[0]), n.args[0], n.args[1])]


def _lstm_cell_act(b, n):
    """[o * tanh(c'), c'] with c' = f * c + i * g from the gates [i, f, g, o] (LSTMCellAct)."""
    a, c = n.args
    h = a.shape[-1] // 4
    an = b.inp(a)
    i, f, g, o = (b.op(op, [index(b, an, a, (Ellipsis, slice(k * h, (k + 1) * h)))])
                  for k, op in enumerate(("Sigmoid", "Sigmoid", "Tanh", "Sigmoid")))
    c2 = b.op("Add", [b.op("Mul", [f, b.inp(c, n.outputs[0])]), b.op("Mul", [i, g])])
    return [b.op("Concat", [b.op("Mul", [o, b.op("Tanh", [c2])]), c2], axis=-1)]


def _gru_cell_act(b, n):
    """n + z * (h - n) with r, z = sigmoid(gi + gh), n = tanh(gi_n + r * gh_n) (GRUCellAct)."""
    gi, gh, h = n.args
    k = gi.shape[-1] // 3
    gin, ghn = b.inp(gi), b.inp(gh)

    def part(name, v, j):
        return index(b, name, v, (Ellipsis, slice(j * k, (j + 1) * k)))

    r, z = (b.op("Sigmoid", [b.op("Add", [part(gin, gi, j), part(ghn, gh, j)])]) for j in (0, 1))
    new = b.op("Tanh", [b.op("Add", [part(gin, gi, 2), b.op("Mul", [r, part(ghn, gh, 2)])])])
    return [b.op("Add", [new, b.op("Mul", [z, b.op("Sub", [b.inp(h, n.outputs[0]), new])])])]


def _gather(b, n):
    x, dim, ind = n.args
    return [b.op("GatherElements", [b.inp(x), b.inp(ind)], axis=int(dim))]


def _matmul(b, n):
    x, y = n.args[0], n.args[1]
    tx, ty = (list(n.args[2:]) + [False, False])[:2]
    xn, yn = b.inp(x), b.inp(y)
    if tx:
        xn = b.op("Transpose", [xn], perm=_swap_last(len(x.shape)))
    if ty:
        yn = b.op("Transpose", [yn], perm=_swap_last(len(y.shape)))
    return [b.op("MatMul", [xn, yn])]


def _swap_last(nd):
    perm = list(range(nd))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return perm


def _linear(b, n):
    x, w, bias = n.args
    if w in b.known:  # the weight is constant: store W^T, one MatMul
        wt = b.const(np.ascontiguousarray(b.known[w].T), w.name.replace(".", "_") + "_T")
    else:
        wt = b.op("Transpose", [b.inp(w)], perm=[1, 0])
    if len(x.shape) == 2 and bias is not None:
        return [b.op("Gemm", [b.inp(x), wt, b.inp(bias)])]
    out = b.op("MatMul", [b.inp(x), wt])
    return [out if bias is None else b.op("Add", [out, b.inp(bias)])]


def _conv(b, n):
    x, w, bias, g = n.args
    (pt, pb), (pl, pr) = g.pad
    ins = [b.inp(x), b.inp(w)] + ([b.inp(bias)] if bias is not None else [])
    return [b.op("Conv", ins, kernel_shape=list(g.k_hw), strides=list(g.stride),
                 pads=[pt, pl, pb, pr], dilations=list(g.dil), group=int(g.groups))]


def _pool_attrs(g):
    (ph, pw) = g.pad
    floor = [(n + 2 * p - d * (k - 1) - 1) // s + 1
             for n, p, d, k, s in zip(g.x_hw, g.pad, g.dil, g.k_hw, g.stride)]
    return dict(kernel_shape=list(g.k_hw), strides=list(g.stride), pads=[ph, pw, ph, pw],
                ceil_mode=int(tuple(floor) != tuple(g.out_hw)))


def _maxpool(b, n):
    x, g, ret = n.args
    if ret:
        raise UnsupportedOperatorError("MaxPool2d with return_indices=True")
    return [b.op("MaxPool", [b.inp(x)], dilations=list(g.dil), **_pool_attrs(g))]


def _window_gather(b, n):
    x, arg, g = n.args
    if arg is not None or tuple(g.dil) != (1, 1):
        raise UnsupportedOperatorError("WindowGather with offsets (a max-pooling tangent)")
    avg = b.op("AveragePool", [b.inp(x)], count_include_pad=1, **_pool_attrs(g))
    area = float(g.k_hw[0] * g.k_hw[1])
    return [b.op("Mul", [avg, b.inp(area, n.outputs[0])])]


def _pad(b, n):
    x, pads, value = n.args
    onnx_pads = [int(p[0]) for p in pads] + [int(p[1]) for p in pads]
    return [b.op("Pad", [b.inp(x), b.ints(onnx_pads), b.inp(value, n.outputs[0])],
                 mode="constant")]


PRIMITIVES = {
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"),
    "Div": _binary("Div"), "Maximum": _binary("Max"), "Minimum": _binary("Min"),
    "Pow": _pow, "Neg": _unary("Neg"), "Exp": _unary("Exp"), "Log": _unary("Log"),
    "Sqrt": _unary("Sqrt"), "Sin": _unary("Sin"), "Cos": _unary("Cos"),
    "Tan": _unary("Tan"), "Tanh": _unary("Tanh"), "Sigmoid": _unary("Sigmoid"),
    "Relu": _unary("Relu"), "Abs": _unary("Abs"), "Erf": _unary("Erf"),
    "Expm1": _expm1, "Log1p": _log1p, "Where": _where, "Clamp": _clamp, "Cast": _cast,
    "ZeroGrad": _zero_grad,
    "Sum": _reduce("ReduceSum"), "Mean": _reduce_mean, "Amax": _reduce("ReduceMax"), "Amin": _reduce("ReduceMin"),
    "Prod": _reduce("ReduceProd"), "LogSumExp": _reduce("ReduceLogSumExp"),
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Cumsum": lambda b, n: [b.op("CumSum", [b.inp(n.args[0]), b.inp(np.int64(n.args[1]))])],
    "Reshape": _reshape, "Permute": _permute, "Expand": _expand, "Flip": _flip,
    "Cat": _cat, "Getitem": _getitem, "Gather": _gather, "LSTMCellAct": _lstm_cell_act,
    "GRUCellAct": _gru_cell_act,
    "MatMul": _matmul, "Linear": _linear, "Conv2d": _conv, "MaxPool2d": _maxpool,
    "WindowGather": _window_gather, "Pad": _pad, "RNNLayer": rnn_layer,
}
