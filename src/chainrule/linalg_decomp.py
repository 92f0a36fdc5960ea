"""``torch.linalg`` decompositions: ``svd``, ``svdvals``, ``qr``, ``pinv``, ``matrix_rank``,
``lstsq``, ``matrix_exp``, ``cond`` (and ``eig``/``eigvals``, refused: their results are
complex). The primitives (``SVD``, ``QR``, ``Pinv``, ``Lstsq``, ``MatrixExp``) are in
``ops/linalg_decomp.py`` and ``ops/matrix_fn.py``, with reverse and forward rules; these
functions check arguments and shape the results as PyTorch does."""

from __future__ import annotations


import numpy as np

from .return_types import make as make_rt
from .linalg_base import matrix_arg, svdvals
from .ops.linalg_decomp import QR, Lstsq, Pinv
from .ops.matrix_fn import MatrixExp
from .tensor import Tensor

_QR = make_rt("linalg_qr", ["Q", "R"])
_Lstsq = make_rt("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def qr(A, mode="reduced"):
    """A = Q R with Q orthonormal columns and R upper triangular (``torch.linalg.qr``).

    Args:
        A: (*, m, n) float tensor.
        mode: ``"reduced"`` Q (*, m, k), R (*, k, n), k = min(m, n); ``"complete"`` Q
            (*, m, m), R (*, m, n); ``"r"`` only R (Q is an empty tensor; not
            differentiable, as in PyTorch).
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return _QR(*QR.apply(matrix_arg(A, "qr"), mode))


def _tolerances(A, atol, rtol, op):
    """(atol, rtol) as PyTorch resolves them: both None -> (0, eps * max(m, n)); atol > 0
    alone -> rtol 0. Tensors become arrays shaped (*, 1, 1) (constants: no gradient)."""
    def arr(t):
        if t is None:
            return None
        if isinstance(t, Tensor):
            if t._data.dtype.kind == "c":
                raise RuntimeError(f"linalg.{op}: tolerances must be real")
            return t.detach().unsqueeze(-1).unsqueeze(-1).to(A.dtype)
        return float(t)

    default = float(np.finfo(A._data.dtype).eps * max(A._data.shape[-2:]))
    a, r = arr(atol), arr(rtol)
    if r is None:
        if a is None:
            return 0.0, default
        if isinstance(a, Tensor):
            from .functions.elementwise import where

            return a, where(a > 0, 0.0, default)
        return a, (0.0 if a > 0 else default)
    return (0.0 if a is None else a), r


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse (*, n, m) of A (*, m, n), from the SVD (eigh when
    ``hermitian``: only the lower triangle is read); singular values <= max(atol, rtol *
    S_max) are dropped. ``rcond`` (positional, legacy) is rtol. Differentiable where the
    rank is constant (Golub-Pereyra)."""
    matrix_arg(A, "pinv", square=hermitian)
    if rcond is not None:
        rtol = rcond
    a, r = _tolerances(A, atol, rtol, "pinv")
    return Pinv.apply(A, a, r, bool(hermitian))


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values (|eigenvalues| when ``hermitian``) above max(atol,
    rtol * S_max), int64 of shape (*). ``tol`` (legacy) is atol with rtol = 0."""
    from .linalg_base import eigvalsh

    matrix_arg(A, "matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    a, r = _tolerances(A, atol, rtol, "matrix_rank")
    A = A.detach()
    s = eigvalsh(A).abs() if hermitian else svdvals(A)
    smax = s.amax(-1, keepdim=True) if s.shape[-1] else s.sum(-1, keepdim=True)

    def col(t):  # a (*, 1, 1) tolerance tensor against (*, k) values
        return t.squeeze(-1) if isinstance(t, Tensor) else t

    from .functions.elementwise import maximum

    cut = col(r) * smax
    cut = maximum(cut, col(a)) if isinstance(a, Tensor) else cut.clamp(min=a)
    return (s > cut).sum(-1)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (``torch.linalg.lstsq``, CPU semantics).

    Args:
        A: (*, m, n); B: (*, m, k) or (*, m) (a vector right-hand side).
        rcond: singular values below rcond * S_max count as zero (default eps * max(m, n)).
        driver: ``"gelsy"`` (default), ``"gelsd"``, ``"gelss"`` or ``"gels"`` (assumes
            full rank). The solution is the minimum-norm one for every driver.

    Returns (solution, residuals, rank, singular_values): residuals |A X - B|^2 per column
    (*, k) when m > n, the driver is not gelsy and every matrix has full rank (else an
    empty tensor); rank (*) int64 except for gels; singular values (*, min(m, n)) for
    gelsd/gelss. Only the solution is differentiable, with the gradient of pinv(A) @ B.
    """
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    matrix_arg(A, "lstsq")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.lstsq: expected B to be a Tensor, got {type(B).__name__}")
    m, n = A._data.shape[-2:]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                   and B._data.shape == A._data.shape[:-1])
    if vector:
        B = B.unsqueeze(-1)
    if B._data.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    if rcond is None:
        rcond = float(np.finfo(A._data.dtype).eps * max(m, n))
    x, res, rank, sv = Lstsq.apply(A, B.to(A.dtype), float(rcond), driver != "gels")
    if vector:
        x = x.squeeze(-1)
    empty = Tensor._make(np.zeros((0,), A._data.dtype), False, None, 0)
    full = driver == "gels" or bool((_physical(rank) == n).all())
    residuals = res if (m > n and driver != "gelsy" and full) else empty
    rank_out = rank if driver != "gels" else Tensor._make(np.zeros((0,), np.int64), False,
                                                           None, 0)
    sv_out = sv if driver in ("gelsd", "gelss") else empty
    return _Lstsq(x, residuals, rank_out, sv_out)


def _physical(t):
    """All values of t (every vmap batch element): PyTorch decides on the whole batch."""
    from .func._batched import physical

    return physical(t._data)


def matrix_exp(A):
    """exp(A) = sum_k A^k / k! of square matrices (*, n, n) (scaling and squaring with a
    Pade approximant); differentiable to any order."""
    return MatrixExp.apply(matrix_arg(A, "matrix_exp", square=True))


def cond(A, p=None):
    """The condition number of A in the ``p`` norm: S_max / S_min for p None or 2 (S_min /
    S_max for -2), else matrix_norm(A, p) * matrix_norm(inv(A), p) (inf when A is
    singular), as ``torch.linalg.cond``."""
    matrix_arg(A, "cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    from .linalg_base import matrix_norm
    from .linalg_solvers import inv_ex
    from .functions.elementwise import where

    matrix_arg(A, "cond", square=True)
    inverse, info = inv_ex(A)
    singular = info > 0
    inverse = where(singular.unsqueeze(-1).unsqueeze(-1), 0.0, inverse)  # no inf into norms
    return where(singular, float("inf"), matrix_norm(A, p) * matrix_norm(inverse, p))


def _complex(op):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"linalg.{op}: the eigenvalues of a general real matrix are complex, and chainrule "
            "has no complex dtypes. For symmetric matrices use linalg.eigh / linalg.eigvalsh; "
            f"otherwise compute numpy.linalg.{op}(A.detach().numpy()).")

    refuse.__name__ = op
    return refuse


eig = _complex("eig")
eigvals = _complex("eigvals")
