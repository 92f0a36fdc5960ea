"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``."""

from __future__ import annotations

import math

from ..creation import eye
from ..linalg import cholesky, inv, solve
from ..linalg_ops import diagonal, tril
from ..functions.linalg import matmul
from ..functions.shape import flip
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _size, _standard_normal, broadcast_shapes, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat: Tensor, bvec: Tensor) -> Tensor:
    """Matrix-vector products over broadcast batch dims: (..., n, m) x (..., m) -> (..., n)."""
    return matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL: Tensor, bx: Tensor) -> Tensor:  # noqa: N803
    """|L^-1 x|^2 for lower-triangular L (..., n, n) and x (..., n), batch dims broadcast.

    An unbatched L is one solve with every x as a column; a batched L is inverted once
    and applied by a broadcast matmul (O(n^2) per vector either way). Only the lower
    triangle of L is read (its upper triangle gets no gradient, as a triangular solve)."""
    n = bx.size(-1)
    bL = tril(bL)  # noqa: N806
    if bL.dim() == 2:
        cols = bx.reshape(-1, n).mT
        return solve(bL, cols).pow(2).sum(-2).reshape(tuple(bx.shape[:-1]))
    return _batch_mv(inv(bL), bx).pow(2).sum(-1)


def _precision_to_scale_tril(P: Tensor) -> Tensor:  # noqa: N803
    """The lower Cholesky factor of P^-1 without inverting P: with J the flip,
    chol(J P J) = Lf gives P = U U^T for U = J Lf J (upper), so P^-1 = L L^T with
    L = U^-T lower triangular."""
    Lf = cholesky(flip(P, (-2, -1)))  # noqa: N806
    L_inv = flip(Lf, (-2, -1)).mT  # noqa: N806
    Id = eye(P.shape[-1], dtype=P.dtype)  # noqa: N806
    return solve(tril(L_inv), Id.expand(tuple(L_inv.shape)))


class MultivariateNormal(Distribution):
    """The Gaussian N(loc, Sigma) over vectors (``event_shape`` = loc.shape[-1:]); give
    exactly one of ``covariance_matrix`` (Sigma), ``precision_matrix`` (Sigma^-1) or
    ``scale_tril`` (lower-triangular L with Sigma = L L^T, positive diagonal).

    log p(x) = -(n log(2 pi) + |L^-1 (x - loc)|^2) / 2 - sum log diag(L).

    Example::

        d = MultivariateNormal(cr.zeros(2), covariance_matrix=cr.tensor([[1., .5], [.5, 2.]]))
        d.rsample((10,)).shape     # (10, 2)
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = (covariance_matrix is not None) + (scale_tril is not None) + (
            precision_matrix is not None)
        if given != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = next((k, v) for k, v in (("scale_tril", scale_tril),
                                                 ("covariance_matrix", covariance_matrix),
                                                 ("precision_matrix", precision_matrix))
                            if v is not None)
        if matrix.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(tuple(batch_shape) + tuple(matrix.shape[-2:])))
        self.loc = loc.expand(tuple(batch_shape) + (loc.shape[-1],))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = _size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril  # noqa: N806
        return matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L_inv = inv(self._unbroadcasted_scale_tril)  # noqa: N806  (Sigma^-1 = L^-T L^-1)
        return matmul(L_inv.mT, L_inv).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self) -> Tensor:
        return diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)  # noqa: N806
        return (-0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M)
                - self._half_log_det())

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()  # noqa: N806
        if len(self._batch_shape) == 0:
            return H
        return H.expand(tuple(self._batch_shape))



