"""``AdaptiveLogSoftmaxWithLoss`` (``torch.nn.modules.adaptive``; Grave et al., 2016): an
efficient softmax over many classes. The frequent classes (below ``cutoffs[0]``) and one
entry per rarer cluster share the "head" softmax; a class of cluster i has log-probability
log p_head(cluster i) + log p_tail_i(class), the tail a smaller projection
(in_features / div_value^(i + 1) units)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..creation import zeros
from ..functions.shape import cat
from ..tensor import Tensor
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _const(arr) -> Tensor:
    return Tensor._make(np.asarray(arr), False, None, 0)


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax with its negative log-likelihood.

    Args:
        in_features: the input size.  n_classes: the number of classes.
        cutoffs: increasing class boundaries of the clusters, each in [1, n_classes - 1].
        div_value: each cluster's projection is div_value times smaller (4.0).
        head_bias: a bias in the head layer (False).

    forward(input, target) -> (output, loss): output (N,) the target log-probabilities,
    loss their negative mean. ``log_prob(input)`` gives all (N, n_classes) log-probabilities,
    ``predict(input)`` the most likely classes.

    Shape: input (N, in_features) or (in_features,), target (N,) or ().

    Example::

        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 100, cutoffs=[10, 40])
        >>> out, loss = asm(cr.randn(8, 16), cr.randint(0, 100, (8,)))
        >>> asm.log_prob(cr.randn(2, 16)).shape
        chainrule.Size([2, 100])
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 or \
                len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        t = target_._data if isinstance(target_, Tensor) else np.asarray(target_)
        if t.ndim == 1:
            if input_.shape[0] != t.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {list(input_.shape)}")
        elif t.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = t.ndim > 0
        x = input_ if batched else input_.unsqueeze(0)
        t = t.reshape(-1).astype(np.int64)
        n = t.shape[0]
        output = zeros(n, dtype=x.dtype)
        gather = np.zeros(n, np.int64)
        bounds = [0] + self.cutoffs
        used = 0
        for i in range(len(bounds) - 1):
            rows = np.nonzero((t >= bounds[i]) & (t < bounds[i + 1]))[0]
            if rows.size == 0:
                continue
            if i == 0:
                gather[rows] = t[rows]
            else:
                rel = _const((t[rows] - bounds[i])[:, None])
                sub = x.index_select(0, _const(rows))
                logp = self.tail[i - 1](sub).log_softmax(1).gather(1, rel).squeeze(1)
                gather[rows] = self.shortlist_size + i - 1
                output = output.index_add(0, _const(rows), logp)
            used += rows.size
        if used != n:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{t.min()}, {t.max()}] were found. ")
        head = self.head(x).log_softmax(1)
        output = output + head.gather(1, _const(gather[:, None])).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:  # noqa: A002
        head = head_output.log_softmax(1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            tail = self.tail[i](input).log_softmax(1)
            parts.append(tail + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002
        """log p(class | input) for every class: (N, n_classes) (or (n_classes,))."""
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """The most likely class of each input (the full distribution is computed only for
        the rows whose head prediction is a cluster)."""
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        head = self.head(x)
        pred = np.argmax(head._data, axis=1)
        rare = pred >= self.shortlist_size
        if rare.any():
            rows = _const(np.nonzero(rare)[0])
            logp = self._get_full_log_prob(x.index_select(0, rows), head.index_select(0, rows))
            pred[rare] = np.argmax(logp._data, axis=1)
        out = Tensor._make(pred.astype(np.int64), False, None, 0)
        return out if batched else out.squeeze(0)
