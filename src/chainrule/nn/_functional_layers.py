"""Functional layers: linear, bilinear, dropout, normalisation, embedding (see nn.functional)."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import Linear as _Linear
from ..random import _gen
from ..tensor import Tensor


def _shape(t) -> tuple:
    return tuple(t._data.shape)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b (one fused GEMM primitive; three GEMMs in backward).

    Shape: input (*, in_features), weight (out_features, in_features), bias (out_features,),
    output (*, out_features).
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"linear: expected the input to be a chainrule Tensor, got {type(input).__name__} "
            "(wrap arrays with chainrule.tensor(...) or chainrule.from_numpy(...))"
        )
    xs, ws = input._data.shape, weight._data.shape
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"linear: input dtype {input.dtype} and weight dtype {weight.dtype} differ; "
            f"convert the input (x.to({weight.dtype})) or the model (model.to({input.dtype}))"
        )
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(xs)} has {xs[-1] if xs else 0} features in its last "
            f"dimension but the weight of shape {tuple(ws)} expects {ws[-1]} "
            "(weight is (out_features, in_features))"
        )
    return _Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T W_k x2 + b_k.

    Shape: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), output (*, out).
    """
    out_f, in1, in2 = _shape(weight)
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != \
            input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: inputs of shapes {_shape(input1)} and {_shape(input2)} don't match the "
            f"weight of shape {_shape(weight)} (expected (*, {in1}) and (*, {in2}))"
        )
    lead = _shape(input1)[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (N, in1) @ (in1, out * in2) -> (N, out, in2), then contract with x2 over in2
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_f)


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False, generator=None) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by
    1 / (1 - p) in training; the identity otherwise."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = _gen(generator).random(input._data.shape) >= p
    mask = keep.astype(input._data.dtype) * np.asarray(1.0 / (1.0 - p), input._data.dtype)
    m = Tensor._make(mask, False, None, 0)
    return input.mul_(m) if inplace else input * m


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False, generator=None) -> Tensor:
    """Dropout for SELU networks: dropped values are set to -lambda*alpha and an affine map
    a x + b restores zero mean and unit variance (Klambauer et al., 2017)."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha_p = -1.7580993408473766
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    b = -a * alpha_p * p
    keep = _gen(generator).random(input._data.shape) >= p
    dt = input._data.dtype
    scale = Tensor._make((keep * a).astype(dt), False, None, 0)
    shift = Tensor._make((~keep * (a * alpha_p) + b).astype(dt), False, None, 0)
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def _channel_shape(ndim: int, c: int) -> tuple:
    return (1, c) + (1,) * (ndim - 2)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1).

    In training the batch statistics (biased variance) normalise, and the running stats are
    updated in place: running = (1 - momentum) * running + momentum * batch (unbiased
    variance); otherwise the running stats normalise.

    Shape: input (N, C, *) (any number of trailing dims), running stats / weight / bias (C,).
    """
    shape = _shape(input)
    if len(shape) < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {shape}")
    c = shape[1]
    axes = (0,) + tuple(range(2, len(shape)))
    cshape = _channel_shape(len(shape), c)
    if training:
        n = input._data.size // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {shape}"
            )
        mean = input.mean(axes, keepdim=True)
        xc = input - mean
        var = (xc * xc).mean(axes, keepdim=True)
        out = xc * (var + eps).rsqrt()
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean._data.reshape(c) * momentum)
            with no_grad():
                unbiased = var._data.reshape(c) * (n / (n - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
        if weight is not None:
            out = out * weight.reshape(cshape)
        if bias is not None:
            out = out + bias.reshape(cshape)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(cshape) + shift.reshape(cshape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape)
    dims (biased variance)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = _shape(input)
    if shape[len(shape) - len(ns):] != ns:
        raise RuntimeError(
            f"layer_norm: normalized_shape {list(ns)} doesn't match the trailing dims of the "
            f"input of shape {shape}"
        )
    axes = tuple(range(len(shape) - len(ns), len(shape)))
    mean = input.mean(axes, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(axes, keepdim=True)
    out = xc * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each group of C / num_groups channels of each sample, then scale and shift
    per channel. Shape: input (N, C, *)."""
    shape = _shape(input)
    if len(shape) < 2 or shape[1] % num_groups != 0:
        raise RuntimeError(
            f"group_norm: expected input (N, C, *) with C divisible by num_groups={num_groups}, "
            f"got shape {shape}"
        )
    g = input.reshape(shape[0], num_groups, -1)
    mean = g.mean(-1, keepdim=True)
    gc = g - mean
    var = (gc * gc).mean(-1, keepdim=True)
    out = (gc * (var + eps).rsqrt()).reshape(shape)
    cshape = _channel_shape(len(shape), shape[1])
    if weight is not None:
        out = out * weight.reshape(cshape)
    if bias is not None:
        out = out + bias.reshape(cshape)
    return out


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer indices in ``input``.

    The row at ``padding_idx`` receives no gradient; ``max_norm`` renormalises (in place)
    the picked rows whose norm exceeds it; ``scale_grad_by_freq`` divides each row's gradient
    by how often its index occurs in the batch.

    Shape: input (*) integers in [0, num_embeddings), weight (num_embeddings, D),
    output (*, D).
    """
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    v = weight._data.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"embedding: index {bad} is out of range for {v} embeddings "
                         f"(expected 0 <= index < {v})")
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += v
    if max_norm is not None:
        with no_grad():
            rows = np.unique(idx)
            norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
            big = norms > max_norm
            if big.any():
                scale = max_norm / (norms[big] + 1e-7)
                new = weight._data.copy()
                new[rows[big]] *= scale[:, None].astype(new.dtype)
                weight.copy_(new)
    out = weight[Tensor._make(idx, False, None, 0)]
    if not out.requires_grad:
        return out
    if padding_idx is not None and (idx == padding_idx).any():
        pad = Tensor._make((idx == padding_idx)[..., None], False, None, 0)
        out = out.detach().where(pad, out)
    if scale_grad_by_freq:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        freq = counts[inverse.reshape(idx.shape)][..., None].astype(weight._data.dtype)
        frozen = out.detach()
        out = frozen + (out - frozen) / Tensor._make(freq, False, None, 0)
    return out


def _fan_bound(fan_in: int) -> float:
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
