"""More loss modules (``torch.nn.modules.loss``): ``SoftMarginLoss``,
``MultiLabelSoftMarginLoss``, ``HingeEmbeddingLoss``, ``MultiLabelMarginLoss``,
``TripletMarginLoss``, ``TripletMarginWithDistanceLoss``, ``CTCLoss``, ``NLLLoss2d`` and
``LinearCrossEntropyLoss``. Formulas in ``nn.functional``."""

from __future__ import annotations

import dataclasses
import math
import warnings

from . import _functional_loss_extra as F
from .linear import Linear
from .loss import NLLLoss, _Loss, _WeightedLoss

__all__ = [
    "CTCLoss", "HingeEmbeddingLoss", "LinearCrossEntropyLoss", "LinearCrossEntropyOptions",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "NLLLoss2d", "SoftMarginLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y x)) for targets y in {1, -1}.

    Shape: input (*), target the same shape; output scalar, or (*) with reduction='none'.

    Example::

        >>> nn.SoftMarginLoss()(cr.tensor([2.0, -1.0]), cr.tensor([1.0, -1.0]))
        tensor(0.2201)
    """

    def forward(self, input, target):  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction, _op="SoftMarginLoss")


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """-(1/C) sum_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)).

    Args: weight: per-class weights (C,).
    Shape: input (N, C), target (N, C) of 0/1; output scalar, or (N,).

    Example::

        >>> nn.MultiLabelSoftMarginLoss()(cr.zeros(1, 3), cr.tensor([[1.0, 0.0, 1.0]]))
        tensor(0.6931)
    """

    def forward(self, input, target):  # noqa: A002
        return F.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction,
                                             _op="MultiLabelSoftMarginLoss")


class HingeEmbeddingLoss(_Loss):
    """x for y = 1, max(0, margin - x) for y = -1 (x usually a distance).

    Args: margin (1.0).
    Shape: input (*), target (*) of 1 / -1; output scalar, or (*).

    Example::

        >>> nn.HingeEmbeddingLoss()(cr.tensor([0.3, 0.2]), cr.tensor([1.0, -1.0]))
        tensor(0.5500)
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):  # noqa: A002
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction,
                                      _op="HingeEmbeddingLoss")


class MultiLabelMarginLoss(_Loss):
    """(1/C) sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[y_j] - x[i])); the
    target lists class indices and ends at its first -1.

    Shape: input (C,) or (N, C), target int64 of the same shape; output scalar, or (N,).

    Example::

        >>> nn.MultiLabelMarginLoss()(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input, target):  # noqa: A002
        return F.multilabel_margin_loss(input, target, reduction=self.reduction,
                                        _op="MultiLabelMarginLoss")


class TripletMarginLoss(_Loss):
    """max(0, margin + d(a, p) - d(a, n)), d the p-norm distance (eps added to the
    difference); ``swap`` uses min(d(a, n), d(p, n)).

    Args: margin (1.0), p (2.0), eps (1e-6), swap (False).
    Shape: anchor, positive, negative (N, D) or (D,); output scalar, or (N,).

    Example::

        >>> a = cr.randn(8, 16)
        >>> nn.TripletMarginLoss()(a, a + 0.1, cr.randn(8, 16)).shape
        chainrule.Size([])
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                     self.swap, reduction=self.reduction,
                                     _op="TripletMarginLoss")


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, margin + d(a, p) - d(a, n)) with any distance function d (default Euclidean
    ``pairwise_distance``).

    Args: distance_function, margin (> 0, 1.0), swap, reduction (keyword-only).
    Shape: anchor, positive, negative (N, *); output scalar, or (N,).

    Example::

        >>> loss = nn.TripletMarginWithDistanceLoss(
        ...     distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
        >>> loss(cr.randn(4, 8), cr.randn(4, 8), cr.randn(4, 8)).shape
        chainrule.Size([])
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
            _op="TripletMarginWithDistanceLoss")


class CTCLoss(_Loss):
    """Connectionist temporal classification loss: -log p(target | input) summed over all
    alignments (forward algorithm; Graves et al., 2006).

    Args:
        blank: the blank class (0).  reduction: 'mean' (each loss divided by its target
            length, then averaged), 'sum' or 'none'.  zero_infinity: impossible alignments
            give 0 loss and gradient instead of inf.

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) or 1-D concatenated;
    input_lengths, target_lengths (N,); output scalar, or (N,) with 'none'.

    Example::

        >>> ctc = nn.CTCLoss()
        >>> lp = cr.randn(30, 2, 10).log_softmax(2)
        >>> ctc(lp, cr.randint(1, 10, (2, 5)), [30, 25], [5, 4]).shape
        chainrule.Size([])
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity, _op="CTCLoss")


class NLLLoss2d(NLLLoss):
    """Deprecated alias of ``NLLLoss`` (which handles (N, C, H, W) inputs itself)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        warnings.warn(
            "NLLLoss2d has been deprecated. Please use NLLLoss instead as a drop-in replacement "
            "and see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.",
            stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch 2.13's chunking options of ``linear_cross_entropy``; accepted and recorded,
    not used (chainrule always computes the full logits)."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of a linear classifier's logits: cross_entropy(input W^T + b, target),
    with the classifier inside the loss (``self.linear``; weight stored flat as
    (C * prod(out_features), in_features)).

    Args:
        in_features, num_classes: the classifier's sizes.  out_features: (d_1, ..., d_K)
            for a K-dimensional loss.  bias (False).  reduction, weight (C,), ignore_index
            (None means -100), label_smoothing: as ``CrossEntropyLoss``.  options: accepted.

    Shape: input (N, in_features); target (N,) or (N, d_1, ..., d_K).

    Example::

        >>> loss = nn.LinearCrossEntropyLoss(16, 10)
        >>> loss(cr.randn(4, 16), cr.tensor([1, 2, 3, 4])).shape
        chainrule.Size([])
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight=None, ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.in_features, self.num_classes = in_features, num_classes
        self.out_features = tuple(out_features)
        self.ignore_index, self.label_smoothing, self.options = (ignore_index, label_smoothing,
                                                                 options)
        self.linear = Linear(in_features, math.prod(self.out_features) * num_classes,
                             bias=bias, dtype=dtype)

    def forward(self, input, target):  # noqa: A002
        w = self.linear.weight.reshape(self.num_classes, *self.out_features, self.in_features)
        b = self.linear.bias
        if b is not None:
            b = b.reshape(self.num_classes, *self.out_features)
        return F.linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
