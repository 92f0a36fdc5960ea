"""PyTorch's top-level neural-network functions (``torch.conv2d``, ``torch.dropout``,
``torch.layer_norm``, ``torch.kl_div``, ...), built on ``chainrule.nn.functional``.

These are ATen's operators as ``torch`` exposes them, and their signatures differ from
``torch.nn.functional``'s: the dropouts take a required ``train`` flag
(``torch.dropout(input, p, train)``), ``torch.embedding`` takes the weight first and
``padding_idx=-1`` for "none", the norms take every statistic positionally
(``torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
eps, cudnn_enabled)``), the losses take ``reduction`` as ATen's integer enum
(0 ``"none"``, 1 ``"mean"``, 2 ``"sum"``) and pooling's ``stride=[]`` means "the kernel
size". Each function here only translates its arguments; the math is the functional one.
The tuple-returning ``native_*`` operators, ``embedding_bag``, the legacy norms, the
randomized low-rank SVD/PCA and the autocast switches are in ``toplevel_nn_extra``.

Example::

    >>> import chainrule as torch
    >>> torch.dropout(torch.ones(4), 0.5, False)   # train=False: the identity
    tensor([1., 1., 1., 1.])
    >>> torch.kl_div(torch.zeros(2), torch.full((2,), 0.5), 2)   # reduction=2: sum
    tensor(-0.6931)
"""

from __future__ import annotations

from .nn import _rnn_cells as _cells
from .nn import functional as F
from .nn._dropout_nd import _feature_dropout
from .nn._functional_act import _in, leaky_relu
from .nn._functional_act_extra import _const, _tensor
from .random import _gen
from .toplevel_nn_extra import *  # noqa: F401,F403
from .toplevel_nn_extra import __all__ as _EXTRA

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, op: str) -> str:
    """ATen's integer reduction enum as the functional API's string."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int (0 none, 1 mean, 2 sum), not "
                        f"{type(reduction).__name__}; the strings belong to "
                        f"torch.nn.functional.{op}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}(): reduction={reduction} is not one of 0 (none), 1 (mean), "
                         "2 (sum)")
    return _REDUCTIONS[reduction]


def _stride(stride):
    """ATen's ``stride=[]`` (and None) means "equal to the kernel size"."""
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        return None
    return stride


# -- dropout: train is a required flag ---------------------------------------------------

def dropout(input, p, train):  # noqa: A002
    """``F.dropout(input, p, training=train)``."""
    return F.dropout(input, p, train)


def dropout_(input, p, train):  # noqa: A002
    """In-place ``dropout``."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):  # noqa: A002
    """``F.alpha_dropout(input, p, training=train)`` (SELU's dropout)."""
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):  # noqa: A002
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):  # noqa: A002
    """Dropout of whole (sample, channel) slices; input (N, C, *)."""
    return _feature_dropout(input, p, train, False, "feature_dropout")


def feature_dropout_(input, p, train):  # noqa: A002
    return _feature_dropout(input, p, train, True, "feature_dropout_")


def feature_alpha_dropout(input, p, train):  # noqa: A002
    """Alpha dropout of whole (sample, channel) slices; input (N, C, *)."""
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):  # noqa: A002
    return F.feature_alpha_dropout(input, p, train, inplace=True)


# -- activations ---------------------------------------------------------------------------

def celu(input, alpha=1.0):  # noqa: A002
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    return F.celu(input, alpha)


def celu_(input, alpha=1.0):  # noqa: A002
    return F.celu(input, alpha, inplace=True)


def selu(input):  # noqa: A002
    """scale (max(0, x) + min(0, alpha (exp(x) - 1))), SELU's fixed alpha and scale."""
    return F.selu(input)


def selu_(input):  # noqa: A002
    return F.selu(input, inplace=True)


def threshold(input, threshold, value):  # noqa: A002
    """x where x > threshold, else value."""
    return F.threshold(input, threshold, value)


