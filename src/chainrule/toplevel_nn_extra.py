"""PyTorch's top-level operators that return more than the functional API does, and a few
legacy ones: ``native_dropout`` / ``native_layer_norm`` / ``native_batch_norm`` /
``native_group_norm`` (the output and the saved statistics), ``embedding_bag`` (its four
tensors), ``frobenius_norm`` / ``nuclear_norm``, the randomized ``svd_lowrank`` /
``pca_lowrank`` (Halko, Martinsson and Tropp, 2011), the autocast switches
(``chainrule.amp.autocast_state``), ``torch.cpu`` and ``torch.GradScaler``.

The outputs are computed by ``chainrule.nn.functional``; the statistics are the ones PyTorch
saves for its backward pass (mean and 1 / sqrt(var + eps), biased variance).
"""

from __future__ import annotations

import numpy as np

from . import cpu  # noqa: F401  (torch.cpu)
from . import linalg
from .amp import GradScaler  # noqa: F401  (torch.GradScaler)
from .amp.autocast_state import *  # noqa: F401,F403
from .amp.autocast_state import __all__ as _AUTOCAST
from .creation import randn
from .nn import functional as F
from .nn._functional_layers_extra import _bags
from .random import _gen
from .tensor import Tensor


def _const(arr) -> Tensor:
    return Tensor._make(np.ascontiguousarray(arr), False, None, 0)


def native_dropout(input, p, train):  # noqa: A002
    """(output, mask): output = input * mask / (1 - p) with mask a bool tensor, True where an
    element is kept (probability 1 - p). ``train=False`` gives (a copy of input, all True);
    ``train=None`` counts as training, as ATen."""
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    arr = input._data
    if train is not None and not train:
        return input.clone(), _const(np.ones(arr.shape, bool))
    keep = _gen(None).random(arr.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return input * _const((keep * scale).astype(arr.dtype)), _const(keep)


def _stats(arr, axes, eps, keepdims):
    mean = arr.mean(axis=axes, keepdims=True)
    var = ((arr - mean) ** 2).mean(axis=axes, keepdims=keepdims)
    rstd = 1.0 / np.sqrt(var + eps)
    return (mean if keepdims else mean.squeeze(axes)), rstd


def native_layer_norm(input, normalized_shape, weight, bias, eps):  # noqa: A002
    """(output, mean, rstd) of ``layer_norm``; mean and rstd have the input's leading dims and
    size 1 in each normalized dim, and carry no gradient (as PyTorch's)."""
    out = F.layer_norm(input, normalized_shape, weight, bias, eps)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    mean, rstd = _stats(input._data, axes, eps, True)
    return out, _const(mean), _const(rstd)


def native_batch_norm(input, weight, bias, running_mean, running_var, training,  # noqa: A002
                      momentum, eps):
    """(output, save_mean, save_invstd) of ``batch_norm``: in training the batch mean and
    1 / sqrt(biased var + eps) per channel (C,), and the running stats updated in place;
    in evaluation two empty tensors (0,)."""
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean must be defined in evaluation mode")
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    arr = input._data
    if not training:
        empty = np.zeros(0, arr.dtype)
        return out, _const(empty), _const(empty.copy())
    axes = (0,) + tuple(range(2, arr.ndim))
    mean, rstd = _stats(arr, axes, eps, False)
    return out, _const(mean.astype(arr.dtype)), _const(rstd.astype(arr.dtype))


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):  # noqa: A002,N803
    """(output, mean, rstd) of ``group_norm`` with ``group`` groups; the input holds
    N * C * HxW elements and mean, rstd have shape (N, group). All three are differentiable
    tensors of the input (PyTorch's backward ignores the gradients of mean and rstd)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"native_group_norm: expected the input to hold N * C * HxW = "
                           f"{N} * {C} * {HxW} = {N * C * HxW} elements, got shape "
                           f"{tuple(input.shape)}")
    g = input.reshape(N, group, -1)
    mean = g.mean(-1)
    centred = g - mean.unsqueeze(-1)
    rstd = ((centred * centred).mean(-1) + eps).rsqrt()
    out = F.group_norm(input, group, weight, bias, eps)
    return out, mean, rstd


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices) of ATen's embedding bag: ``mode`` 0 sum,
    1 mean, 2 max over the bags that ``offsets`` cuts ``indices`` (1-D) into.

    The three int64 companions are the ones PyTorch returns: ``offset2bag`` the bag of each
    index (empty for mode 0), ``bag_size`` each bag's count without padding (zeros for mode
    0 in float32), ``max_indices`` the winning row per (bag, column) in mode 2, else ``bag_size`` (mode 1)
    or zeros (mode 0). A negative ``padding_idx`` means none.
    """
    if mode not in (0, 1, 2):
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got "
                           f"{mode}")
    pad = padding_idx if padding_idx is not None and padding_idx >= 0 else None
    idx = indices._data.reshape(-1) if indices.ndim == 2 else indices._data
    off = offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets)
    if indices.ndim == 2:  # ATen takes (B, L) indices as B bags of L, offsets ignored
        off = np.arange(0, idx.size, indices.shape[1])
    out = F.embedding_bag(_const(idx), weight, _const(off), None, 2, scale_grad_by_freq,
                          _BAG_MODES[mode], sparse, per_sample_weights, include_last_offset,
                          pad)
    bag, nbags = _bags(idx, off, include_last_offset)
    kept = bag < nbags
    if pad is not None:
        kept &= idx != pad
    sizes = np.bincount(bag[kept], minlength=nbags).astype(np.int64)
    offset2bag = _const(np.minimum(bag, nbags - 1).astype(np.int64))
    if mode == 0:  # ATen's float32 sum path leaves offset2bag empty
        zeros = np.zeros(nbags, np.int64)
        if weight._data.dtype == np.float32:
            offset2bag = _const(np.zeros(0, np.int64))
        return out, offset2bag, _const(zeros), _const(zeros.copy())
    if mode == 1:
        return out, offset2bag, _const(sizes), _const(sizes.copy())
    return out, offset2bag, _const(sizes), _const(_max_rows(weight._data, idx, bag, kept,
                                                            nbags))


