"""Ready-made parametrizations (``torch.nn.utils.parametrizations``): ``orthogonal``,
``weight_norm`` and ``spectral_norm``, each registered with ``parametrize``."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import eye
from ...ops.linalg_np import Solve
from ...ops.matrix_fn import MatrixExp
from ...functions.shape import cat
from ...tensor import Tensor
from .._functional_distance import normalize
from ..module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

_MAPS = ("matrix_exp", "cayley", "householder")


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _tril(x: Tensor, k: int = 0) -> Tensor:
    """The lower triangle of the last two dims (from diagonal k), as a mask product."""
    mask = np.tril(np.ones(x.shape[-2:], x._data.dtype), k)
    return x * _const(mask)


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """H_1 H_2 ... H_k [:, :k] with H_i = I - tau_i v_i v_i^T, v_i the i-th column of ``a``
    below the diagonal with a unit diagonal entry (LAPACK's orgqr, composed of matmuls)."""
    n, k = a.shape[-2], a.shape[-1]
    unit = np.zeros((n, k), a._data.dtype)
    unit[np.arange(k), np.arange(k)] = 1.0
    v_all = _tril(a, -1) + _const(unit)
    q = eye(n, dtype=a.dtype).expand(*a.shape[:-2], n, n)
    for i in range(k):
        v = v_all[..., :, i:i + 1]  # (..., n, 1)
        q = q - (q @ v) * tau[..., i:i + 1].unsqueeze(-1) @ v.mT
    return q[..., :k]


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    """Q of the QR decomposition of ``a`` with diag(R) made positive (NumPy, no gradient)."""
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


class _Orthogonal(Module):
    """Orthogonal (semi-orthogonal) matrices as the image of an unconstrained one."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = _tril(x)
            if n != k:
                x = cat([x, (x[..., :, :1] * 0.0).expand(*x.shape[:-1], n - k)], -1)
            a = x - x.mT  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                q = MatrixExp.apply(a)
            else:  # the Cayley retraction (I - A/2)^{-1} (I + A/2)
                ident = eye(n, dtype=a.dtype)
                q = Solve.apply(ident - a * 0.5, ident + a * 0.5)
            if n != k:
                q = q[..., :k]
        else:
            a = _tril(x, -1)
            tau = 2.0 / (1.0 + (a * a).sum(-2))
            q = _householder_product(a, tau)
            # the diagonal of x holds +-1 (not differentiated): the column signs
            signs = np.trunc(np.diagonal(x._data, axis1=-2, axis2=-1))
            q = q * _const(signs[..., None, :].astype(q._data.dtype))
        if self.__dict__["_buffers"].get("base") is not None:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        with no_grad():
            if tuple(q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {tuple(q.shape)}.")
            q_init = q
            arr = q._data
            n, k = arr.shape[-2], arr.shape[-1]
            transpose = n < k
            if transpose:
                arr = np.swapaxes(arr, -1, -2)
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("cayley", "matrix_exp"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                return _const(self._householder_inverse(arr, transpose))
            if n == k:
                eps = 10.0 * n * np.finfo(arr.dtype).eps
                eye_k = np.eye(k)
                gram = np.swapaxes(arr, -1, -2) @ arr
                base = arr.copy() if np.allclose(gram, eye_k, atol=eps, rtol=1e-5) else \
                    _make_orthogonal(arr)
            else:
                from ...random import _gen

                extra = _gen(None).standard_normal(arr.shape[:-2] + (n, n - k)).astype(arr.dtype)
                base = _make_orthogonal(np.concatenate([arr, extra], -1))
            self.base = _const(base.astype(arr.dtype))
            neg_id = np.zeros(q_init._data.shape, arr.dtype)
            idx = np.arange(min(n, k))
            neg_id[..., idx, idx] = -1.0
            return _const(neg_id)

    @staticmethod
    def _householder_inverse(arr, transpose):
        flat = arr.reshape((-1,) + arr.shape[-2:])
        outs = []
        for m in flat:
            h, tau = np.linalg.qr(m, mode="raw")  # LAPACK geqrf: h is the transposed result
            a = h.T.copy()
            d = np.arange(a.shape[1])
            diag = np.sign(a[d, d])
            diag[tau == 0.0] *= -1
            a[d, d] = diag
            outs.append(a)
        a = np.stack(outs).reshape(arr.shape)
        return np.swapaxes(a, -1, -2) if transpose else a


def orthogonal(module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True):
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal
    (semi-orthogonal when not square: orthonormal columns or rows) through
    ``orthogonal_map``: "matrix_exp" (exp of a skew-symmetric matrix; the default for square
    matrices), "cayley" ((I - A/2)^{-1} (I + A/2)) or "householder" (a product of Householder
    reflections; the default otherwise). With ``use_trivialization`` the starting matrix is
    kept as a buffer ``base`` and the parametrization is composed with it (the original
    becomes -I), so training starts from the module's orthogonalised weight.

    Example::

        >>> m = parametrizations.orthogonal(nn.Linear(20, 40))
        >>> bool(((m.weight.T @ m.weight) - cr.eye(20)).abs().max() < 1e-5)
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name: str = "weight", dim: int = 0):
    """Weight normalisation as a parametrization: ``module.<name>`` = g v / ||v|| (norm over
    every dim except ``dim``), with g = ``parametrizations.<name>.original0`` and
    v = ``original1``. Old checkpoints with ``<name>_g``/``<name>_v`` keys load too.

    Example::

        >>> m = parametrizations.weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape
        chainrule.Size([40, 1])
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.shape
            from ...creation import empty

            u = empty(h, dtype=weight.dtype).normal_(0, 1)
            v = empty(w, dtype=weight.dtype).normal_(0, 1)
            self.register_buffer("_u", normalize(u, dim=0, eps=eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=eps))
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*order)
        return weight.flatten(1)

    def _power_method(self, mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(normalize(mat.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None):
    """Spectral normalisation as a parametrization: ``module.<name>`` = W / sigma(W), sigma
    estimated by power iteration on the buffers ``parametrizations.<name>[0]._u``/``._v``
    (updated in training mode on each access; 15 iterations at registration).

    Example::

        >>> m = parametrizations.spectral_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight[0]._u.shape
        chainrule.Size([40])
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..conv import ConvTranspose1d, ConvTranspose2d
        from ..conv3d import ConvTranspose3d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name,
                                         _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
