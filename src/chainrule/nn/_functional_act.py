"""Functional activations (see nn.functional), composed from primitives.

Where a formula has an overflowing branch that ``where`` discards (exp of a large input),
that branch's input is clamped first, so its discarded gradient is 0 rather than 0 * inf.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops as P
from ..ops.nn_ops import Erf
from ..tensor import Tensor
from ..functions.elementwise import where
from .._inplace import inplace as inplace_op


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _heaviside(a):
    return np.heaviside(a, 0.5).astype(a.dtype, copy=False)


def step(input: Tensor) -> Tensor:  # noqa: A002
    """The Heaviside step H(z): 0 for z < 0, 1/2 at z = 0, 1 for z > 0 (gradient 0)."""
    return P.ZeroGrad.apply(input, _heaviside)


def sign(input: Tensor) -> Tensor:  # noqa: A002
    """sign(z) in {-1, 0, 1} (gradient 0)."""
    return input.sign()


def _in(input, fn, inplace):  # noqa: A002
    """``fn(input)``, or with PyTorch's ``inplace=True`` the result written into ``input``
    (recorded when in a graph: ``fn`` then runs on a snapshot of ``input``, so the nodes it
    records keep the old values; a leaf that requires grad raises, as in PyTorch)."""
    if not inplace:
        return fn(input)
    return inplace_op(input, "activation_", (), fn,
                      lambda: fn(Tensor._make(input._data, False, None, 0))._data)


def piecewise_linear(input: Tensor) -> Tensor:  # noqa: A002
    """0 for z <= -1/2, z + 1/2 in between, 1 for z >= 1/2 (the course's piecewise-linear
    unit; its gradient is 1 on the closed interval [-1/2, 1/2])."""
    return (input + 0.5).clamp(0.0, 1.0)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(z, 0); the gradient at 0 is 0 (PyTorch's choice)."""
    return input.relu_() if inplace else P.Relu.apply(input)


def _open_interval_clamp(input, lo, hi):
    """clamp(x, lo, hi) with gradient 1 only for lo < x < hi (PyTorch's hardtanh rule)."""
    a = input._data
    inside = (a > lo) & (a < hi)
    edge = np.where(a <= lo, lo, hi).astype(a.dtype)
    return where(_const(inside), input, _const(edge))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """clamp(z, min_val, max_val); gradient 1 strictly inside, 0 at and beyond the edges."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _in(input, lambda x: _open_interval_clamp(x, min_val, max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(z, 0), 6)."""
    return _in(input, lambda x: _open_interval_clamp(x, 0.0, 6.0), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(z + 3) / 6: 0 for z <= -3, 1 for z >= 3, linear in between."""
    return _in(input, lambda x: _open_interval_clamp(x, -3.0, 3.0) * (1 / 6) + 0.5, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """z * relu6(z + 3) / 6."""
    return _in(input, lambda x: x * hardsigmoid(x), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """z for z > 0, negative_slope * z otherwise."""
    return _in(input, lambda x: where(x > 0, x, x * negative_slope), inplace)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """z where z > threshold, else value."""
    return _in(input, lambda x: where(x > threshold, x,
                            _const(np.asarray(value, x._data.dtype))), inplace)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-z))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return input.tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta z)) / beta, and z itself where beta z > threshold (as PyTorch)."""
    bz = input * beta if beta != 1 else input
    soft = bz.clamp(max=threshold).exp().log1p()
    if beta != 1:
        soft = soft * (1.0 / beta)
    return where(bz > threshold, input, soft)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(z)) = min(z, 0) - log1p(exp(-|z|)), finite for any z."""
    return input.clamp(max=0.0) - (-input.abs()).exp().log1p()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """z for z > 0, alpha * (exp(z) - 1) otherwise."""
    return _in(input, lambda x: where(x > 0, x, x.clamp(max=0.0).expm1() * alpha), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(z, alpha) with the self-normalising constants (Klambauer et al., 2017)."""
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return _in(input, lambda x: elu(x, alpha) * scale, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, z) + min(0, alpha * (exp(z / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _in(input, lambda x: where(x > 0, x,
                            (x.clamp(max=0.0) * (1.0 / alpha)).expm1() * alpha), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """z * sigmoid(z) (swish)."""
    return _in(input, lambda x: x * x.sigmoid(), inplace)


def eswish(input: Tensor, beta: float = 1.375) -> Tensor:  # noqa: A002
    """beta * z * sigmoid(z) (E-swish, Alcaide 2018; beta in [1, 2], 1.375 by default)."""
    return input * input.sigmoid() * beta


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """z * tanh(softplus(z))."""
    return _in(input, lambda x: x * softplus(x).tanh(), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """z * Phi(z) = z/2 (1 + erf(z / sqrt 2)); with approximate='tanh':
    z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""
    if approximate == "none":
        if input._data.dtype.kind != "f":
            input = input.float()
        return input * 0.5 * (Erf.apply(input * (1 / math.sqrt(2.0))) + 1.0)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (inner.tanh() + 1.0)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def erf(input: Tensor) -> Tensor:  # noqa: A002
    """The error function (float64-accurate; see chainrule.ops.nn_ops.erf_array)."""
    return Erf.apply(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """z / (1 + |z|)."""
    return input / (input.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """z - tanh(z)."""
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """z - lambd for z > lambd, z + lambd for z < -lambd, 0 otherwise."""
    zero = _const(np.zeros((), input._data.dtype))
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, zero))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """z where |z| > lambd, 0 otherwise."""
    return where((input > lambd) | (input < -lambd), input, _const(np.zeros((), input._data.dtype)))


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit dim


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """exp(z_i) / sum_j exp(z_j) along ``dim`` (stable)."""
    return input.softmax(_softmax_dim(input.ndim) if dim is None else dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """z_i - logsumexp(z) along ``dim`` (stable)."""
    return input.log_softmax(_softmax_dim(input.ndim) if dim is None else dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """softmax(-z) along ``dim``."""
    return softmax(-input, dim, dtype)


def maxout(input: Tensor, weight: Tensor, bias: Tensor | None, pieces: int) -> Tensor:  # noqa: A002
    """max over k of (x W_k^T + b_k): weight (out * pieces, in) holds the k affine maps of
    each output unit consecutively; the gradient flows to the winning piece."""
    from ._functional_layers import linear

    z = linear(input, weight, bias)
    return z.unflatten(-1, (-1, pieces)).amax(-1)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices (*) -> int64 one-hot (*, num_classes)."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot: class values must be integers")
    n = int(idx.max()) + 1 if num_classes == -1 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise RuntimeError(f"one_hot: class values must be in [0, {n}), got {idx.min()}..{idx.max()}")
    return _const((idx[..., None] == np.arange(n)).astype(np.int64))
