"""PyTorch's top-level (older) linear-algebra names, as thin layers over ``chainrule.linalg``:
``svd`` (V, not Vh), ``qr``, ``pinverse``, ``matrix_exp``, ``triangular_solve``,
``cholesky_solve``, ``cholesky_inverse``, ``lu``, ``lu_solve``, ``lu_unpack``, ``geqrf``,
``orgqr``, ``ormqr``, the removed ``lstsq``/``eig``/``symeig`` (raising PyTorch's message),
and their Tensor methods (bound at the end)."""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from .return_types import make as make_rt
from . import linalg_decomp as D
from . import linalg_solvers as S
from .linalg_base import matrix_arg, svdvals
from .linalg_base import svd as _linalg_svd
from .linalg_solvers import cholesky_inverse, cholesky_solve, lu_unpack  # noqa: F401
from .tensor import Tensor

_Svd = make_rt("svd", ["U", "S", "V"])
_Qr = namedtuple("qr", ["Q", "R"])
_TriSolve = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
_Geqrf = namedtuple("geqrf", ["a", "tau"])
_WARNED = set()


def _deprecated(name, new):
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"torch.{name} is deprecated in favor of {new} and will be removed in a "
                      "future PyTorch release.", UserWarning, stacklevel=3)


def svd(input, some=True, compute_uv=True):  # noqa: A002
    """(U, S, V) with input = U diag(S) V^T (``torch.svd``: V, not Vh). ``some``: reduced
    U (*, m, k) and V (*, n, k); ``compute_uv=False``: only S, with U (*, m, m) and V
    (*, n, n) filled with zeros."""
    if not compute_uv:
        m, n = input._data.shape[-2:]
        batch = tuple(input._data.shape[:-2])
        dt = input._data.dtype
        zeros = [Tensor._make(np.zeros(batch + (k, k), dt), False, None, 0) for k in (m, n)]
        return _Svd(zeros[0], svdvals(input), zeros[1])
    U, s, Vh = _linalg_svd(input, full_matrices=not some)
    return _Svd(U, s, Vh.transpose(-2, -1))


def qr(input, some=True):  # noqa: A002
    """``linalg.qr`` with mode "reduced" (``some``) or "complete" (deprecated in PyTorch)."""
    _deprecated("qr", "torch.linalg.qr")
    return _Qr(*D.qr(input, "reduced" if some else "complete"))


def pinverse(input, rcond=1e-15):  # noqa: A002
    """``linalg.pinv`` with rtol = ``rcond``."""
    return D.pinv(input, rtol=rcond)


def matrix_exp(A):
    """``linalg.matrix_exp``."""
    return D.matrix_exp(A)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """(X, A.clone()) with A X = b (A^T X = b when ``transpose``) for a triangular A
    (deprecated in PyTorch for ``linalg.solve_triangular``)."""
    _deprecated("triangular_solve", "torch.linalg.solve_triangular")
    M = A.transpose(-2, -1) if transpose else A
    X = S.solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return _TriSolve(X, A.clone())


def lu(A, pivot=True, get_infos=False):
    """(LU, pivots) or (LU, pivots, infos) as ``linalg.lu_factor_ex`` (never raises on a
    singular matrix; deprecated in PyTorch)."""
    _deprecated("lu", "torch.linalg.lu_factor / torch.linalg.lu_factor_ex")
    LU, piv, info = S.lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve(b, LU_data, LU_pivots):  # noqa: N803
    """``linalg.lu_solve(LU_data, LU_pivots, b)`` (deprecated in PyTorch)."""
    _deprecated("lu_solve", "torch.linalg.lu_solve")
    return S.lu_solve(LU_data, LU_pivots, b)


def geqrf(input):  # noqa: A002
    """(a, tau): LAPACK's compact QR (R on and above the diagonal of a, Householder vectors
    below, scalars tau). Not differentiable (PyTorch has no derivative for it either)."""
    matrix_arg(input, "geqrf")
    a = np.asanyarray(input._data)
    flat = a.reshape((-1,) + a.shape[-2:])
    hs, taus = zip(*[np.linalg.qr(m, mode="raw") for m in flat]) if len(flat) else ((), ())
    k = min(a.shape[-2:])
    h = np.stack([x.T for x in hs]).reshape(a.shape) if hs else a.copy()
    tau = np.stack(taus).reshape(a.shape[:-2] + (k,)) if taus else np.zeros(a.shape[:-2] +
                                                                             (k,), a.dtype)
    return _Geqrf(Tensor._make(h.astype(a.dtype), False, None, 0),
                  Tensor._make(tau.astype(a.dtype), False, None, 0))


def orgqr(input, tau):  # noqa: A002
    """``linalg.householder_product``."""
    return S.householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):  # noqa: A002
    """Q @ other (``left``) or other @ Q, with Q^T for ``transpose``, where Q (m x m) is
    the product of the Householder reflectors of (input, tau) (``geqrf``'s result)."""
    matrix_arg(input, "ormqr")
    m = input._data.shape[-2]
    Q = S._reflectors(input, tau, m, m, "ormqr")
    if transpose:
        Q = Q.transpose(-2, -1)
    return Q @ other if left else other @ Q


def _removed(name, message):
    def fn(*args, **kwargs):
        raise RuntimeError("This function was deprecated since version 1.9 and is now "
                           f"removed. {message}")

    fn.__name__ = name
    return fn


lstsq = _removed("lstsq", "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`, "
                 "which has reversed arguments: X = torch.linalg.lstsq(A, B).solution")
eig = _removed("eig", "`torch.linalg.eig` returns complex tensors; chainrule has no complex "
               "dtypes: use torch.linalg.eigh for symmetric matrices")
symeig = _removed("symeig", "L, V = torch.symeig(A, eigenvectors=True) should be replaced with "
                  "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def _bind():
    def method(fn):
        def m(self, *args, **kwargs):
            return fn(self, *args, **kwargs)

        m.__name__ = fn.__name__
        m.__doc__ = fn.__doc__
        return m

    table = {"svd": svd, "qr": qr, "pinverse": pinverse, "matrix_exp": matrix_exp,
             "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
             "lu": lu, "geqrf": geqrf, "orgqr": orgqr, "ormqr": ormqr, "lstsq": lstsq,
             "eig": eig, "symeig": symeig,
             "triangular_solve": triangular_solve,
             "lu_solve": lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots)}
    for name, fn in table.items():
        setattr(Tensor, name, method(fn) if name != "lu_solve" else fn)


_bind()

__all__ = ["cholesky_inverse", "cholesky_solve", "eig", "geqrf", "lstsq", "lu", "lu_solve",
           "lu_unpack", "matrix_exp", "orgqr", "ormqr", "pinverse", "qr", "svd", "symeig",
           "triangular_solve"]
