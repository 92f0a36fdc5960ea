"""Activation modules: thin wrappers over ``nn.functional`` (formulas in each docstring).

Every elementwise activation keeps the input's shape: input (*), output (*).
"""

from __future__ import annotations

import math

from .. import _dtype
from ..creation import empty
from ..tensor import Tensor
from . import _functional_act as F
from . import init
from .module import Module
from .parameter import Parameter


def _simple(name: str, fn, doc: str):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return fn(input)

    return type(name, (Module,), {"__doc__": doc, "forward": forward, "__module__": __name__})


Step = _simple("Step", F.step, "H(z): 0 for z < 0, 1/2 at 0, 1 for z > 0 (Heaviside; gradient 0).")
Sign = _simple("Sign", F.sign, "sign(z) in {-1, 0, 1} (gradient 0).")
PiecewiseLinear = _simple(
    "PiecewiseLinear", F.piecewise_linear,
    "0 for z <= -1/2, z + 1/2 in between, 1 for z >= 1/2 (the course's piecewise-linear unit).")
Sigmoid = _simple("Sigmoid", F.sigmoid, "1 / (1 + exp(-z)).")
Tanh = _simple("Tanh", F.tanh, "tanh(z).")
LogSigmoid = _simple("LogSigmoid", F.logsigmoid, "log(sigmoid(z)) = -softplus(-z), stable.")
Softsign = _simple("Softsign", F.softsign, "z / (1 + |z|).")
Tanhshrink = _simple("Tanhshrink", F.tanhshrink, "z - tanh(z).")


class _Inplace(Module):
    """An activation taking PyTorch's ``inplace`` flag (True: the input is overwritten)."""

    fn = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self).fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(z, 0); gradient 0 at z = 0."""

    fn = staticmethod(F.relu)


class ReLU6(_Inplace):
    """min(max(z, 0), 6)."""

    fn = staticmethod(F.relu6)


class SELU(_Inplace):
    """1.0507 * (z for z > 0, 1.6733 (exp(z) - 1) otherwise)."""

    fn = staticmethod(F.selu)


class SiLU(_Inplace):
    """z * sigmoid(z) (swish)."""

    fn = staticmethod(F.silu)


class Mish(_Inplace):
    """z * tanh(softplus(z))."""

    fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    """relu6(z + 3) / 6."""

    fn = staticmethod(F.hardsigmoid)


class Hardswish(_Inplace):
    """z * relu6(z + 3) / 6."""

    fn = staticmethod(F.hardswish)


class LeakyReLU(Module):
    """z for z > 0, negative_slope * z otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """z for z > 0, alpha (exp(z) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, z) + min(0, alpha (exp(z / alpha) - 1))."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.celu(input, self.alpha, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta z)) / beta; z itself where beta z > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ESwish(Module):
    """beta * z * sigmoid(z) (E-swish, Alcaide 2018).

    The paper recommends beta between 1 and 2; the default 1.375 is its best-performing
    value (PyTorch has no E-swish; beta = 1 gives SiLU).
    """

    def __init__(self, beta: float = 1.375):
        super().__init__()
        self.beta = beta

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.eswish(input, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class GELU(Module):
    """z Phi(z) = z/2 (1 + erf(z / sqrt 2)); approximate='tanh' uses
    z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    """clamp(z, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Threshold(Module):
    """z where z > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class Softshrink(Module):
    """z -+ lambd outside [-lambd, lambd], 0 inside."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """z outside [-lambd, lambd], 0 inside."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardshrink(input, self.lambd)


class _SoftmaxBase(Module):
    fn = None

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self).fn(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(z_i) / sum_j exp(z_j) along ``dim``."""

    fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    """z_i - logsumexp(z) along ``dim``."""

    fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-z) along ``dim``."""

    fn = staticmethod(F.softmin)


class Maxout(Module):
    """y_j = max_k (x W_jk^T + b_jk): the maximum of ``pieces`` affine maps per output unit
    (Goodfellow et al., 2013); the gradient flows to the winning piece.

    Args:
        in_features, out_features: input and output sizes; pieces: affine maps per unit (k).

    Shape: input (*, in_features), output (*, out_features). The weight is
    (out_features * pieces, in_features), initialised like ``nn.Linear``.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True,
                 dtype=None):
        super().__init__()
        if not isinstance(pieces, int) or pieces < 1:
            raise ValueError(f"Maxout: pieces must be a positive integer, got {pieces!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.pieces = pieces
        dt = dtype or _dtype.get_default_dtype()
        self.weight = Parameter(empty(out_features * pieces, in_features, dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_features * pieces, dtype=dt))
        else:
            self.register_parameter("bias", None)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features) if in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.maxout(input, self.weight, self.bias, self.pieces)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")


__all__ = [
    "CELU", "ELU", "ESwish", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
    "LeakyReLU", "LogSigmoid", "LogSoftmax", "Maxout", "Mish", "PiecewiseLinear", "ReLU",
    "ReLU6", "SELU", "SiLU", "Sigmoid", "Sign", "Softmax", "Softmin", "Softplus",
    "Softshrink", "Softsign", "Step", "Tanh", "Tanhshrink", "Threshold",
]
