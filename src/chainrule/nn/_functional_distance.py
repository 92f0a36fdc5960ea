"""Norm-based functions: ``normalize``, ``cosine_similarity``, ``pairwise_distance``, ``pdist``.

Each follows PyTorch 2.13's formula *and* its gradient, so that zero and tiny vectors give the
same finite numbers as PyTorch:

- a vector norm's gradient at the zero vector is 0 (PyTorch's subgradient), for every p;
- ``normalize`` divides by ``max(||x||_p, eps)`` with an ordinary clamp (no gradient through
  the norm where it is clamped);
- ``cosine_similarity`` divides each input by its 2-norm clamped to ``eps`` *without* the
  clamp in the gradient (PyTorch clamps in place under ``no_grad``), so at ``x1 = 0`` the
  gradient is ``x2 / (eps ||x2||)``: large, finite, PyTorch's;
- ``pairwise_distance`` is ``||x1 - x2 + eps||_p`` over the last dimension (eps added to the
  difference, so equal inputs have distance ``eps * D**(1/p)`` and a finite gradient).
"""

from __future__ import annotations

import numpy as np

from ..functions import elementwise as FE
from ..functions import reduction as FR
from ..tensor import Tensor


def _require_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor as input, got "
                           f"{x.dtype} (convert it with .float())")


def _vector_norm(x: Tensor, p: float, dim, keepdim: bool) -> Tensor:
    """||x||_p along ``dim`` with PyTorch's gradient (0 where the norm or an entry is 0)."""
    p = float(p)
    if p == 0.0:  # the count of non-zeros; PyTorch keeps it in the graph with gradient 0
        count = (x != 0).to(x.dtype).sum(dim, keepdim=keepdim)
        return FE.where(count == count, count, x.sum(dim, keepdim=keepdim))
    if p in (1.0, 2.0, float("inf"), -float("inf")):
        return FR.norm(x, p, dim, keepdim)  # these already have PyTorch's gradient at 0
    a = x.abs()
    if p > 0:  # |x|^p with gradient 0 at x = 0, then s^(1/p) with gradient 0 at s = 0
        zero = a == 0
        a = FE.where(zero, 0.0, FE.where(zero, 1.0, a) ** p)
        s = a.sum(dim, keepdim=keepdim)
        zs = s == 0
        return FE.where(zs, 0.0, FE.where(zs, 1.0, s) ** (1.0 / p))
    return (a ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """Divide each vector along ``dim`` by its p-norm: ``v / max(||v||_p, eps)``.

    Args:
        input: a floating tensor of any shape.
        p: the norm's exponent (default 2).
        dim: the dimension (or tuple of dimensions) holding the vectors (default 1).
        eps: the smallest norm divided by (default 1e-12); a zero vector stays zero and its
            gradient is ``grad / eps`` (the clamp has no gradient), as PyTorch.
        out: if given, the result is written into it (not differentiable).

    Shape: output like input.

    Example::

        >>> F.normalize(cr.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    _require_float(input, "normalize")
    denom = _vector_norm(input, p, dim, True).clamp(min=eps)
    result = input / denom
    if out is not None:
        out._data[...] = result._data
        return out
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``:

        sum(x1 * x2) / (max(||x1||_2, eps) * max(||x2||_2, eps))

    Args:
        x1, x2: floating tensors broadcastable to a common shape; ``dim`` indexes it.
        dim: the vector dimension, removed from the output (default 1).
        eps: the smallest norm divided by (default 1e-8).

    Each input is divided by its own clamped norm before the product (the result stays in
    [-1, 1]); as in PyTorch the clamp is not differentiated, so at a zero ``x1`` the gradient
    w.r.t. ``x1`` is ``x2 / (eps ||x2||)`` (finite) and w.r.t. ``x2`` is 0.

    Shape: (*1, D, *2) and broadcastable -> (*1, *2).

    Example::

        >>> F.cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    if x1._data.dtype.kind != "f" and x2._data.dtype.kind != "f":
        raise RuntimeError(f"cosine_similarity: expected common dtype to be floating point, "
                           f"got {x1.dtype} and {x2.dtype}")
    shape = np.broadcast_shapes(x1._data.shape, x2._data.shape)
    x1, x2 = x1.expand(*shape), x2.expand(*shape)

    def unit(x):
        n = _vector_norm(x, 2.0, dim, True)
        clamped = n.detach().clamp(min=eps)
        return x / (n - n.detach() + clamped)  # value max(n, eps), gradient that of n

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """p-norm distance between the rows of ``x1`` and ``x2``: ``||x1 - x2 + eps||_p`` over
    the last dimension of their broadcast shape (eps keeps the gradient finite when the
    inputs are equal; ``p`` may be negative).

    Shape: (N, D) or (D,) each (broadcastable) -> (N) or () (with ``keepdim``: (N, 1), (1)).

    Example::

        >>> F.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]]))
        tensor([5.0000])
    """
    last = max(x1.ndim, x2.ndim) - 1
    return _vector_norm(x1 - x2 + eps, p, last, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """p-norm distances between every pair of rows of an (N, M) input: the upper triangle
    (i < j, row-major) of the N x N distance matrix, shape (N (N - 1) / 2,). The gradient of
    a zero distance is 0, as PyTorch.

    Example::

        >>> F.pdist(cr.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    _require_float(input, "pdist")
    i, j = np.triu_indices(input.shape[0], k=1)
    return _vector_norm(input[i] - input[j], p, 1, False)
