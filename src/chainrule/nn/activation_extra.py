"""More activation modules (``torch.nn.modules.activation``): ``PReLU``, ``GLU``, ``RReLU``,
``Softmax2d``."""

from __future__ import annotations

from .. import _dtype
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._functional_act_extra import glu, prelu, rrelu
from .module import Module
from .parameter import Parameter

__all__ = ["GLU", "PReLU", "RReLU", "Softmax2d"]


class PReLU(Module):
    """Parametric ReLU: y = x for x > 0, a x otherwise, with a learned slope ``a`` (one
    shared, or one per input channel).

    Args:
        num_parameters: 1 (one slope for all inputs) or C, the number of channels (dim 1).
        init: the initial slope (default 0.25).

    Shape: input (*) ((N, C, *) when num_parameters = C), output the same.
    Parameter: ``weight`` of shape (num_parameters,).

    Example::

        >>> m = nn.PReLU()
        >>> m(cr.tensor([-2.0, 2.0]))
        tensor([-0.5000,  2.0000], grad_fn=<WhereBackward0>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=dtype or _dtype.get_default_dtype()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """Gated linear unit: a * sigmoid(b) for the two halves a, b of the input along ``dim``.

    Args: dim: the dimension halved (default -1).
    Shape: (*, 2M, *) -> (*, M, *).

    Example::

        >>> nn.GLU()(cr.randn(4, 2)).shape
        chainrule.Size([4, 1])
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class RReLU(Module):
    """Randomized leaky ReLU: x for x >= 0, a x otherwise; a ~ U(lower, upper) per element in
    training, a = (lower + upper) / 2 in eval mode.

    Args: lower (1/8), upper (1/3): the slope range; inplace: overwrite the input.
    Shape: input (*), output the same.

    Example::

        >>> nn.RReLU().eval()(cr.tensor([-4.0]))
        tensor([-0.9167])
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class Softmax2d(Module):
    """Softmax over the channels at every spatial location: y[.., c, h, w] = exp(x_c) /
    sum_c' exp(x_c') (dim -3).

    Shape: (N, C, H, W) or (C, H, W), output the same.

    Example::

        >>> nn.Softmax2d()(cr.randn(2, 3, 4, 4)).sum(1).shape
        chainrule.Size([2, 4, 4])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return input.softmax(-3)
