"""More functional layers (``torch.nn.functional``): ``feature_alpha_dropout``,
``pixel_shuffle``/``pixel_unshuffle``, ``channel_shuffle`` and ``embedding_bag``. Composed
from reshape/permute, index and index_add primitives."""

from __future__ import annotations

import numpy as np

from ..creation import zeros
from ..random import _gen
from ..tensor import Tensor
from ._functional_layers import embedding

__all__ = ["channel_shuffle", "embedding_bag", "feature_alpha_dropout",
           "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle"]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: with one draw per (sample, channel), y = a x for a
    kept slice and y = -alpha' a (1 - p)... precisely y = a (k x + alpha' (k - 1)) + a alpha' p
    with k in {0, 1}, alpha' = 1.7580993 (SELU's -saturation) and
    a = ((1 - p)(1 + p alpha'^2))^-1/2, which keeps zero mean and unit variance.

    Args:
        input: (N, C, *) (a 2-D input gets one draw per element, as PyTorch).
        p: probability of dropping a channel.  training: apply (default False).
        inplace: write the result into ``input``.

    Shape: input (N, C, *), output the same.

    Example::

        >>> F.feature_alpha_dropout(cr.randn(2, 8, 4), 0.5, training=True).shape
        chainrule.Size([2, 8, 4])
    """
    _tensor(input, "feature_alpha_dropout")
    if not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0:
        return input
    dt = input._data.dtype
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    alpha = 1.7580993408473766
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    keep = (_gen(None).random(shape) >= p).astype(np.float64)
    scale = _const((keep * a).astype(dt))
    shift = _const(((keep - 1) * alpha * a + alpha * a * p).astype(dt))
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def _factor(v, what, op):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{op}: {what} must be a positive integer, got {v!r}")
    return int(v)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange channels into space (Shi et al., 2016, sub-pixel convolution):
    y[.., c, h r + i, w r + j] = x[.., c r^2 + i r + j, h, w].

    Args: upscale_factor: r.
    Shape: (*, C r^2, H, W) -> (*, C, H r, W r).

    Example::

        >>> F.pixel_shuffle(cr.randn(1, 9, 4, 4), 3).shape
        chainrule.Size([1, 1, 12, 12])
    """
    _tensor(input, "pixel_shuffle")
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """The inverse of ``pixel_shuffle``: y[.., c r^2 + i r + j, h, w] = x[.., c, h r + i, w r + j].

    Args: downscale_factor: r.
    Shape: (*, C, H r, W r) -> (*, C r^2, H, W).

    Example::

        >>> F.pixel_unshuffle(cr.randn(1, 1, 12, 12), 3).shape
        chainrule.Size([1, 9, 4, 4])
    """
    _tensor(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        which, size = ("height", h) if h % r else ("width", w)
        raise RuntimeError(f"pixel_unshuffle expects {which} to be divisible by "
                           f"downscale_factor, but input.size({-2 if which == 'height' else -1})"
                           f"={size} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave channel groups (ShuffleNet, Zhang et al., 2017): the channels, seen as a
    (groups, C / groups) grid, are transposed: y[:, j g + i] = x[:, i (C/g) + j].

    Args: groups: g, dividing C.
    Shape: (N, C, *) -> (N, C, *).

    Example::

        >>> F.channel_shuffle(cr.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    _tensor(input, "channel_shuffle")
    g = _factor(groups, "groups", "channel_shuffle")
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle


def _bags(idx, offsets, include_last_offset):
    """(bag of every index position, number of bags) for 1-D input with offsets."""
    off = np.asarray(offsets, dtype=np.int64).reshape(-1)
    n = idx.shape[0]
    if off.size == 0 or off[0] != 0:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor starting with 0, got "
                         f"{off.tolist()[:8]}")
    if np.any(np.diff(off) < 0) or off[-1] > n:
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the input "
                         f"length {n}, got {off.tolist()[:8]}")
    if include_last_offset:  # as ATen: the last bag runs to the end of the input
        nbags, ends = off.size - 1, np.append(off[1:-1], n)
    else:
        nbags, ends = off.size, np.append(off[1:], n)
    # bag b holds positions off[b] <= j < ends[b]; positions past the last end get nbags
    bag = np.searchsorted(ends, np.arange(n), side="right")
    return bag, nbags


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without materialising the
    (bag, index, D) tensor: out[b] = reduce_{i in bag b} w_i W[input_i].

    Args:
        input: (B, N) indices (B bags of N), or 1-D indices cut into bags by ``offsets``.
        weight: (num_embeddings, D) table.  offsets: 1-D start positions (1-D input only).
        max_norm, norm_type: renormalise the looked-up rows in place, as ``embedding``.
        scale_grad_by_freq: divide row gradients by their frequency in the batch.
        mode: "sum", "mean" or "max".  per_sample_weights: weights like input ("sum" only).
        include_last_offset: offsets has B + 1 entries, the last one the input length.
        padding_idx: entries equal to it are left out of their bag (and of its count).
        sparse: sparse gradients are not supported (NotImplementedError).

    Shape: output (B, D); an empty bag gives zeros.

    Example::

        >>> w = cr.arange(6.0).reshape(3, 2)
        >>> F.embedding_bag(cr.tensor([0, 2, 1]), w, cr.tensor([0, 2]), mode="sum")
        tensor([[4., 6.],
                [2., 3.]])
    """
    _tensor(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse gradients are not supported by chainrule")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    idx = input._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets).__name__}")
        nbags, length = idx.shape
        bag = np.repeat(np.arange(nbags), length)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        bag, nbags = _bags(idx, offsets._data if isinstance(offsets, Tensor) else offsets,
                           include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    flat = idx.reshape(-1)
    v, d = weight.shape
    if padding_idx is not None and padding_idx < 0:
        padding_idx += v
    keep = bag < nbags
    if padding_idx is not None:
        keep &= flat != padding_idx
    rows = embedding(_const(flat[keep]), weight, None, max_norm, norm_type, scale_grad_by_freq)
    bag = bag[keep]
    counts = np.bincount(bag, minlength=nbags)
    if mode == "max":
        if bag.size == 0:
            return zeros(nbags, d, dtype=weight.dtype)
        order = np.argsort(bag, kind="stable")  # rows of each bag contiguous, original order
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        vals = rows._data[order]
        full = counts > 0
        # the first maximum of each (bag, column): position of the max within the sorted rows
        best = np.zeros((nbags, d), np.int64)
        for b in np.nonzero(full)[0]:
            seg = vals[starts[b]:starts[b] + counts[b]]
            best[b] = order[starts[b] + np.argmax(seg, axis=0)]
        out = rows.gather(0, _const(best))
        if not full.all():
            out = out * _const(full[:, None].astype(out._data.dtype))
        return out
    if per_sample_weights is not None:
        w = per_sample_weights.reshape(-1)[_const(np.nonzero(keep)[0])]
        rows = rows * w.unsqueeze(1)
    if mode == "mean":
        scale = 1.0 / np.maximum(counts, 1)
        rows = rows * _const(scale[bag][:, None].astype(rows._data.dtype))
    out = zeros(nbags, d, dtype=rows.dtype)
    return out.index_add(0, _const(bag.astype(np.int64)), rows)
