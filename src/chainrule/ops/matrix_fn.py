"""The matrix exponential (``linalg.matrix_exp``, ``nn.utils.parametrizations.orthogonal``).
See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot). It works on the last two
dims and broadcasts over leading (batch) dims. (The linear solve is ``Solve`` in
``ops/linalg_np.py``.)

* ``MatrixExp``  out = exp(a) (scaling and squaring with the [13/13] Pade approximant,
  Higham 2005).  VJP: the Frechet derivative at a^T applied to grad, read off the upper-right
  block of exp([[a^T, grad], [0, a^T]]).  JVP: the upper-right block of exp([[a, a_dot],
  [0, a]]). Both rules call MatrixExp itself, so every derivative order works.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm_one(a: np.ndarray) -> np.ndarray:
    """exp of one square float64 matrix."""
    n = a.shape[0]
    norm = np.abs(a).sum(0).max() if n else 0.0
    s = max(0, int(math.ceil(math.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    a = a / (2.0 ** s)
    b = _PADE13
    eye = np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + \
        b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


def expm_array(a: np.ndarray) -> np.ndarray:
    """Matrix exponential over the last two dims (computed in float64)."""
    flat = a.astype(np.float64).reshape((-1,) + a.shape[-2:])
    out = np.stack([_expm_one(m) for m in flat]) if flat.shape[0] else flat.copy()
    return out.reshape(a.shape).astype(a.dtype, copy=False)


def _block(top_left, top_right, bottom_right):
    """[[top_left, top_right], [0, bottom_right]] from tensors (..., n, n)."""
    from ..functions.shape import cat

    zeros = top_left * 0.0
    return cat([cat([top_left, top_right], -1), cat([zeros, bottom_right], -1)], -2)


class MatrixExp(Function):
    """out = exp(a) for square matrices (..., n, n); see the module docstring."""

    _arrays = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return expm_array(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        at = a.mT
        return MatrixExp.apply(_block(at, grad, at))[..., :n, n:]

    @staticmethod
    def jvp(ctx, a_dot):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        return MatrixExp.apply(_block(a, a_dot, a))[..., :n, n:]
