"""Functional channel dropout (``torch.nn.functional.dropout1d/2d/3d``): whole (sample,
channel) slices are zeroed, with PyTorch's warnings for the ranks it accepts."""

from __future__ import annotations

import warnings

import numpy as np

from ..random import _gen
from ..tensor import Tensor


def _feature_dropout(input, p, training, inplace, op, generator=None):  # noqa: A002
    """Zero whole (sample, channel) slices: the mask has shape (N, C, 1, ..., 1)."""
    if not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0:
        return input
    dt = input._data.dtype
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if p == 1:
        mask = np.zeros(shape, dt)
    else:
        keep = _gen(generator).random(shape) >= p
        mask = keep.astype(dt) * np.asarray(1.0 / (1.0 - p), dt)
    m = Tensor._make(mask, False, None, 0)
    return input.mul_(m) if inplace else input * m


def _unbatched(fn, input, batched):  # noqa: A002
    """Run ``fn`` on ``input`` with a batch dimension added when it has none."""
    if batched:
        return fn(input)
    return fn(input.unsqueeze(0)).squeeze(0)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels: y[n, c] = x[n, c] * m[n, c] / (1 - p), m ~ Bernoulli(1 - p).

    Shape: (N, C, H, W), unchanged. As PyTorch 2.13: other ranks warn (a 2-D (N, C) input
    gets element-wise dropout), and a 3-D input is read as (N, C, L), with a warning.

    Example::

        >>> F.dropout2d(cr.ones(2, 4, 3, 3), 0.5)  # each (n, c) plane all 0 or all 2
    """
    nd = input.ndim if isinstance(input, Tensor) else 0
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d")


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) or unbatched (C, L) inputs (see ``dropout2d``)."""
    nd = input.ndim if isinstance(input, Tensor) else 0
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _unbatched(lambda x: _feature_dropout(x, p, training, inplace, "dropout1d"),
                      input, nd == 3)


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""
    nd = input.ndim if isinstance(input, Tensor) else 0
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _unbatched(lambda x: _feature_dropout(x, p, training, inplace, "dropout3d"),
                      input, nd == 5)
