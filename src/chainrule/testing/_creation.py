"""``make_tensor``: a random tensor of a given shape and dtype, for tests
(``torch.testing.make_tensor``), drawn from chainrule's generator (``manual_seed`` applies)."""

from __future__ import annotations

import collections.abc
import math
import warnings

from .. import _dtype
from .._device import check_cpu
from ..creation import empty, randint
from ..dtype_info import finfo, iinfo

_INTEGRAL = (_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64)
_FLOATING = (_dtype.float16, _dtype.float32, _dtype.float64)


def _bounds(low, high, dtype, lowest, highest, default_low, default_high):
    """``low``/``high`` defaulted, checked and clamped into ``[lowest, highest)``."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype in _FLOATING:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. "
                      "Use `torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype not in _FLOATING:  # integers: ceil both (randint's high is exclusive)
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)``.

    Default ranges: bool [0, 2) (False/True), unsigned integers [0, 10), signed integers
    [-9, 10), floating [-9, 9). Bounds beyond the dtype's finite range are clamped to it.

    Args:
        shape: integers, or one sequence of them (``make_tensor(2, 3, ...)`` or
            ``make_tensor((2, 3), ...)``); none for a 0-dimensional tensor.
        dtype: bool, uint8, int8, int16, int32, int64, float16, float32 or float64.
        device: ``"cpu"`` (chainrule's only device).
        low, high: the inclusive lower and exclusive upper bound.
        requires_grad: floating dtypes only.
        noncontiguous: return a strided view (every second element of a tensor twice as wide
            in the last dimension); ignored below two elements. Excludes ``memory_format``.
        exclude_zero: replace zeros by 1 (bool, integers) or the dtype's ``finfo.tiny``.
        memory_format: passed to ``clone``.

    Raises:
        ValueError: ``low >= high``, a NaN bound, an interval outside the dtype,
            ``requires_grad`` with a bool/integer dtype, ``noncontiguous`` with
            ``memory_format``.
        TypeError: a dtype this function does not support.

    Example::

        >>> make_tensor(2, 3, dtype=chainrule.float32, device="cpu", low=0, high=1).shape
        chainrule.Size([2, 3])
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and (dtype is _dtype.bool_ or dtype in _INTEGRAL):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")
    check_cpu(device, "make_tensor")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice as wide: the view's neighbours differ
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is _dtype.bool_:
        low, high = _bounds(low, high, dtype, 0, 2, 0, 2)
        result = randint(low, high, shape, dtype=dtype)
    elif dtype in _INTEGRAL:
        info = iinfo(dtype)
        # randint draws in int64, so int64's own maximum cannot be drawn (as in PyTorch)
        top = info.max + (1 if dtype is not _dtype.int64 else 0)
        low, high = _bounds(low, high, dtype, info.min, top, -9, 10)
        result = randint(low, high, shape, dtype=dtype)
    elif dtype in _FLOATING:
        info = finfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max, -9, 9)
        result = empty(shape, dtype=dtype)
        if high - low >= info.max:  # the width itself would overflow: draw half, double
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        "chainrule.testing.make_tensor(): chainrule's dtypes are bool, uint8, "
                        "int8, int16, int32, int64, float16, float32 and float64")
    if noncontiguous:
        result = result[..., 1::2]  # offset 1 also catches offset bugs
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = finfo(dtype).tiny if dtype in _FLOATING else 1
    if dtype in _FLOATING:
        result.requires_grad = requires_grad
    return result
