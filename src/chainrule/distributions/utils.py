"""Helpers shared by the distributions (``torch.distributions.utils``): broadcasting of
parameters, logits <-> probabilities, ``lazy_property``, triangular packing."""

from __future__ import annotations

import numbers
from functools import update_wrapper

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import enable_grad
from ..random import default_generator
from ..functions.shape import broadcast_tensors
from ..tensor import Size, Tensor

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix"]


class finfo:  # noqa: N801 - the few fields of torch.finfo the distributions read
    """Machine limits of a floating chainrule dtype: ``eps``, ``tiny``, ``max``, ``min``."""

    def __init__(self, dtype=None):
        d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
        info = np.finfo(d.np)
        self.eps, self.tiny = float(info.eps), float(info.tiny)
        self.max, self.min = float(info.max), float(info.min)
        self.resolution, self.bits, self.dtype = float(info.resolution), info.bits, d.name


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers become tensors of the first
    tensor's dtype (the default dtype if there is none).

    Example::

        loc, scale = broadcast_all(cr.zeros(3), 1.0)   # both of shape (3,)
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        np_dtype = _dtype.get_default_dtype().np
        for v in values:
            if isinstance(v, Tensor):
                np_dtype = v._data.dtype
                break
        values = [v if isinstance(v, Tensor) else Tensor._make(np.array(v, np_dtype), False,
                                                                None, 0) for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None) -> Tensor:
    """N(0, 1) draws of ``shape`` from the default generator (dtype: a chainrule dtype)."""
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else _dtype.get_default_dtype().np
    arr = default_generator._rng.standard_normal(tuple(shape)).astype(np_dtype)
    return Tensor._make(arr, False, None, 0)


def _uniform(shape, dtype, low=0.0) -> Tensor:
    """U[low, 1) draws (``low``: e.g. finfo.tiny, so that log(u) is finite)."""
    arr = default_generator._rng.random(tuple(shape))
    if low:
        np.maximum(arr, low, out=arr)
    return Tensor._make(arr.astype(_dtype.to_dtype(dtype).np), False, None, 0)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) if ``is_binary``, else softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamp into [eps, 1 - eps] (eps of the dtype), so that logs stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log(p) - log(1 - p) if ``is_binary``, else log(p) (unnormalised logits)."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:  # noqa: N801 - torch's name
    """A property computed on first access and then stored on the instance (so the
    distribution's ``__init__`` may give either of two parameterisations)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):  # noqa: N801
    """What ``Class.attr`` returns: both a lazy_property and a property (for docs)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag):
    r = np.arange(n)
    return r[None, :] < r[:, None] + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (from diagonal ``diag``) of the last two dims, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _wrap(_tril_mask(n, diag))]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of ``tril_matrix_to_vec``: a (..., D, D) matrix, zeros above the triangle."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mask = _wrap(_tril_mask(n, diag))
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., mask] = vec
    return mat


def broadcast_shapes(*shapes) -> Size:
    """The broadcast of several shapes (``torch.broadcast_shapes``)."""
    try:
        return Size(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise RuntimeError("Shape mismatch: objects cannot be broadcast to a single shape: "
                           + ", ".join(str(tuple(s)) for s in shapes)) from None


def _physical(x) -> np.ndarray:
    """The array behind a tensor or array, with vmap's batch dims (all of them) included."""
    from ..func._batched import BatchedArray

    arr = x._data if isinstance(x, Tensor) else x
    while isinstance(arr, BatchedArray):
        arr = arr._phys()
    return np.asarray(arr)


def all_true(x) -> bool:
    """Whether every element of ``x`` is true, across vmap's batch too (validation checks
    stay Python ``if``s inside ``vmap``, as ``torch._is_all_true`` allows)."""
    return bool(np.all(_physical(x)))


def any_true(x) -> bool:
    """Whether some element of ``x`` is true (see ``all_true``)."""
    return bool(np.any(_physical(x)))


def _wrap(arr) -> Tensor:
    """A constant tensor holding the NumPy array ``arr`` as it is (dtype kept)."""
    return Tensor._make(np.asarray(arr), False, None, 0)


def _size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(tuple(int(s) for s in shape))
