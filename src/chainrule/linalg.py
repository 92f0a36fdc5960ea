"""``chainrule.linalg`` (``torch.linalg``): norms, determinants, inverse, solve, Cholesky,
symmetric eigendecomposition, cross products
(``linalg_base.py``); the SVD, QR, pinv, lstsq,
matrix_exp, ranks and condition numbers (``linalg_decomp.py``); triangular solves, LU and
the solvers built on it (``linalg_solvers.py``). The primitives are in ``ops/linalg_np.py``,
``ops/linalg_decomp.py``, ``ops/linalg_lu.py`` and ``ops/matrix_fn.py`` (NumPy's LAPACK
calls or NumPy loops, with reverse and forward rules); the norms are composed."""

from __future__ import annotations

from .functions.linalg import matmul  # noqa: F401  (torch.linalg.matmul)
from .linalg_base import (  # noqa: F401
    LinAlgError, _cholesky_top, cholesky, cholesky_ex, cross, det, diagonal, eigh, eigvalsh, inv,
    logdet, matrix_norm, matrix_power, multi_dot, norm, slogdet, solve, svd, svdvals, vecdot,
    vector_norm,
)
from .linalg_decomp import (  # noqa: F401
    cond, eig, eigvals, lstsq, matrix_exp, matrix_rank, pinv, qr,
)
from .linalg_solvers import (  # noqa: F401
    householder_product, inv_ex, ldl_factor, ldl_factor_ex, ldl_solve, lu, lu_factor,
    lu_factor_ex, lu_solve, solve_ex, solve_triangular, tensorinv, tensorsolve, vander,
)
