"""Functional losses (see nn.functional); PyTorch's formulas, reductions and defaults.

Each takes ``reduction`` in {'mean', 'sum', 'none'}. Elementwise losses whose input and
target shapes differ raise instead of broadcasting (PyTorch only warns), because an (N, 1)
prediction against an (N,) target silently computes an (N, N) loss.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.nn_ops import BCEWithLogits, BinaryCrossEntropy, CrossEntropy
from ..tensor import Tensor
from ..functions.elementwise import where


def _const(arr) -> Tensor:
    return Tensor._make(np.asarray(arr), False, None, 0)


def _legacy(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                     "(expected 'mean', 'sum' or 'none')")


def _check_same(op: str, input, target) -> None:  # noqa: A002
    a, b = tuple(input.shape), tuple(np.shape(target._data if isinstance(target, Tensor)
                                                else target))
    if a == b:
        return
    try:
        both = tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ValueError(f"{op}: input shape {a} and target shape {b} differ and don't "
                         "broadcast; they must be equal") from None
    hint = "Make the two shapes equal."
    if a == b + (1,):
        hint = (f"Reshape the target with target.view(-1, 1) or the input with "
                f"input.squeeze({len(a) - 1})")
    elif b == a + (1,):
        hint = (f"Reshape the input with input.view(-1, 1) or the target with "
                f"target.squeeze({len(b) - 1})")
    raise ValueError(f"{op}: input shape {a} and target shape {b} differ; they would broadcast "
                     f"to {both}. {hint}")


def _as_tensor(t, like: Tensor) -> Tensor:
    if isinstance(t, Tensor):
        return t
    return _const(np.asarray(t, like._data.dtype))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
             *, _op="mse_loss"):
    """(x - y)^2, reduced."""
    _check_same(_op, input, target)
    d = input - target
    return _reduce(d * d, _legacy(size_average, reduce, reduction), _op)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
            *, _op="l1_loss"):
    """|x - y|, reduced."""
    _check_same(_op, input, target)
    return _reduce((input - target).abs(), _legacy(size_average, reduce, reduction), _op)


def huber_loss(input, target, reduction="mean", delta=1.0, *, _op="huber_loss"):  # noqa: A002
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (d = x - y)."""
    if delta <= 0:
        raise ValueError(f"{_op}: delta must be positive, got {delta}")
    _check_same(_op, input, target)
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _reduce(loss, reduction, _op)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                   beta=1.0, *, _op="smooth_l1_loss"):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (L1 when beta = 0)."""
    if beta < 0:
        raise ValueError(f"{_op}: beta must be non-negative, got {beta}")
    _check_same(_op, input, target)
    reduction = _legacy(size_average, reduce, reduction)
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction, _op)
    loss = where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction, _op)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean", *, _op="binary_cross_entropy"):
    """-w (y log x + (1 - y) log(1 - x)) with each log clamped at -100 (as PyTorch)."""
    _check_same(_op, input, target)
    a = input._data
    if a.size and (a.min() < 0 or a.max() > 1 or np.isnan(a).any()):
        raise RuntimeError(f"{_op}: all elements of input should be between 0 and 1 "
                           "(probabilities; for logits use binary_cross_entropy_with_logits)")
    loss = BinaryCrossEntropy.apply(input, _as_tensor(target, input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,  # noqa: A002
                                     reduce=None, reduction="mean", pos_weight=None,
                                     *, _op="binary_cross_entropy_with_logits"):
    """BCE of sigmoid(x), fused and stable: -w (p y log s(x) + (1 - y) log(1 - s(x))) with
    p = pos_weight (broadcast along the last, class, dimension)."""
    _check_same(_op, input, target)
    loss = BCEWithLogits.apply(input, _as_tensor(target, input), pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def _class_weight(weight, c, op):
    if weight is None:
        return None
    if tuple(weight.shape) != (c,):
        raise RuntimeError(f"{op}: weight should have shape ({c},) (one per class), "
                           f"got {tuple(weight.shape)}")
    return weight


def _check_targets(op, x, t, ignore_index):
    if x.ndim < 1:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    tt = t._data
    if tt.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: class-index targets must be integers (int64), got "
                           f"{t.dtype}; for class probabilities pass a float target of the "
                           "input's shape")
    exp_shape = () if x.ndim == 1 else (x.shape[0],) + tuple(x.shape[2:])
    if tuple(tt.shape) != exp_shape:
        raise ValueError(f"{op}: expected a target of shape {exp_shape} for an input of shape "
                         f"{tuple(x.shape)} (N, C, d1, ...), got {tuple(tt.shape)}")
    if tt.__class__ is not np.ndarray:  # under vmap: check every batch element's targets
        from ..func._batched import physical

        tt = physical(tt)
    bad = (tt != ignore_index) & ((tt < 0) | (tt >= c))
    if bad.any():
        raise IndexError(f"{op}: target {tt[bad].flat[0]} is out of bounds for {c} classes "
                         f"(expected 0 <= target < {c}, or ignore_index={ignore_index})")
    return c


def _index_reduce(loss, t, weight, ignore_index, reduction, op):
    if reduction != "mean":
        return _reduce(loss, reduction, op)
    tt = t._data
    valid = tt != ignore_index
    if tt.__class__ is not np.ndarray:  # under vmap: a per-element denominator, no value read
        # (tensor operations: indexing a plain array with a batched one loses the batch)
        keep = _const(valid.astype(loss._data.dtype))
        if weight is not None:
            keep = keep * weight[_const(np.where(valid, tt, 0))]
        return loss.sum() / keep.sum()
    if weight is None:
        denom = float(valid.sum())
    else:
        denom = float(weight._data[np.where(valid, tt, 0)][valid].sum())
    return loss.sum() / denom


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,  # noqa: A002
                  reduce=None, reduction="mean", label_smoothing=0.0, *, _op="cross_entropy"):
    """-log softmax(x)[y] (class indices) or -sum_c y_c log softmax(x)_c (probabilities),
    optionally weighted per class and label-smoothed: y <- (1 - eps) y + eps / C.

    'mean' over class indices divides by the sum of the target classes' weights (the count of
    non-ignored targets without weights), as PyTorch.

    Shape: input (N, C) or (N, C, d1, ...) or (C,); target (N,) / (N, d1, ...) integer class
    indices, or the input's shape with class probabilities.
    """
    reduction = _legacy(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{_op}: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    unbatched = input.ndim == 1
    if isinstance(target, Tensor) and target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"{_op}: probability targets must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        dim = 0 if unbatched else 1
        c = input.shape[dim]
        w = _class_weight(weight, c, _op)
        y = target
        if label_smoothing > 0:
            y = y * (1 - label_smoothing) + label_smoothing / c
        lsm = input.log_softmax(dim)
        if w is not None:
            lsm = lsm * w.reshape((c,) + (1,) * (input.ndim - 1 - dim))
        loss = -(y * lsm).sum(dim)
        if reduction == "mean":
            return loss.sum() / (loss.numel() if loss.ndim else 1)
        return _reduce(loss, reduction, _op)
    c = _check_targets(_op, input, target, ignore_index)
    w = _class_weight(weight, c, _op)
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    loss = CrossEntropy.apply(input, target, w, ignore_index, float(label_smoothing))
    if unbatched:
        loss, target = loss.squeeze(0), target.squeeze(0)
    return _index_reduce(loss, target, w, ignore_index, reduction, _op)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,  # noqa: A002
             reduce=None, reduction="mean", *, _op="nll_loss"):
    """-w[y] x[y] for log-probabilities x (N, C, d1, ...) and class indices y (N, d1, ...);
    'mean' divides by the sum of the target weights."""
    reduction = _legacy(size_average, reduce, reduction)
    c = _check_targets(_op, input, target, ignore_index)
    w = _class_weight(weight, c, _op)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    tt = target._data
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0)
    picked = input.gather(1, _const(safe[:, None])).squeeze(1)
    coef = valid.astype(input._data.dtype)
    if tt.__class__ is not np.ndarray:  # under vmap: the class weights by tensor indexing
        coef = _const(coef) if w is None else _const(coef) * w[_const(safe)]
        loss = -picked * coef
    else:
        if w is not None:
            coef = coef * w._data[safe]
        loss = -picked * _const(coef.astype(input._data.dtype))
    if unbatched:
        loss, target = loss.squeeze(0), target.squeeze(0)
    return _index_reduce(loss, target, w, ignore_index, reduction, _op)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,  # noqa: A002
                      reduce=None, reduction="mean", *, _op="multi_margin_loss"):
    """The multiclass hinge: sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C.

    Shape: input (N, C) or (C,), target (N,) or () class indices.
    """
    if p not in (1, 2):
        raise ValueError(f"{_op}: only p == 1 and p == 2 are supported, got {p}")
    reduction = _legacy(size_average, reduce, reduction)
    c = _check_targets(_op, input, target, ignore_index=-(10**18))
    w = _class_weight(weight, c, _op)
    x = input.unsqueeze(0) if input.ndim == 1 else input
    tt = target._data.reshape(-1)
    x_y = x.gather(1, _const(tt[:, None]))
    h = (x - x_y + margin).clamp(min=0.0)
    if p == 2:
        h = h * h
    not_y = (np.arange(c)[None, :] != tt[:, None]).astype(x._data.dtype)
    if w is not None and tt.__class__ is not np.ndarray:  # under vmap: tensor indexing
        coef = _const(not_y) * w[_const(tt)].unsqueeze(1)
    else:
        if w is not None:
            not_y = not_y * w._data[tt][:, None]
        coef = _const(not_y)
    loss = (h * coef).sum(1) * (1.0 / c)
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction, _op)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None,  # noqa: A002
                     eps=1e-8, reduce=None, reduction="mean", *, _op="poisson_nll_loss"):
    """exp(x) - y x (log_input) or x - y log(x + eps); with ``full`` the Stirling term
    y log y - y + 0.5 log(2 pi y) is added where y > 1 (its gradient in y flows too; where
    y = 0 it is 0, where PyTorch gives NaN from 0 * log 0)."""
    _check_same(_op, input, target)
    target = _as_tensor(target, input)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # differentiable in the target too, as PyTorch's (0 where y <= 1)
        big = target > 1
        one = _const(np.ones((), target._data.dtype))
        safe = where(big, target, one)
        st = safe * safe.log() - safe + 0.5 * (safe * (2 * math.pi)).log()
        loss = loss + where(big, st, one - 1)
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
           log_target=False, *, _op="kl_div"):
    """y (log y - x) for log-probabilities x (0 where y = 0), or exp(y) (y - x) with
    log_target; 'batchmean' divides the sum by the batch size."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_tensor(target, input)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        pos = target > 0
        safe = where(pos, target, _const(np.ones((), target._data.dtype)))
        loss = where(pos, target * safe.log(), _const(np.zeros((), target._data.dtype))) \
            - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, _op)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean",  # noqa: A002
                      *, _op="gaussian_nll_loss"):
    """0.5 (log max(var, eps) + (x - y)^2 / max(var, eps)) (+ 0.5 log 2 pi with ``full``).

    ``var`` has the input's shape, or it with the last dim 1, or one dim fewer (a
    homoscedastic variance per sample). The clamp at eps passes gradients unchanged (as
    PyTorch, which clamps without recording).
    """
    _check_same(_op, input, target)
    var = _as_tensor(var, input)
    xs, vs = tuple(input.shape), tuple(var.shape)
    if vs != xs:
        if vs == xs[:-1]:
            var = var.unsqueeze(-1)
        elif not (vs[:-1] == xs[:-1] and vs and vs[-1] == 1):
            raise ValueError(f"{_op}: var of shape {vs} doesn't fit the input shape {xs} "
                             "(expected the same shape, the last dim 1, or one dim fewer)")
    if (var._data < 0).any():
        raise ValueError(f"{_op}: var has negative entry/entries")
    frozen = var.detach()
    var = var + (frozen.clamp(min=eps) - frozen)
    d = input - target
    loss = (var.log() + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, _op)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None,
                          reduce=None, reduction="mean", *, _op="cosine_embedding_loss"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1
    (cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)), along the last dim)."""
    reduction = _legacy(size_average, reduce, reduction)
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + eps
    m2 = (input2 * input2).sum(-1) + eps
    cos = dot / (m1 * m2).sqrt()
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    zero = _const(np.zeros((), cos._data.dtype))
    pos = where(_const(y == 1), 1 - cos, zero)
    neg = where(_const(y == -1), (cos - margin).clamp(min=0.0), zero)
    return _reduce(pos + neg, reduction, _op)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None,
                        reduce=None, reduction="mean", *, _op="margin_ranking_loss"):
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _as_tensor(target, input1)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0.0), reduction, _op)
