"""``torch.nn.grad``: the gradients of a convolution with respect to its input and its
weight, as functions (computed by differentiating the convolution, which is linear in both).
"""

from __future__ import annotations

from ..autograd import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..creation import zeros
from ._conv3d_fn import conv3d
from ._spatial import conv1d, conv2d

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _input_grad(conv, input_size, weight, grad_output, stride, padding, dilation, groups):
    with enable_grad():
        x = zeros(*input_size, dtype=grad_output.dtype, requires_grad=True)
        out = conv(x, weight.detach(), None, stride, padding, dilation, groups)
        return _grad(out, x, grad_output)[0]


def _weight_grad(conv, input, weight_size, grad_output, stride, padding, dilation, groups):  # noqa: A002
    with enable_grad():
        w = zeros(*weight_size, dtype=grad_output.dtype, requires_grad=True)
        out = conv(input.detach(), w, None, stride, padding, dilation, groups)
        return _grad(out, w, grad_output)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d L / d input of ``conv1d`` given d L / d output (input of shape ``input_size``).

    Example::

        >>> nn.grad.conv1d_input((1, 2, 5), cr.randn(3, 2, 2), cr.ones(1, 3, 4)).shape
        chainrule.Size([1, 2, 5])
    """
    return _input_grad(conv1d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """d L / d weight of ``conv1d`` given d L / d output (weight of shape ``weight_size``)."""
    return _weight_grad(conv1d, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d L / d input of ``conv2d`` given d L / d output."""
    return _input_grad(conv2d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """d L / d weight of ``conv2d`` given d L / d output."""
    return _weight_grad(conv2d, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """d L / d input of ``conv3d`` given d L / d output."""
    return _input_grad(conv3d, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """d L / d weight of ``conv3d`` given d L / d output."""
    return _weight_grad(conv3d, input, weight_size, grad_output, stride, padding, dilation, groups)
