"""More functional activations (``torch.nn.functional``): ``glu``, ``prelu``, ``rrelu``,
``gumbel_softmax`` and PyTorch's in-place aliases ``relu_``, ``elu_``, ``leaky_relu_``,
``hardtanh_``, ``threshold_``, ``celu_``, ``selu_``, ``rrelu_``. Composed from primitives.
"""

from __future__ import annotations

import numpy as np

from ..random import _gen
from ..tensor import Tensor
from ..functions.elementwise import where
from . import _functional_act as A

__all__ = [
    "celu_", "elu_", "glu", "gumbel_softmax", "hardtanh_", "leaky_relu_", "prelu", "relu_",
    "rrelu", "rrelu_", "selu_", "threshold_",
]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit (Dauphin et al., 2017): a * sigmoid(b), where a and b are the first
    and second halves of ``input`` along ``dim``.

    Args:
        input: a tensor whose size along ``dim`` is even.
        dim: the dimension split in half (default -1).

    Shape: (*, 2M, *) -> (*, M, *).

    Example::

        >>> F.glu(cr.randn(4, 6)).shape
        chainrule.Size([4, 3])
    """
    _tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim if -input.ndim <= dim < input.ndim else None
    if d is None:
        raise IndexError(f"glu: dim {dim} is out of range for a {input.ndim}-D input")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """Parametric ReLU (He et al., 2015): x for x > 0, w_c x otherwise, with one learned
    slope per channel (dim 1) or one shared slope.

    Args:
        input: (N, C, *) or any shape when ``weight`` has one element.
        weight: (1,) or (C,) slopes.

    Shape: input (*), output the same.

    Example::

        >>> F.prelu(cr.tensor([-2.0, 3.0]), cr.tensor([0.25]))
        tensor([-0.5000,  3.0000])
    """
    _tensor(input, "prelu")
    _tensor(weight, "prelu")
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: weight must be 0-D or 1-D, got shape {tuple(weight.shape)}")
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {n} and channel size = {channels}."
            )
        w = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    else:
        w = weight.reshape(())
    return where(input > 0, input, w * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU (Xu et al., 2015): x for x >= 0, a x otherwise, with a drawn
    from U(lower, upper) per element in training and a = (lower + upper) / 2 in eval.

    Args:
        lower, upper: the range of the random slope.
        training: draw random slopes (else the fixed mean slope).
        inplace: write the result into ``input``.

    Shape: input (*), output the same.

    Example::

        >>> F.rrelu(cr.tensor([-4.0, 1.0]))  # eval: slope (1/8 + 1/3) / 2
        tensor([-0.9167,  1.0000])
    """
    _tensor(input, "rrelu")
    if not training:
        return A.leaky_relu(input, (lower + upper) / 2, inplace)
    dt = input._data.dtype
    slopes = _gen(None).random(input._data.shape) * (upper - lower) + lower
    noise = np.where(input._data >= 0, 1.0, slopes).astype(dt)
    return A._in(input, lambda x: x * _const(noise), inplace)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution (Jang et al., 2016):
    softmax((logits + g) / tau) with g = -log(E), E ~ Exp(1). With ``hard=True`` the result is
    the one-hot vector of its argmax in the forward pass and the soft sample's gradient in the
    backward pass (straight-through: y_hard - y_soft.detach() + y_soft).

    Args:
        logits: unnormalised log-probabilities (*, num_features).
        tau: the temperature (> 0). hard: return one-hot samples. dim: the class dimension.
        eps: unused (PyTorch's deprecated argument).

    Shape: logits (*, C), output the same.

    Example::

        >>> F.gumbel_softmax(cr.zeros(2, 5), tau=0.5, hard=True).sum(-1)
        tensor([1., 1.])
    """
    _tensor(logits, "gumbel_softmax")
    dt = logits._data.dtype
    # E = -log(1 - U) ~ Exp(1) and g = -log(E)
    e = np.maximum(-np.log1p(-_gen(None).random(logits._data.shape)), np.finfo(np.float64).tiny)
    gumbels = -np.log(e).astype(dt)
    y_soft = ((logits + _const(gumbels)) / tau).softmax(dim)
    if not hard:
        return y_soft
    idx = np.expand_dims(np.argmax(y_soft._data, axis=dim), dim)
    hot = np.zeros_like(y_soft._data)
    np.put_along_axis(hot, idx, 1.0, axis=dim)
    return _const(hot) - y_soft.detach() + y_soft


# PyTorch's in-place functional aliases: the result written into ``input`` (recorded in a graph)
def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``relu``."""
    return A.relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``elu``."""
    return A.elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``celu``."""
    return A.celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``selu``."""
    return A.selu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """In-place ``leaky_relu``."""
    return A.leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``hardtanh``."""
    return A.hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """In-place ``threshold``."""
    return A.threshold(input, threshold, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)