def threshold_(input, threshold, value):  # noqa: A002
    return F.threshold(input, threshold, value, inplace=True)


def hardshrink(input, lambd=0.5):  # noqa: A002
    """x where |x| > lambd, else 0."""
    return F.hardshrink(input, lambd)


def prelu(input, weight):  # noqa: A002
    """x for x > 0, weight x otherwise (one weight, or one per channel of dim 1)."""
    return F.prelu(input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):  # noqa: A002
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) for x < 0 in training (from
    ``generator``), the mean slope (lower + upper) / 2 otherwise."""
    return _rrelu(input, lower, upper, training, generator, False)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):  # noqa: A002
    return _rrelu(input, lower, upper, training, generator, True)


def _rrelu(input, lower, upper, training, generator, inplace):  # noqa: A002
    _tensor(input, "rrelu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    arr = input._data
    slopes = _gen(generator).random(arr.shape) * (upper - lower) + lower
    noise = _const(((arr >= 0) + (arr < 0) * slopes).astype(arr.dtype))
    return _in(input, lambda x: x * noise, inplace)


# -- convolution and padding ---------------------------------------------------------------

conv1d, conv2d, conv3d, conv_tbc = F.conv1d, F.conv2d, F.conv3d, F.conv_tbc
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d
conv_transpose3d = F.conv_transpose3d


def _expand(v, n: int, name: str):
    v = [v] if isinstance(v, int) else list(v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={v}")
    return v


def convolution(input, weight, bias, stride, padding, dilation, transposed,  # noqa: A002
                output_padding, groups):
    """The general convolution: ``conv{1,2,3}d`` or ``conv_transpose{1,2,3}d`` by the weight's
    rank and ``transposed``; each list argument has one value per spatial dim (or one)."""
    nd = weight.ndim - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a weight of rank 3, 4 or 5, got shape "
                           f"{tuple(weight.shape)}")
    st, pd, dl = (_expand(v, nd, k) for v, k in ((stride, "stride"), (padding, "padding"),
                                                 (dilation, "dilation")))
    if transposed:
        op = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
        return op(input, weight, bias, st, pd, _expand(output_padding, nd, "output_padding"),
                  groups, dl)
    op = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    return op(input, weight, bias, st, pd, dl, groups)


def constant_pad_nd(input, pad, value=0):  # noqa: A002
    """Pad (negative entries crop) with ``value``; ``pad`` pairs from the last dim."""
    return F.pad(input, list(pad), "constant", value)


# -- pooling: stride=[] is the kernel size, the *_with_indices forms return tuples -----------

adaptive_avg_pool1d = F.adaptive_avg_pool1d


def adaptive_max_pool1d(input, output_size):  # noqa: A002
    """(values, indices) of adaptive max pooling over the last dim."""
    return tuple(F.adaptive_max_pool1d(input, output_size, return_indices=True))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                        count_include_pad)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1,  # noqa: A002
               ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,  # noqa: A002
                            ceil_mode=False):
    """(values, indices) of ``max_pool1d``."""
    return tuple(F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation,
                              ceil_mode, return_indices=True))


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1,  # noqa: A002
               ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1,  # noqa: A002
               ceil_mode=False):
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


# -- normalization: every statistic positional -------------------------------------------

def batch_norm(input, weight, bias, running_mean, running_var, training, momentum,  # noqa: A002
               eps, cudnn_enabled):
    """``F.batch_norm`` with ATen's argument order (``cudnn_enabled`` is ignored)."""
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean must be defined in evaluation mode" if running_mean
                           is None else "running_var must be defined in evaluation mode")
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,  # noqa: A002
                  momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05,  # noqa: A002
               cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05,  # noqa: A002
               cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


rms_norm = F.rms_norm


# -- the rest of the layers, unchanged ----------------------------------------------------

bilinear, cosine_similarity, pairwise_distance, pdist = (
    F.bilinear, F.cosine_similarity, F.pairwise_distance, F.pdist)
