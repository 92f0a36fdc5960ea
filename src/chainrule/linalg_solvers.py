"""``torch.linalg`` solvers and factorizations built on the LU and triangular primitives
(``ops/linalg_lu.py``): ``solve_triangular``, ``lu_factor``/``lu_factor_ex``/``lu``/
``lu_solve``, ``inv_ex``, ``solve_ex``, ``householder_product``, ``tensorinv``,
``tensorsolve``, ``vander``, the Cholesky-based ``cholesky_solve``/``cholesky_inverse``, and
the LDL^T factorization (``ldl_factor``/``_ex``, ``ldl_solve``; ``ops/linalg_ldl.py``).
Everything that is not a primitive is composed, so reverse and forward derivatives and
vmap come from the primitives' rules."""

from __future__ import annotations


import numpy as np

from .return_types import make as make_rt
from .linalg_base import matrix_arg
from .ops.linalg_ldl import LDLFactor, LDLSolve
from .ops.linalg_lu import LUFactor, PivotsToPermutation, SolveTriangular
from .tensor import Tensor

_LUFactor = make_rt("linalg_lu_factor", ["LU", "pivots"])
_LUFactorEx = make_rt("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_LU = make_rt("linalg_lu", ["P", "L", "U"])
_LUUnpack = make_rt("lu_unpack", ["P", "L", "U"])
_InvEx = make_rt("linalg_inv_ex", ["inverse", "info"])
_SolveEx = make_rt("linalg_solve_ex", ["result", "info"])
_LDL = make_rt("linalg_ldl_factor", ["LD", "pivots"])
_LDLEx = make_rt("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


def _physical(t):
    from .func._batched import physical

    return physical(t._data)


def _promote(A, B):
    if A._data.dtype != B._data.dtype:
        dt = np.result_type(A._data.dtype, B._data.dtype)
        A, B = A.to(dt) if A._data.dtype != dt else A, B.to(dt) if B._data.dtype != dt else B
    return A, B


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left``) or X A = B, reading only the upper (``upper``) or lower
    triangle of A, its diagonal taken as ones when ``unitriangular``.

    Args:
        A: (*, n, n); B: (*, n, k) (left) or (*, k, n); batch dims broadcast.

    A zero on the diagonal gives inf/nan, without an error (as PyTorch).
    """
    matrix_arg(A, "solve_triangular", square=True)
    if not isinstance(B, Tensor) or B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    n = A._data.shape[-1]
    if (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({tuple(A._data.shape[-2:])} and "
            f"{tuple(B._data.shape[-2:])})")
    A, B = _promote(A, B)
    return SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))


def _lu_message(op, info):
    from .ops.linalg_np import batch_prefix

    prefix, k = batch_prefix(info)
    return (f"torch.linalg.{op}: {prefix}U[{k},{k}] is zero and using it on lu_solve would "
            "result in a division by zero. If you still want to perform the factorization, "
            "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): A = P L U with partial pivoting, L (unit lower) and U packed in
    LU (*, m, n), pivots (*, min(m, n)) int32 1-based row swaps (LAPACK's), info int32 (k >
    0: U[k, k] is exactly zero). ``check_errors`` raises when some info is nonzero."""
    matrix_arg(A, "lu_factor_ex")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = LUFactor.apply(A, True)
    if check_errors and _physical(info).any():
        raise RuntimeError(_lu_message("lu_factor_ex", _physical(info)))
    return _LUFactorEx(LU, piv, info)


def lu_factor(A, *, pivot=True):
    """(LU, pivots) as ``lu_factor_ex``; raises when U has a zero on its diagonal."""
    matrix_arg(A, "lu_factor")
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    if _physical(info).any():
        raise RuntimeError(_lu_message("lu_factor", _physical(info)))
    return _LUFactor(LU, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803
    """(P, L, U) from ``lu_factor``'s packed result: A = P L U, L (*, m, k) unit lower, U
    (*, k, n) upper, P (*, m, m). An unpacked part that is not asked for is empty."""
    from .ops.linalg_lu import _unpack

    m, n = LU_data._data.shape[-2:]
    k = min(m, n)
    empty = Tensor._make(np.zeros((0,), LU_data._data.dtype), False, None, 0)
    if unpack_data:
        L, U = _unpack(LU_data, k)
    else:
        L = U = empty
    P = PivotsToPermutation.apply(LU_pivots, m, LU_data._data.dtype) if unpack_pivots else empty
    return _LUUnpack(P, L, U)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U (partial pivoting): P (*, m, m), L (*, m, k) unit lower, U
    (*, k, n) upper, k = min(m, n). Differentiable (PyTorch's formulas)."""
    matrix_arg(A, "lu")
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    return _LU(*lu_unpack(LU, piv))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (``left``) or X A = B, with A^T for ``adjoint``, from A's
    ``lu_factor``: triangular solves reading the triangles of LU, so gradients flow to LU
    and B."""
    matrix_arg(LU, "lu_solve", square=True)
    if not isinstance(B, Tensor) or B._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 "
                           "dimensions.")
    LU, B = _promote(LU, B)
    P = PivotsToPermutation.apply(pivots, LU._data.shape[-1], LU._data.dtype)
    Pt = P.transpose(-2, -1)

    def tri(X, upper, side, transposed):
        M = LU.transpose(-2, -1) if transposed else LU
        return SolveTriangular.apply(M, X, upper != transposed, side, not upper)

    if left and not adjoint:  # X = U^-1 L^-1 P^T B
        return tri(tri(Pt @ B, False, True, False), True, True, False)
    if left:  # A^T X = B: X = P L^-T U^-T B
        return P @ tri(tri(B, True, True, True), False, True, True)
    if not adjoint:  # X A = B: X = B U^-1 L^-1 P^T
        return tri(tri(B, True, False, False), False, False, False) @ Pt
    return tri(tri(B @ P, False, False, True), True, False, True)  # X A^T = B


def inv_ex(A, *, check_errors=False):
    """(inverse, info): the inverse from an LU factorization; info int32 is k > 0 when U[k,
    k] is zero (then the inverse holds inf/nan), as ``torch.linalg.inv_ex``."""
    matrix_arg(A, "inv_ex", square=True)
    LU, piv, info = LUFactor.apply(A, True)
    if check_errors and _physical(info).any():
        from .ops.linalg_np import singular_error

        raise singular_error("linalg.inv_ex", _physical(A))
    from .creation import eye

    n = A._data.shape[-1]
    return _InvEx(lu_solve(LU, piv, eye(n, dtype=A.dtype)), info)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info): ``linalg.solve`` from an LU factorization, with LU's info."""
    matrix_arg(A, "solve_ex", square=True)
    LU, piv, info = LUFactor.apply(A, True)
    if check_errors and _physical(info).any():
        from .ops.linalg_np import singular_error

        raise singular_error("linalg.solve", _physical(A))
    vec = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                and B._data.shape == A._data.shape[:-1])
    X = lu_solve(LU, piv, B.unsqueeze(-1) if vec else B, left=left)
    return _SolveEx(X.squeeze(-1) if vec else X, info)


def cholesky_solve(B, L, upper=False):
    """X with A X = B for A = L L^T (``upper``: A = U^T U), as ``torch.cholesky_solve``;
    the gradient for L is PyTorch's -(G X^T + X G^T) L (G = A^-1 grad), all of L."""
    from .linalg_base import solve

    if B._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B._data.ndim} "
                           "dimensions instead")
    matrix_arg(L, "cholesky_solve", square=True)
    A = L.transpose(-2, -1) @ L if upper else L @ L.transpose(-2, -1)
    return solve(A, B)


