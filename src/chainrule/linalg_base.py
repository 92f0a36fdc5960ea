"""The core of ``chainrule.linalg`` (``torch.linalg``, assembled in ``linalg.py``): norms,
determinants, inverse, solve, Cholesky, symmetric eigendecomposition, cross products. The
decompositions and solvers (``linalg_decomp.py``, ``linalg_solvers.py``) build on these."""

from __future__ import annotations


import numpy as np

from .return_types import make as make_rt
from .linalg_ops import cross as _cross
from .linalg_ops import diagonal as _diagonal
from .ops.linalg_decomp import SVD
from .ops.linalg_np import Cholesky, Det, Eigh, Inverse, LinAlgError, SlogDet, Solve
from .ops.linalg_np import batch_prefix as _batch_prefix
from .tensor import Tensor
from .functions.reduction import norm as _norm


def matrix_arg(A, op, square=False):
    """Check that A is a float tensor of (batches of) matrices; returns A."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(A).__name__}")
    s = A._data.shape
    if len(s) < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{A.dtype}")
    if square and s[-1] != s[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{s[-2]} by {s[-1]} matrices")
    return A


_SVD = make_rt("linalg_svd", ["U", "S", "Vh"])


def svd(A, full_matrices=True, *, driver=None):
    """A = U diag(S) Vh, singular values S descending (``torch.linalg.svd``).

    Args:
        A: (*, m, n) float tensor.
        full_matrices: U (*, m, m) and Vh (*, n, n) when True, else (*, m, k) and (*, k, n)
            with k = min(m, n).
        driver: CUDA only in PyTorch; must be None here.

    Gradients (and JVPs) are PyTorch's: finite only when the singular values are distinct
    (and, for the U/Vh terms with m != n, nonzero); U and Vh are defined up to the sign of
    each singular pair, so differentiate functions that do not depend on it (|U|, U Vh, S).

    Example::

        >>> U, S, Vh = chainrule.linalg.svd(chainrule.eye(3)[:, :2], full_matrices=False)
        >>> S
        tensor([1., 1.])
    """
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    return _SVD(*SVD.apply(matrix_arg(A, "svd"), bool(full_matrices)))


def svdvals(A, *, driver=None):
    """The singular values of A (*, m, n), descending, shape (*, min(m, n)). Their gradient
    is U diag(grad) Vh, defined even for repeated values (as PyTorch)."""
    if driver is not None:
        raise RuntimeError("torch.linalg.svdvals: keyword argument `driver=` is only supported "
                           "on CUDA inputs with cuSOLVER backend.")
    return SVD.apply(matrix_arg(A, "svdvals"), False)[1]


def _square(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(A).__name__}")
    s = A._data.shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{s[-2] if len(s) > 1 else '?'} by {s[-1] if s else '?'} matrices")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{A.dtype}")
    return A


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """(sum |x|^ord)^(1/ord) over ``dim`` (all elements by default); ord inf/-inf: max/min
    |x|, 0: the number of nonzeros. The gradient at 0 is 0 for ord = 2 (as PyTorch)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return _norm(x, float(ord), dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """'fro' (Frobenius), 'nuc' (sum of singular values), inf/-inf (max/min row sum of
    |A|), 1/-1 (max/min column sum), 2/-2 (largest/smallest singular value) over ``dim``."""
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A._data.ndim for d in dim)
    if ord == "fro":
        return _norm(A, 2, (d0, d1), keepdim)
    if ord in (np.inf, -np.inf, 1, -1):
        sum_dim, red_dim = (d1, d0) if ord in (np.inf, -np.inf) else (d0, d1)
        s = A.abs().sum(sum_dim, keepdim=True)
        r = s.amax(red_dim, keepdim=True) if ord > 0 else s.amin(red_dim, keepdim=True)
        return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    if ord in ("nuc", 2, -2):
        M = A.movedim((d0, d1), (-2, -1))
        sv = svdvals(M)
        r = sv.sum(-1) if ord == "nuc" else (sv.amax(-1) if ord == 2 else sv.amin(-1))
        return r.unsqueeze(-1).unsqueeze(-1).movedim((-2, -1), (d0, d1)) if keepdim else r
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``vector_norm`` for 1-D ``dim`` (or ord None over everything), ``matrix_norm`` for
    2-D, as ``torch.linalg.norm``."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._data.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A._data.ndim}D.")
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def det(A):
    """The determinant of (batches of) square matrices."""
    return Det.apply(_square(A, "det"))


