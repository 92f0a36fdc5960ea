"""More functional losses (``torch.nn.functional``): margin and soft-margin losses, triplet
losses, CTC and the fused linear + cross-entropy. PyTorch's formulas, reductions, defaults.
"""

from __future__ import annotations

import numpy as np

from ..ops.ctc import CTCLoss
from ..tensor import Tensor
from ..functions.elementwise import where
from ._functional_act import logsigmoid, softplus
from ._functional_distance import pairwise_distance
from ._functional_loss import _check_same, _legacy, _reduce, cross_entropy

__all__ = [
    "ctc_loss", "hinge_embedding_loss", "linear_cross_entropy", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


def _const(arr) -> Tensor:
    return Tensor._make(np.asarray(arr), False, None, 0)


def _as(t, like: Tensor) -> Tensor:
    if isinstance(t, Tensor):
        return t
    return _const(np.asarray(t, like._data.dtype))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                     *, _op="soft_margin_loss"):
    """Two-class logistic loss log(1 + exp(-y x)) for targets y in {1, -1} (computed as the
    stable softplus(-y x)).

    Shape: input (*), target the same shape. Output: scalar, or (*) with reduction='none'.

    Example::

        >>> F.soft_margin_loss(cr.tensor([2.0, -1.0]), cr.tensor([1.0, -1.0]))
        tensor(0.2201)
    """
    _check_same(_op, input, target)
    loss = softplus(-input * _as(target, input))
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                reduction="mean", *, _op="multilabel_soft_margin_loss"):
    """One-versus-all logistic loss averaged over the C classes:
    -(1/C) sum_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)).

    Shape: input (N, C) or (C,), target the same shape (0/1), weight (C,). Output: scalar,
    or (N,) with reduction='none'.

    Example::

        >>> F.multilabel_soft_margin_loss(cr.zeros(1, 3), cr.tensor([[1.0, 0.0, 1.0]]))
        tensor(0.6931)
    """
    _check_same(_op, input, target)
    y = _as(target, input)
    loss = -(y * logsigmoid(input) + (1 - y) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) * (1.0 / input.shape[-1])
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean", *, _op="hinge_embedding_loss"):
    """x where y = 1, max(0, margin - x) where y = -1 (x is typically a distance).

    Shape: input (*), target the same shape with entries 1 or -1.

    Example::

        >>> F.hinge_embedding_loss(cr.tensor([0.3, 0.2]), cr.tensor([1.0, -1.0]))
        tensor(0.5500)
    """
    _check_same(_op, input, target)
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    zero = _const(np.zeros((), input._data.dtype))
    margin_part = where(_const(y != 1), (margin - input).clamp(min=0), zero)
    self_part = where(_const(y != -1), input, zero)
    return _reduce(margin_part + self_part, _legacy(size_average, reduce, reduction), _op)


