"""The public functions of the matrix-product primitive (``ops/linalg.py``): matmul and
its special cases mm, bmm, mv, dot, outer, addmm."""

from __future__ import annotations

import numpy as np

from ..ops import linalg as P
from ._common import _promote
from .shape import reshape, squeeze


# -- matrix products -------------------------------------------------------------------
def matmul(input, other):  # noqa: A002
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims."""
    a, b = _promote(input, other)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(sa)} and {tuple(sb)}"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: inner dimensions {ka} and {kb} differ"
        )
    try:
        if len(sa) > 2 and len(sb) > 2:
            np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: {tuple(sa)} @ {tuple(sb)}: batch dimensions {tuple(sa[:-2])} and "
            f"{tuple(sb[:-2])} don't broadcast"
        ) from None
    if len(sa) == 1 and len(sb) == 1:
        return reshape(P.MatMul.apply(reshape(a, (1, ka)), reshape(b, (ka, 1))), ())
    if len(sa) == 1:
        out = P.MatMul.apply(reshape(a, (1, ka)), b)
        return squeeze(out, -2)
    if len(sb) == 1:
        out = P.MatMul.apply(a, reshape(b, (kb, 1)))
        return squeeze(out, -1)
    return P.MatMul.apply(a, b)


def mm(input, mat2):  # noqa: A002
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ ({input._data.shape[0]} and {mat2._data.shape[0]})")
    return matmul(input, mat2)


def mv(input, vec):  # noqa: A002
    return matmul(input, vec)


def dot(input, other):  # noqa: A002
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got {input._data.ndim}-D and {other._data.ndim}-D")
    if input._data.shape != other._data.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensors of the same size but got "
            f"{input._data.shape[0]} and {other._data.shape[0]} elements"
        )
    return matmul(input, other)


inner = dot


def outer(input, vec2):  # noqa: A002
    return reshape(input, (-1, 1)) * reshape(vec2, (1, -1))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    return beta * input + alpha * matmul(mat1, mat2)


__all__ = [
    "addmm", "bmm", "dot", "ger", "inner", "matmul", "mm", "mv", "outer"
]
