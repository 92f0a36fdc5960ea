"""``ResidualBlock``: the basic block of a residual network (two 3x3 convolutions)."""

from __future__ import annotations

from ..tensor import Tensor
from .container import Sequential
from .conv import Conv2d
from .module import Module
from .normalization import BatchNorm2d

__all__ = ["ResidualBlock"]


class ResidualBlock(Module):
    """y = relu(F(x) + shortcut(x)),  F = conv3x3 -> BatchNorm2d -> relu -> conv3x3 -> BatchNorm2d.

    The shortcut is the identity when the shape is kept (stride 1 and in_channels ==
    out_channels), otherwise a 1x1 convolution with the block's stride followed by
    BatchNorm2d (a projection). The block learns the residual F(x) = y - x, so a deep stack
    can start near the identity and gradients reach early layers through the shortcuts.

    Args:
        in_channels, out_channels: C_in and C_out.
        stride: stride of the first convolution (2 halves H and W; default 1).

    Shape: input (N, C_in, H, W), output (N, C_out, ceil(H / stride), ceil(W / stride)).

    Example::

        >>> block = nn.ResidualBlock(16, 32, stride=2)
        >>> block(cr.randn(4, 16, 8, 8)).shape
        chainrule.Size([4, 32, 4, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("stride", stride)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"ResidualBlock: {name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(
                Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResidualBlock({self.in_channels}, {self.out_channels}): expected "
                             f"input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return (out + skip).relu()

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
