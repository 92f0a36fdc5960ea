"""Matrix-valued constraints (triangular, Cholesky, symmetric, positive-(semi)definite) and
the ``cat``/``stack`` combinators of ``chainrule.distributions.constraints`` (split from it to
keep files small; import them from there)."""

from __future__ import annotations

import numpy as np

from ..linalg_ops import diagonal, tril
from ..functions.shape import cat as _cat
from ..functions.shape import stack as _stack
from ..tensor import Tensor
from ..functions.elementwise import isclose
from ._constraint_base import Constraint
from .utils import _wrap, all_true


def _all_last2(mask: Tensor) -> Tensor:
    return mask.reshape(tuple(mask.shape[:-2]) + (-1,)).all(-1)


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        return _all_last2(tril(value) == value)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        positive_diagonal = (diagonal(value, 0, -2, -1) > 0).all(-1)
        return _all_last2(tril(value) == value) & positive_diagonal


class _CorrCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        tol = float(np.finfo(value._data.dtype).eps) * value.shape[-1] * 10
        row_norm = np.sqrt((value._data ** 2).sum(-1))
        unit = _wrap(np.all(np.abs(row_norm - 1.0) <= tol, axis=-1))
        return _LowerCholesky().check(value) & unit


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        return _wrap(np.full(value.shape[:-2], value.shape[-2] == value.shape[-1]))


class _Symmetric(_Square):
    def check(self, value):
        square = super().check(value)
        if not all_true(square):
            return square
        return _all_last2(isclose(value, value.mT, atol=1e-6))


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)
        if not all_true(sym):
            return sym
        return _wrap(np.all(np.linalg.eigvalsh(value._data) >= 0, axis=-1))


def _cholesky_ok(a: np.ndarray) -> np.ndarray:
    """Per matrix: whether the Cholesky factorisation succeeds (cholesky_ex(...).info == 0)."""
    try:
        np.linalg.cholesky(a)
        return np.ones(a.shape[:-2], bool)
    except np.linalg.LinAlgError:
        flat = a.reshape((-1,) + a.shape[-2:])
        ok = np.ones(len(flat), bool)
        for i, m in enumerate(flat):
            try:
                np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                ok[i] = False
        return ok.reshape(a.shape[:-2])


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)
        if not all_true(sym):
            return sym
        return _wrap(_cholesky_ok(value._data))


class _Cat(Constraint):
    """Constraints ``cseq`` applied to consecutive slices (of ``lengths``) along ``dim``."""

    def __init__(self, cseq, dim=0, lengths=None):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq "
                                 f"({len(self.cseq)})")
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        checks, start = [], 0
        for constr, length in zip(self.cseq, self.lengths):
            checks.append(constr.check(value.narrow(self.dim, start, length)))
            start += length
        return _cat(checks, self.dim)


class _Stack(Constraint):
    """Constraints ``cseq`` applied to the slices ``value.select(dim, i)``."""

    def __init__(self, cseq, dim=0):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        vs = [value.select(self.dim, i) for i in range(value.size(self.dim))]
        return _stack([c.check(v) for v, c in zip(vs, self.cseq)], self.dim)