def _max_rows(w, idx, bag, kept, nbags):
    """The row index of ``w`` holding each (bag, column)'s first maximum (0 for an empty
    bag)."""
    best = np.zeros((nbags, w.shape[1]), np.int64)
    for b in range(nbags):
        rows = idx[kept & (bag == b)]
        if rows.size:
            best[b] = rows[np.argmax(w[rows], axis=0)]
    return best


def frobenius_norm(input, dim, keepdim=False):  # noqa: A002
    """sqrt(sum x^2) over ``dim`` (at most two dims; ``[]`` for all), as PyTorch's legacy
    operator: ``linalg.vector_norm(input, 2, dim, keepdim)``."""
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           "instead.")
    return linalg.vector_norm(input, 2, tuple(dims) or None, keepdim)


def nuclear_norm(input, dim=None, keepdim=False):  # noqa: A002
    """The sum of singular values over the matrix dims ``dim`` (default the last two).
    PyTorch's overloads ``nuclear_norm(input, keepdim=False)`` and
    ``nuclear_norm(input, dim, keepdim=False)``: a bool second argument is ``keepdim``."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None:
        if input.ndim != 2:
            raise RuntimeError(f"Expected a tensor with 2 dimensions, but got a tensor with "
                               f"{input.ndim} dimensions instead.")
        dim = (-2, -1)
    if len(dim) != 2:
        raise RuntimeError(f"nuclear_norm: dim must name two dims, got {list(dim)}")
    return linalg.matrix_norm(input, "nuc", tuple(dim), keepdim)


def _basis(A, q, niter, M):  # noqa: N803
    """An orthonormal (m, q) basis Q with A ~ Q Q^H A: q Gaussian probes through A, then
    ``niter`` rounds of power iteration, re-orthonormalised by QR at each product."""
    R = randn(A.shape[-1], q, dtype=A.dtype)  # noqa: N806

    def apply(mat, extra, x):
        y = mat.matmul(x)
        return y if extra is None else y - extra.matmul(x)

    Q = linalg.qr(apply(A, M, R)).Q  # noqa: N806
    for _ in range(niter):
        Q = linalg.qr(apply(A.mH, None if M is None else M.mH, Q)).Q  # noqa: N806
        Q = linalg.qr(apply(A, M, Q)).Q  # noqa: N806
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    """(U, S, V) of a rank-q approximation of A - M: A - M ~ U diag(S) V^H, by the randomized
    range finder (``niter`` power iterations) and the SVD of the small q x n projection.

    Args:
        A: (*, m, n). q: the rank (default 6). niter: power iterations (default 2).
        M: subtracted from A (broadcast to its shape), or None.

    Shape: U (*, m, q), S (*, q), V (*, n, q).

    Example::

        >>> U, S, V = torch.svd_lowrank(torch.randn(50, 4) @ torch.randn(4, 30), q=4)
        >>> U.shape, S.shape, V.shape
        (chainrule.Size([50, 4]), chainrule.Size([4]), chainrule.Size([30, 4]))
    """
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)  # noqa: N806
    if m < n:
        A = A.mH  # noqa: N806
        M = None if M is None else M.mH  # noqa: N806
    Q = _basis(A, q, niter, M)  # noqa: N806
    B = Q.mH.matmul(A)  # noqa: N806
    if M is not None:
        B = B - Q.mH.matmul(M)  # noqa: N806
    U, S, Vh = linalg.svd(B, full_matrices=False)  # noqa: N806
    U, V = Q.matmul(U), Vh.mH  # noqa: N806
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):  # noqa: N803
    """(U, S, V) of the principal components of A's rows: ``svd_lowrank`` of A minus its
    column means (``center``), with q = min(6, m, n) by default. The projections on the
    first k components are ``A @ V[:, :k]``.

    Shape: A (*, m, n); U (*, m, q), S (*, q), V (*, n, q).
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter, None)
    return svd_lowrank(A - A.mean(-2, keepdim=True), q, niter, None)


__all__ = [
    "GradScaler", "cpu", "embedding_bag", "frobenius_norm", "native_batch_norm",
    "native_dropout", "native_group_norm", "native_layer_norm", "nuclear_norm",
    "pca_lowrank", "svd_lowrank",
] + list(_AUTOCAST)
