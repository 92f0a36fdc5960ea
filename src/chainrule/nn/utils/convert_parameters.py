"""Flatten parameters into one vector and back (``torch.nn.utils.parameters_to_vector``)."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...functions.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor: every parameter flattened and concatenated (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (in place)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got "
                        f"{type(vec).__name__} of shape {tuple(getattr(vec, 'shape', ()))}")
    params = list(parameters)
    need = sum(p.numel() for p in params)
    if vec.numel() != need:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements but the "
                         f"parameters need {need}")
    i = 0
    arr = vec._data
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(np.reshape(arr[i:i + n], tuple(p.shape)))
            i += n