pixel_shuffle, pixel_unshuffle = F.pixel_shuffle, F.pixel_unshuffle
channel_shuffle, native_channel_shuffle = F.channel_shuffle, F.native_channel_shuffle


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``indices``; a ``padding_idx`` >= 0 gets no gradient (negative:
    none, as ATen)."""
    pad = padding_idx if padding_idx is not None and padding_idx >= 0 else None
    return F.embedding(indices, weight, pad, None, 2.0, scale_grad_by_freq, sparse)


# -- losses: reduction is ATen's integer enum ----------------------------------------------

def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,  # noqa: A002
                                     reduction=1):
    op = "binary_cross_entropy_with_logits"
    return F.binary_cross_entropy_with_logits(input, target, weight, None, None,
                                              _reduction(reduction, op), pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin, None, None,
                                   _reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):  # noqa: A002
    return F.hinge_embedding_loss(input, target, margin, None, None,
                                  _reduction(reduction, "hinge_embedding_loss"))


def kl_div(input, target, reduction=1, *, log_target=False):  # noqa: A002
    """KL divergence with ``input`` as log-probabilities; ``reduction=1`` is the mean over all
    elements (not ``"batchmean"``)."""
    return F.kl_div(input, target, None, None, _reduction(reduction, "kl_div"), log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin, None, None,
                                 _reduction(reduction, "margin_ranking_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):  # noqa: A002
    return F.poisson_nll_loss(input, target, log_input, full, None, eps, None,
                              _reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06,
                        swap=False, reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, None, None,
                                 _reduction(reduction, "triplet_margin_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


# -- spatial transformers: modes as ATen's integers ----------------------------------------

_INTERP = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):  # noqa: A002
    """``F.grid_sample`` with interpolation 0 bilinear / 1 nearest / 2 bicubic and padding
    0 zeros / 1 border / 2 reflection."""
    if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler: interpolation_mode={interpolation_mode} and "
                           f"padding_mode={padding_mode} must each be 0, 1 or 2")
    return F.grid_sample(input, grid, _INTERP[interpolation_mode], _PADDING[padding_mode],
                         bool(align_corners))


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):  # noqa: A002
    if input.ndim != 4:
        raise RuntimeError(f"grid_sampler_2d: expected a 4-D input (N, C, H, W), got shape "
                           f"{tuple(input.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, list(size), bool(align_corners))


# -- recurrent cells (torch's order: input, hx, w_ih, w_hh, b_ih, b_hh) -------------------

rnn_tanh_cell, rnn_relu_cell, gru_cell = (
    _cells.rnn_tanh_cell, _cells.rnn_relu_cell, _cells.gru_cell)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """(h', c') of one LSTM step; ``hx`` is the pair (h, c)."""
    if len(hx) != 2:
        raise RuntimeError(f"lstm_cell: hx must be a pair (h, c), got {len(hx)} tensors")
    return tuple(_cells.lstm_cell(input, tuple(hx), w_ih, w_hh, b_ih, b_hh))


__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout",
    "alpha_dropout_", "avg_pool1d", "batch_norm", "bilinear",
    "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle", "constant_pad_nd",
    "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "convolution", "cosine_embedding_loss", "cosine_similarity",
    "ctc_loss", "dropout", "dropout_", "embedding", "feature_alpha_dropout",
    "feature_alpha_dropout_", "feature_dropout", "feature_dropout_", "grid_sampler",
    "grid_sampler_2d", "group_norm", "gru_cell", "hardshrink", "hinge_embedding_loss",
    "instance_norm", "kl_div", "layer_norm", "lstm_cell", "margin_ranking_loss",
    "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
    "native_channel_shuffle", "pairwise_distance", "pdist", "pixel_shuffle",
    "pixel_unshuffle", "poisson_nll_loss", "prelu", "rms_norm", "rnn_relu_cell",
    "rnn_tanh_cell", "rrelu", "rrelu_", "selu", "selu_", "threshold", "threshold_",
    "triplet_margin_loss",
] + list(_EXTRA)