def multilabel_margin_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                           reduction="mean", *, _op="multilabel_margin_loss"):
    """Multi-class multi-label hinge: (1/C) sum_{j in targets} sum_{i not in targets}
    max(0, 1 - (x[y_j] - x[i])). ``target`` holds class indices, ended by the first -1.

    Shape: input (C,) or (N, C); target int64 of the same shape. Output: scalar, or (N,).

    Example::

        >>> F.multilabel_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    if tuple(input.shape) != tuple(target.shape) or input.ndim not in (1, 2):
        raise RuntimeError(f"{_op}: expected input (C) or (N, C) and a target of the same "
                           f"shape, got {tuple(input.shape)} and {tuple(target.shape)}")
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    t = np.atleast_2d(target._data).astype(np.int64)
    n, c = t.shape
    if t.size and (t.max() >= c or t.min() < -1):
        raise RuntimeError(f"{_op}: target values must be in [-1, {c}), got "
                           f"{t.min()}..{t.max()}")
    valid = np.cumprod(t != -1, axis=1).astype(bool)  # entries before the first -1
    idx = np.where(valid, t, 0)
    is_target = np.zeros((n, c), bool)
    rows = np.repeat(np.arange(n), c)
    is_target[rows[valid.reshape(-1)], idx[valid]] = True
    xt = x.gather(1, _const(idx))  # (N, K)
    hinge = (1 - xt.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # (N, K, C)
    mask = valid[:, :, None] & ~is_target[:, None, :]
    loss = (hinge * _const(mask.astype(x._data.dtype))).sum((1, 2)) * (1.0 / c)
    if unbatched:
        loss = loss.squeeze(0)
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def _check_triplet(anchor, positive, negative, op):
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean", *,
                        _op="triplet_margin_loss"):
    """max(0, margin + d(a, p) - d(a, n)) with d the p-norm pairwise distance (eps added to
    the difference); with ``swap`` d(a, n) becomes min(d(a, n), d(p, n)) (Balntas et al., 2016).

    Shape: anchor, positive, negative (N, D) or (D,). Output: scalar, or (N,).

    Example::

        >>> a = cr.zeros(2, 3)
        >>> F.triplet_margin_loss(a, a + 0.1, a + 1.0).item() > 0
        True
    """
    _check_triplet(anchor, positive, negative, _op)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return _reduce(loss, _legacy(size_average, reduce, reduction), _op)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean",
                                      _op="triplet_margin_with_distance_loss"):
    """max(0, margin + d(a, p) - d(a, n)) for any distance function d (default the
    Euclidean ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)).

    Args: distance_function: callable (x1, x2) -> distances; margin > 0; swap; reduction.
    Shape: anchor, positive, negative (N, *). Output: scalar, or (N,).

    Example::

        >>> a = cr.zeros(2, 3)
        >>> F.triplet_margin_with_distance_loss(a, a, a + 1.0, margin=2.0)
        tensor(0.2679)
    """
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than "
                         f"0, got {margin} instead")
    _check_triplet(anchor, positive, negative, _op)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return _reduce(loss, reduction, _op)


def _ints(v, what, op):
    arr = v._data if isinstance(v, Tensor) else np.asarray(v)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: {what} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False, *, _op="ctc_loss"):
    """Connectionist temporal classification (Graves et al., 2006): -log of the total
    probability of all alignments of ``targets`` to the frames (blanks and repeats
    collapsed), by the forward algorithm (primitive ``ops.ctc.CTCLoss``).

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (e.g. log_softmax).
        targets: (N, S) padded class indices, or 1-D: all targets concatenated.
        input_lengths, target_lengths: (N,) (ints, tuples or tensors) per sample.
        blank: the blank class.  zero_infinity: impossible alignments give 0 (and 0 gradient)
            instead of inf.  reduction: 'mean' divides each loss by its target length, then
            averages over the batch; 'sum'; 'none' gives (N,).

    Example::

        >>> lp = cr.randn(50, 2, 20).log_softmax(2)
        >>> F.ctc_loss(lp, cr.randint(1, 20, (2, 10)), [50, 45], [10, 7]).shape
        chainrule.Size([])
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{_op}: {reduction!r} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"{_op}: log_probs must be (T, N, C) or (T, C), got "
                           f"{tuple(log_probs.shape)}")
    t_max, n, c = lp.shape
    in_len = _ints(input_lengths, "input_lengths", _op).reshape(-1)
    tgt_len = _ints(target_lengths, "target_lengths", _op).reshape(-1)
    tg = _ints(targets, "targets", _op)
    if unbatched:
        tg = tg.reshape(1, -1)
    if in_len.shape != (n,) or tgt_len.shape != (n,):
        raise RuntimeError(f"{_op}: input_lengths and target_lengths must have {n} entries, "
                           f"got {in_len.shape[0]} and {tgt_len.shape[0]}")
    if (in_len < 0).any() or (in_len > t_max).any():
        raise RuntimeError(f"{_op}: input_lengths must be in [0, {t_max}], got {in_len.tolist()}")
    if (tgt_len < 0).any():
        raise RuntimeError(f"{_op}: target_lengths must be non-negative")
    s_max = int(tgt_len.max()) if n else 0
    if tg.ndim == 1:  # concatenated targets
        if tg.shape[0] < tgt_len.sum():
            raise RuntimeError(f"{_op}: {tg.shape[0]} concatenated targets for target_lengths "
                               f"summing to {tgt_len.sum()}")
        starts = np.concatenate(([0], np.cumsum(tgt_len)[:-1]))
        padded = np.zeros((n, s_max), np.int64)
        for i in range(n):
            padded[i, :tgt_len[i]] = tg[starts[i]:starts[i] + tgt_len[i]]
    else:
        if tg.shape[0] != n or tg.shape[1] < s_max:
            raise RuntimeError(f"{_op}: targets of shape {tg.shape} too small for "
                               f"target_lengths {tgt_len.tolist()}")
        padded = tg[:, :s_max]
    within = np.arange(s_max) < tgt_len[:, None]
    if ((padded < 0) | (padded >= c))[within].any():
        raise RuntimeError(f"{_op}: target classes must be in [0, {c})")
    if (padded[within] == blank).any():
        raise RuntimeError(f"{_op}: targets must not contain the blank class {blank}")
    ext = np.full((n, 2 * s_max + 1), blank, np.int64)
    ext[:, 1::2] = np.where(within, padded, blank)
    nll = CTCLoss.apply(lp, ext, in_len, tgt_len, int(blank), bool(zero_infinity))
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    per = _const(np.maximum(tgt_len, 1).astype(nll._data.dtype))
    return (nll / per).mean()


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,  # noqa: A002
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target) (PyTorch 2.13's fused
    classifier loss; chainrule computes the logits, so ``options``' chunking is ignored).

    Shape: input (in_features,) or (N, in_features); linear_weight (C, in_features) or
    (C, d_1, ..., d_K, in_features) (K-dimensional loss: logits (N, C, d_1, ..., d_K));
    linear_bias (C,) or (C, d_1, ..., d_K); target as ``cross_entropy``'s.

    Example::

        >>> F.linear_cross_entropy(cr.randn(4, 3), cr.randn(5, 3), cr.tensor([0, 1, 4, 2])).shape
        chainrule.Size([])
    """
    inner = tuple(linear_weight.shape[1:-1])
    w2 = linear_weight.reshape(-1, linear_weight.shape[-1]) if inner else linear_weight
    logits = input @ w2.mT
    if inner:
        logits = logits.reshape(*input.shape[:-1], linear_weight.shape[0], *inner)
    if linear_bias is not None:
        logits = logits + linear_bias
    return cross_entropy(logits, target, weight,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)
