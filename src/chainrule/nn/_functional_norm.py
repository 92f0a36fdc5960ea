"""Functional normalisations (``torch.nn.functional``): ``instance_norm``,
``local_response_norm``, ``rms_norm``; and the legacy cross-map LRN of ``nn.CrossMapLRN2d``.
Composed from primitives (mean, rsqrt, pow, matmul), so every derivative order works."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["instance_norm", "local_response_norm", "rms_norm"]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation (Ulyanov et al., 2016): every (sample, channel) slice is
    normalised over its spatial positions, y = (x - mean) / sqrt(var + eps) * w_c + b_c
    (biased variance).

    With ``use_input_stats`` the slice statistics normalise and, if running statistics are
    given, they are updated in place with the batch average of the slice statistics:
    running = (1 - momentum) running + momentum mean_n(stat) (unbiased variance). Without
    it the running statistics normalise (evaluation with tracked statistics).

    Args:
        input: (N, C, *spatial).
        running_mean, running_var: (C,) or None.  weight, bias: (C,) or None.
        use_input_stats: normalise with the input's statistics (default True).
        momentum: running-statistics update rate.  eps: added to the variance.

    Shape: (N, C, *) -> (N, C, *).

    Example::

        >>> y = F.instance_norm(cr.randn(2, 3, 8, 8))
        >>> y.mean((2, 3)).abs().max() < 1e-6
        tensor(True)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm: input must be a Tensor, got {type(input).__name__}")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got {shape}")
    c = shape[1]
    axes = tuple(range(2, len(shape)))
    cshape = (1, c) + (1,) * (len(shape) - 2)
    if use_input_stats:
        m = int(np.prod(shape[2:]))
        if m <= 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size {list(shape)}"
            )
        mean = input.mean(axes, keepdim=True)
        xc = input - mean
        var = (xc * xc).mean(axes, keepdim=True)
        out = xc * (var + eps).rsqrt()
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    batch = mean._data.reshape(shape[0], c).mean(0)
                    running_mean.mul_(1 - momentum).add_(batch * momentum)
                if running_var is not None:
                    batch = var._data.reshape(shape[0], c).mean(0) * (m / (m - 1))
                    running_var.mul_(1 - momentum).add_(batch * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        out = (input - running_mean.reshape(cshape)) * (running_var.reshape(cshape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(cshape)
    if bias is not None:
        out = out + bias.reshape(cshape)
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,  # noqa: A002
                        k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (Krizhevsky et al., 2012):
    y_c = x_c / (k + alpha / n * sum_{c'} x_{c'}^2)^beta, the sum over the n = ``size``
    channels c - n//2 .. c + (n-1)//2 (zero beyond the ends; always divided by n).

    Args:
        input: (N, C, *) with at least one spatial dim.
        size: channels in the window.  alpha, beta, k: the formula's constants.

    Shape: (N, C, *) -> (N, C, *).

    Example::

        >>> F.local_response_norm(cr.randn(2, 8, 5, 5), size=3).shape
        chainrule.Size([2, 8, 5, 5])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"local_response_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    div = _channel_window_sum(input * input, _lrn_window(input.shape[1], size)) * (1.0 / size)
    return input / (div * alpha + k).pow(beta)


def _lrn_window(c, size):
    """(C, C) 0/1 matrix: row c marks the channels c - size//2 .. c + (size-1)//2."""
    i = np.arange(c)
    d = i[None, :] - i[:, None]
    return (d >= -(size // 2)) & (d <= (size - 1) // 2)


def _cross_map_window(c, size):
    """(C, C) window of PyTorch's legacy CrossMapLRN2d, written out from its running-sum
    loop: channel 0 .. c + pre - 1 for c <= pre, then channel 0 (never removed by that
    loop) and c - pre + 1 .. c + pre - 1, where pre = (size - 1) // 2 + 1."""
    pre = int((size - 1) / 2 + 1)
    m = np.zeros((c, c), bool)
    for ch in range(c):
        hi = min(ch + pre - 1, c - 1)
        lo = 0 if ch <= pre else ch - pre + 1
        m[ch, lo:hi + 1] = True
        m[ch, 0] = True
    return m


def _channel_window_sum(sq: Tensor, window: np.ndarray) -> Tensor:
    """out[:, c] = sum over window[c] of sq[:, c'] (one matmul along the channel axis)."""
    w = _const(window.astype(sq._data.dtype))
    moved = sq.movedim(1, -1)  # (N, *, C)
    return (moved @ w.mT).movedim(-1, 1)


def cross_map_lrn2d(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,  # noqa: A002
                    k: float = 1.0) -> Tensor:
    """PyTorch's legacy ``CrossMapLRN2d``: y = x (k + alpha / size * sum_window x^2)^-beta
    with that module's channel window (see ``_cross_map_window``). 4-D input only."""
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    scale = _channel_window_sum(input * input, _cross_map_window(input.shape[1], size))
    return input * (scale * (alpha / size) + k).pow(-beta)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation (Zhang & Sennrich, 2019) over the trailing dims:
    y = x / sqrt(mean(x^2) + eps) * weight; ``eps`` None means the dtype's machine epsilon.

    Args:
        input: (*, *normalized_shape).  normalized_shape: int or tuple.
        weight: normalized_shape-shaped scale or None.  eps: added to the mean square.

    Shape: input (*, *normalized_shape), output the same.

    Example::

        >>> F.rms_norm(cr.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rms_norm: input must be a Tensor, got {type(input).__name__}")
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = tuple(input.shape)
    if len(ns) > len(shape) or shape[len(shape) - len(ns):] != ns:
        raise RuntimeError(
            f"rms_norm: normalized_shape {list(ns)} doesn't match the trailing dims of the "
            f"input of shape {shape} (expected input of shape [*, {', '.join(map(str, ns))}])"
        )
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"rms_norm: weight of shape {tuple(weight.shape)} must have the "
                           f"normalized shape {ns}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(len(shape) - len(ns), len(shape)))
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out
