"""The rest of ``torch.nn.functional``'s namespace: the ``__torch_function__`` helpers (no
tensor subclass overrides functions in chainrule, so ``has_torch_function*`` is always
False), ``boolean_dispatch``, ``assert_int_or_pair``, ``grouped_mm`` (grouped matrix
products, as mixture-of-experts layers use) and the refused low-precision ``scaled_mm``."""

from __future__ import annotations

import enum
from collections.abc import Callable  # noqa: F401  (PyTorch's namespace has these names)
from typing import Optional  # noqa: F401

import numpy as np

from .._dtype import dtype as DType  # noqa: F401,N812
from ..functions.shape import cat, stack
from ..tensor import Tensor

__all__ = [
    "ScalingType", "SwizzleType", "assert_int_or_pair", "boolean_dispatch", "grouped_mm",
    "handle_torch_function", "has_torch_function", "has_torch_function_unary",
    "has_torch_function_variadic", "scaled_grouped_mm", "scaled_mm",
]


def has_torch_function(relevant_args) -> bool:
    """False: no chainrule tensor overrides functions (PyTorch's ``__torch_function__``)."""
    return False


def has_torch_function_unary(arg) -> bool:
    return False


def has_torch_function_variadic(*args) -> bool:
    return False


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    raise RuntimeError("handle_torch_function: chainrule has no __torch_function__ overrides "
                       "(has_torch_function is always False)")


def boolean_dispatch(arg_name, arg_index, default, if_true, if_false, module_name, func_name):
    """A function calling ``if_true`` or ``if_false`` by the boolean argument ``arg_name``
    (positional index ``arg_index``, default ``default``), as PyTorch builds max_pool2d."""
    def fn(*args, **kwargs):
        flag = kwargs[arg_name] if arg_name in kwargs else (
            args[arg_index] if arg_index < len(args) else default)
        return if_true(*args, **kwargs) if flag else if_false(*args, **kwargs)

    if module_name is not None:
        fn.__module__ = module_name
    if func_name is not None:
        fn.__name__ = func_name
    fn.__doc__ = if_true.__doc__ or if_false.__doc__
    return fn


def assert_int_or_pair(arg, arg_name: str, message: str) -> None:
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))


def _groups(offs, total, what):
    ends = np.asarray(offs._data if isinstance(offs, Tensor) else offs, np.int64).reshape(-1)
    starts = np.concatenate(([0], ends[:-1]))
    return [(int(a), int(min(b, total))) for a, b in zip(starts, ends)]


def grouped_mm(mat_a: Tensor, mat_b: Tensor, *, offs: Tensor | None = None,
               bias: Tensor | None = None, out_dtype=None) -> Tensor:
    """Grouped matrix products (PyTorch 2.13): with offs (cumulative group ends),
    2-D x 3-D: rows of mat_a in group g times mat_b[g] -> (M, N);
    3-D x 2-D: columns of mat_b in group g by mat_a[g] -> (M, N);
    2-D x 2-D: the K slice of group g -> (G, M, N); without offs, 3-D x 3-D is a batched
    matmul. Differentiable (matmuls of slices).

    Example::

        >>> F.grouped_mm(cr.randn(6, 4), cr.randn(3, 4, 5), offs=cr.tensor([2, 4, 6])).shape
        chainrule.Size([6, 5])
    """
    if bias is not None:
        raise NotImplementedError("grouped_mm: bias is not supported (nor by PyTorch's kernels)")
    if (offs is None) != (mat_a.ndim == 3 and mat_b.ndim == 3):
        raise RuntimeError("Have to provide offsets if there is a 2d matrix, or no offset if "
                           "both matrices are 3d")
    if mat_a.ndim == 3 and mat_b.ndim == 3:
        out = mat_a @ mat_b
    elif mat_a.ndim == 2 and mat_b.ndim == 3:
        out = cat([mat_a[a:b] @ mat_b[g] for g, (a, b) in
                   enumerate(_groups(offs, mat_a.shape[0], "rows"))], 0)
    elif mat_a.ndim == 3 and mat_b.ndim == 2:
        out = cat([mat_a[g] @ mat_b[:, a:b] for g, (a, b) in
                   enumerate(_groups(offs, mat_b.shape[1], "columns"))], 1)
    elif mat_a.ndim == 2 and mat_b.ndim == 2:
        out = stack([mat_a[:, a:b] @ mat_b[a:b] for a, b in
                     _groups(offs, mat_a.shape[1], "K")], 0)
    else:
        raise RuntimeError(f"grouped_mm: expected 2-D or 3-D matrices, got {mat_a.ndim}-D and "
                           f"{mat_b.ndim}-D")
    return out if out_dtype is None else out.to(out_dtype)


class ScalingType(enum.Enum):
    """Scaling recipes of ``scaled_mm`` (PyTorch's names; low-precision GPU kernels)."""

    TensorWise = 0
    RowWise = 1
    BlockWise1x16 = 2
    BlockWise1x32 = 3
    BlockWise1x128 = 4
    BlockWise128x128 = 5


class SwizzleType(enum.Enum):
    NO_SWIZZLE = 0
    SWIZZLE_32_4_4 = 1


def scaled_mm(*args, **kwargs):
    raise NotImplementedError("scaled_mm: FP8/FP4 scaled matrix products need low-precision GPU "
                              "kernels; chainrule has no float8 dtypes (use matmul)")


def scaled_grouped_mm(*args, **kwargs):
    raise NotImplementedError("scaled_grouped_mm: FP8 grouped products need low-precision GPU "
                              "kernels; chainrule has no float8 dtypes (use grouped_mm)")
