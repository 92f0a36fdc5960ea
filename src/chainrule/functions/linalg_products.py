"""More products and statistics, composed from ``matmul``, sums and shape functions:
tensordot, vdot, chain_matmul, addmv, addr, addbmm, baddbmm, adjoint, cov, corrcoef,
trapezoid (trapz) and cumulative_trapezoid.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import linalg as FL
from . import shape as FS
from . import _common as FC
from . import elementwise as FE
from . import reduction as FR
from . import unary as FU
from ..linalg_ops import diagonal
from ..tensor import Tensor, _norm_dim


def tensordot(a, b, dims=2, out=None):
    """Contract the last ``dims`` dims of a with the first ``dims`` of b, or the dims
    listed in ``dims = (dims_a, dims_b)``."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [_norm_dim(d, na, "tensordot") for d in da]
    db = [_norm_dim(d, nb, "tensordot") for d in db]
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[i]} in dim {i} and second has size "
                               f"{b._data.shape[j]} in dim {j}")
    free_a = [i for i in range(na) if i not in da]
    free_b = [j for j in range(nb) if j not in db]
    k = int(np.prod([a._data.shape[i] for i in da])) if da else 1
    am = FS.reshape(FS.permute(a, free_a + da), (-1, k))
    bm = FS.reshape(FS.permute(b, db + free_b), (k, -1))
    shape = tuple(a._data.shape[i] for i in free_a) + tuple(b._data.shape[j] for j in free_b)
    res = FS.reshape(FL.matmul(am, bm), shape)
    if out is not None:
        out.copy_(res)
        return out
    return res


def vdot(input, other):  # noqa: A002
    """sum(input * other) of two 1-D tensors (no conjugation: real dtypes only)."""
    return FL.dot(input, other)


def chain_matmul(*matrices, out=None):
    """The product of the matrices, left to right (deprecated in PyTorch: use
    linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    res = matrices[0]
    for m in matrices[1:]:
        res = FL.mm(res, m)
    return res


def _scaled(beta, input, alpha, product):  # noqa: A002
    """beta * input + alpha * product (input ignored when beta == 0, so nan/inf there do not
    propagate, as PyTorch)."""
    p = product if alpha == 1 else product * alpha
    if beta == 0:
        return FS.expand(p, tuple(np.broadcast_shapes(input._data.shape, p._data.shape))) \
            if input._data.shape != p._data.shape else p
    return (input if beta == 1 else input * beta) + p


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat @ vec)."""
    return _scaled(beta, input, alpha, FL.mv(mat, vec))


def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled(beta, input, alpha, FL.outer(vec1, vec2))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    return _scaled(beta, input, alpha, FL.bmm(batch1, batch2).sum(0))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    return _scaled(beta, input, alpha, FL.bmm(batch1, batch2))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2)."""
    return _scaled(beta, input, alpha, FL.mm(mat1, mat2))


def adjoint(input):  # noqa: A002
    """The conjugate transpose of the last two dims (the transpose: real dtypes only)."""
    if input._data.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input._data.ndim}-D tensor.")
    return FS.transpose(input, -2, -1)


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns), with frequency and/or observation weights, as numpy.cov."""
    x = input if input._data.ndim == 2 else FS.reshape(input, (1, -1))
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input._data.ndim} dimensions")
    if x._data.dtype.kind != "f":
        x = FC.as_float(x)
    n = x._data.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        total = float(n)
        avg = FR.mean(x, 1, keepdim=True)
        norm = total - correction
    else:
        total = w.sum()
        avg = (x * w).sum(1, keepdim=True) / total
        norm = total - correction if aweights is None else \
            total - correction * (w * aweights.to(x.dtype)).sum() / total
    xc = x - avg
    xw = xc if w is None else xc * w
    with np.errstate(divide="ignore", invalid="ignore"):
        c = FL.matmul(xw, FS.transpose(xc, 0, 1)) / (FE.clamp(norm, min=0) if isinstance(
            norm, Tensor) else max(norm, 0))
    return FS.reshape(c, ()) if input._data.ndim < 2 else c


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the rows (cov divided by the standard
    deviations, clipped to [-1, 1])."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = FU.sqrt(diagonal(c))
    c = c / FS.reshape(d, (-1, 1)) / FS.reshape(d, (1, -1))
    return FE.clamp(c, -1, 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: sum (y_i + y_{i+1}) / 2 * (x_{i+1} - x_i), with
    sample points ``x`` (a tensor) or a constant spacing ``dx`` (default 1)."""
    d = _norm_dim(dim, y._data.ndim, "trapezoid")
    n = y._data.shape[d]
    if n == 0:
        return FR.sum(y, d)
    mids = (FS.narrow(y, d, 1, n - 1) + FS.narrow(y, d, 0, n - 1)) * 0.5
    if x is None or not isinstance(x, Tensor):
        step = dx if dx is not None else (x if x is not None else 1)
        return FR.sum(mids, d) * step
    xd = x if x._data.ndim > 1 else FS.reshape(x, (-1,) + (1,) * (y._data.ndim - 1 - d))
    xdim = d if x._data.ndim > 1 else 0
    widths = FS.narrow(xd, xdim, 1, n - 1) - FS.narrow(xd, xdim, 0, n - 1)
    return FR.sum(mids * widths, d)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim`` (one element shorter)."""
    d = _norm_dim(dim, y._data.ndim, "cumulative_trapezoid")
    n = y._data.shape[d]
    mids = (FS.narrow(y, d, 1, max(n - 1, 0)) + FS.narrow(y, d, 0, max(n - 1, 0))) * 0.5
    if x is None or not isinstance(x, Tensor):
        step = dx if dx is not None else (x if x is not None else 1)
        return FR.cumsum(mids * step, d)
    xd = x if x._data.ndim > 1 else FS.reshape(x, (-1,) + (1,) * (y._data.ndim - 1 - d))
    xdim = d if x._data.ndim > 1 else 0
    widths = FS.narrow(xd, xdim, 1, n - 1) - FS.narrow(xd, xdim, 0, n - 1)
    return FR.cumsum(mids * widths, d)


__all__ = [
    "addbmm", "addmv", "addr", "adjoint", "baddbmm", "chain_matmul", "corrcoef", "cov",
    "cumulative_trapezoid", "tensordot", "trapezoid", "trapz", "vdot",
]