def slogdet(A):
    """(sign, log|det A|): a named pair ``(sign, logabsdet)``."""

    sign, logabs = SlogDet.apply(_square(A, "slogdet"))
    return make_rt("linalg_slogdet", ["sign", "logabsdet"])(sign, logabs)


def inv(A):
    """The inverse of (batches of) square matrices."""
    return Inverse.apply(_square(A, "inv"))


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B). B may be a vector (..., n) or matrices."""
    _square(A, "solve")
    if not left:
        return solve(A.transpose(-2, -1), B.transpose(-2, -1)).transpose(-2, -1)
    vec = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                and B._data.shape == A._data.shape[:-1])
    if vec:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return Solve.apply(A, B)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): the Cholesky factor (``upper``: L^T) and an int32 info per matrix, 0 on
    success, else the order of the first leading minor that is not positive-definite (L is
    then LAPACK's partial result). ``check_errors`` raises LinAlgError instead."""
    L, info = Cholesky.apply(_square(A, "cholesky_ex"))
    if check_errors:
        _pd_check(info, "linalg.cholesky_ex")

    return make_rt("linalg_cholesky_ex", ["L", "info"])(L.transpose(-2, -1) if upper else L, info)


def _pd_check(info, op):
    from .func._batched import physical

    info = physical(info._data)
    if info.any():
        prefix, k = _batch_prefix(info)
        raise LinAlgError(f"{op}: {prefix}The factorization could not be completed because the "
                          f"input is not positive-definite (the leading minor of order {k} is "
                          "not positive-definite).")


def cholesky(A, *, upper=False):
    """The Cholesky factor L (L L^T = A, lower triangle read); ``upper``: L^T. Raises
    LinAlgError when A is not positive-definite."""
    L, info = Cholesky.apply(_square(A, "cholesky"))
    _pd_check(info, "linalg.cholesky")
    return L.transpose(-2, -1) if upper else L


def eigh(A, UPLO="L"):  # noqa: N803
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices; only the
    ``UPLO`` triangle is read."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")

    w, v = Eigh.apply(_square(A, "eigh"), UPLO)
    return make_rt("linalg_eigh", ["eigenvalues", "eigenvectors"])(w, v)


def eigvalsh(A, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric matrices, ascending."""
    return eigh(A, UPLO)[0]


def cross(input, other, *, dim=-1):  # noqa: A002
    """The cross product along ``dim`` (default -1)."""
    return _cross(input, other, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return _diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim=-1):
    """sum over ``dim`` of x * y."""
    return (x * y).sum(dim)


def matrix_power(A, n):
    """A^n by repeated squaring (n < 0: the inverse's power)."""
    _square(A, "matrix_power")
    if n < 0:
        return matrix_power(inv(A), -n)
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        from .creation import eye

        e = eye(A._data.shape[-1], dtype=A.dtype)
        return e.expand(*A._data.shape) if A._data.ndim > 2 else e
    return result


def multi_dot(tensors):
    """The product of a chain of matrices (left to right)."""
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


# -- the top-level torch names (torch.det, torch.logdet, ...) and their Tensor methods --------
def logdet(A):
    """log det A (nan where det < 0, -inf where det = 0), as ``torch.logdet``."""
    sign, logabs = slogdet(A)
    from .functions.elementwise import where

    return where(sign < 0, float("nan"), logabs)


def _cholesky_top(A, upper=False):
    return cholesky(A, upper=upper)


def _bind():
    for name, fn in (("det", det), ("logdet", logdet), ("slogdet", slogdet),
                     ("inverse", inv), ("cholesky", _cholesky_top),
                     ("matrix_power", matrix_power)):
        setattr(Tensor, name, (lambda f: lambda self, *a, **k: f(self, *a, **k))(fn))


_bind()
