"""Batching rules of the layer primitives (convolution, pooling, losses: the batch merged
into N), of NumPy's linalg (leading dims batch by themselves), and of the special functions,
more elementwise math and scans; registered into ``_batching.RULES`` (see its docstring)."""

from __future__ import annotations

import numpy as np

from .. import ops as P
from ..ops import conv as C
from ..ops import elementwise_extra as EX
from ..ops import linalg_decomp as LD
from ..ops import linalg_ldl as LDL
from ..ops import linalg_lu as LU
from ..ops import linalg_np as LA
from ..ops import matrix_fn as MF
from ..ops import nn_ops as N
from ..ops import pool as PL
from ..ops import scan as SC
from ..ops import special as SP
from ._batching import (
    RULES, _nd, _shape, along_dim, batch_first, elementwise, pad_rule, reshape, unary,
)
from ._dispatch import loop


# -- convolution and pooling: the batch merged into N -------------------------------------------
def _merge_n(v, b, size):
    v = batch_first(v, b, size)
    s = _shape(v)
    return reshape(v, (s[0] * s[1],) + s[2:])


def _split_n(out, size):
    s = out._data.shape
    return P.Reshape.apply(out, (size, s[0] // size) + s[1:])


def _merged(first_args, rest_batched_ok=False):
    """A rule for a primitive whose first ``first_args`` arguments are (N, ...) arrays/tensors
    and whose other arguments must be unbatched."""

    def rule(info, vals, bdims):
        if any(b is not None for b in bdims[first_args:]) or _nd(vals[0]) - (
                bdims[0] is not None) < 2:
            return loop(info, vals, bdims)
        args = [_merge_n(v, b, info.size) if v is not None else None
                for v, b in zip(vals[:first_args], bdims[:first_args])]
        out = info.cls.apply(*args, *vals[first_args:])
        if isinstance(out, tuple):
            return tuple(_split_n(o, info.size) for o in out), (0,) * len(out)
        return _split_n(out, info.size), 0

    return rule


def window_rule(info, vals, bdims):
    g, arg, geom = vals
    if arg is not None and (bdims[1] is not None and any(b is not None for b in bdims[1])):
        return loop(info, vals, bdims)
    g = _merge_n(g, bdims[0], info.size)
    if arg is not None:
        arg = tuple(None if a is None else np.ascontiguousarray(_merge_n(a, None, info.size))
                    for a in arg)
    return _split_n(info.cls.apply(g, arg, geom), info.size), 0


def maxpool_rule(info, vals, bdims):
    x, geom, ri = vals
    out = P.MaxPool2d.apply(_merge_n(x, bdims[0], info.size), geom, ri)
    if ri:
        return (_split_n(out[0], info.size), _split_n(out[1], info.size)), (0, 0)
    return _split_n(out, info.size), 0


def cross_entropy_rule(info, vals, bdims):
    x, target, weight, ignore_index, smoothing = vals
    if bdims[2] is not None:
        return loop(info, vals, bdims)
    xs = _merge_n(x, bdims[0], info.size)
    t = np.ascontiguousarray(_merge_n(target, bdims[1], info.size))
    return _split_n(N.CrossEntropy.apply(xs, t, weight, ignore_index, smoothing), info.size), 0


RULES.update({
    N.Erf: unary, N.BCEWithLogits: elementwise, N.BinaryCrossEntropy: elementwise,
    C.Pad: pad_rule,
    C.Conv2d: _merged(1), C.ConvInputGrad: _merged(1), C.Unfold: _merged(1),
    C.Fold: _merged(1), PL.MaxPool2d: maxpool_rule, PL.WindowGather: window_rule,
    PL.WindowScatter: window_rule, N.CrossEntropy: cross_entropy_rule,
})


def leading(info, vals, bdims):
    """Primitives that batch over leading dims themselves (NumPy's linalg): the batch dim
    first, operands padded to a common rank."""
    out, _ = elementwise(info, vals, bdims)
    return (out, (0,) * len(out)) if isinstance(out, tuple) else (out, 0)


RULES.update({c: leading for c in (LA.Inverse, LA.Det, LA.SlogDet, LA.Solve, LA.Cholesky,
                                   LA.Eigh, LD.SVD, LD.QR, LD.Pinv, LD.Lstsq, LU.LUFactor,
                                   LU.SolveTriangular, LU.PivotsToPermutation, MF.MatrixExp,
                                   LDL.LDLFactor, LDL.LDLSolve)})
# special functions, more elementwise math, scans (ops/special.py, elementwise_extra.py, scan.py)
RULES.update({c: unary for c in SP.UNARY + EX.UNARY})
RULES.update({c: elementwise for c in SP.BINARY + EX.BINARY})
RULES.update({SC.Cumprod: along_dim, SC.LogCumSumExp: along_dim})


def lcse_grad_rule(info, vals, bdims):
    """LogCumSumExpGrad(v, x, y, dim, reverse): three same-shape operands, one dim."""
    args = [batch_first(a, b, info.size) for a, b in zip(vals[:3], bdims[:3])]
    return info.cls.apply(*args, vals[3] % max(_nd(args[0]) - 1, 1) + 1, vals[4]), 0


RULES[SC.LogCumSumExpGrad] = lcse_grad_rule
