"""A custom autograd Function several tests use (PyTorch's custom-Function pattern)."""

import chainrule as cr


class Cube(cr.autograd.Function):
    """x ** 3, with its hand-written backward 3 x^2 g."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2