def cholesky_inverse(L, upper=False):
    """(L L^T)^-1 (``upper``: (U^T U)^-1) from a Cholesky factor, as
    ``torch.cholesky_inverse``."""
    from .linalg_base import inv

    matrix_arg(L, "cholesky_inverse", square=True)
    return inv(L.transpose(-2, -1) @ L if upper else L @ L.transpose(-2, -1))


def _reflectors(A, tau, m, cols, op):
    """H_1 ... H_k applied to the first ``cols`` columns of the identity (m x m), with
    H_i = I - tau_i v_i v_i^T, v_i = e_i + (column i of A below the diagonal)."""
    from .creation import eye
    from .linalg_ops import tril

    k = tau._data.shape[-1]
    n = A._data.shape[-1]
    if k > n:
        raise RuntimeError(f"torch.{op}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    V = tril(A, -1) + eye(m, n, dtype=A.dtype)
    Q = eye(m, cols, dtype=A.dtype)
    for i in reversed(range(k)):
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.transpose(-2, -1) @ Q)
    return Q


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k (LAPACK's orgqr) from Householder vectors stored
    below the diagonal of A (*, m, n) and scalars tau (*, k), k <= n <= m. Composed of
    tensor operations (differentiable)."""
    matrix_arg(A, "householder_product")
    m, n = A._data.shape[-2:]
    if n > m:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    return _reflectors(A, tau, m, n, "linalg.householder_product")


def tensorinv(A, ind=2):
    """The inverse of A seen as a linear map from its first ``ind`` dims' space to the
    rest: result shape A.shape[ind:] + A.shape[:ind]."""
    from .linalg_base import inv

    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A._data.shape)
    rows, cols = int(np.prod(shape[:ind])), int(np.prod(shape[ind:]))
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(*(shape[ind:] + shape[:ind]))


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's dims ``dims`` are moved to the end first;
    X has the shape A.shape[B.ndim:]."""
    from .linalg_base import solve

    if dims is not None:
        nd = A._data.ndim
        src = [d % nd for d in dims]
        A = A.movedim(src, list(range(nd - len(src), nd)))
    bshape = tuple(B._data.shape)
    rest = tuple(A._data.shape[len(bshape):])
    rows, cols = int(np.prod(bshape)), int(np.prod(rest))
    if tuple(A._data.shape[:len(bshape)]) != bshape or rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other."
                           f"ndim:]) == prod(self.shape[:other.ndim]), but got {cols} != "
                           f"{rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(*rest)


def vander(x, *, N=None):  # noqa: N803
    """The Vandermonde matrices (*, n, N) of x (*, n): columns x^0, x^1, ..., x^(N-1)
    (increasing powers, unlike ``torch.vander``); N defaults to n."""
    from .functions.shape import cat

    n = x._data.shape[-1] if x._data.ndim else 1
    N = n if N is None else N  # noqa: N806
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    col = x.unsqueeze(-1)
    ones = col * 0 + 1
    powers = col.expand(*col.shape[:-1], N - 1).cumprod(-1)
    return cat([ones, powers], -1)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): A = M D M^T for a symmetric (indefinite) A, Bunch-Kaufman
    pivoting, LAPACK sytrf's compact form (lower triangle read; see ``ops/linalg_ldl.py``);
    info k > 0 when D[k, k] is exactly zero. ``hermitian`` has no effect on real input.
    Not differentiable (PyTorch's error at backward)."""
    matrix_arg(A, "ldl_factor_ex", square=True)
    LD, piv, info = LDLFactor.apply(A)
    if check_errors and _physical(info).any():
        _ldl_error("ldl_factor_ex", info)
    return _LDLEx(LD, piv, info)


def _ldl_error(op, info):
    from .ops.linalg_np import LinAlgError, batch_prefix

    prefix, k = batch_prefix(_physical(info))
    raise LinAlgError(f"torch.linalg.{op}: {prefix}The factorization could not be completed "
                      f"because the block diagonal matrix D is exactly singular (D[{k}, {k}] "
                      "is zero).")


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots) as ``ldl_factor_ex``; raises LinAlgError when D is singular."""
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    if _physical(info).any():
        _ldl_error("ldl_factor", info)
    return _LDL(LD, piv)


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B for the A that ``ldl_factor`` factored into (LD, pivots); B is
    (*, n, k). Not differentiable (PyTorch's error at backward)."""
    matrix_arg(LD, "ldl_solve", square=True)
    if not isinstance(B, Tensor) or B._data.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: B must have at least 2 dimensions.")
    if B._data.dtype != LD._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{B.dtype} and A of type {LD.dtype} instead.")
    return LDLSolve.apply(LD, pivots.unsqueeze(-1), B)  # (*, n, 1): the rank of LD and B
