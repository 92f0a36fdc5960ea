"""gradcheck and gradgradcheck: pass on correct rules, name the worst element otherwise."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck


def _r(*shape):
    return cr.randn(*shape, dtype=cr.float64, requires_grad=True)


def test_gradcheck_passes_for_composite():
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(1), (_r(3, 4), _r(4, 2)))
    assert gradgradcheck(lambda a: (a * a.sin()).exp(), (_r(3),))


class _WrongSquare(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x  # wrong: should be 2x


def test_gradcheck_names_input_and_worst_element():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda x: _WrongSquare.apply(x), (x,))
    msg = str(e.value)
    assert "input 0" in msg and "(1, 1)" in msg
    assert "analytical 12" in msg and "numerical 8" in msg
    assert gradcheck(lambda x: _WrongSquare.apply(x), (x,), raise_exception=False) is False


def test_gradgradcheck_catches_wrong_second_derivative():
    class FrozenSlope(cr.autograd.Function):
        """x^2 with a first derivative computed outside the graph (no second derivative)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * cr.tensor(2 * x.detach().numpy())

    x = _r(3)
    assert gradcheck(FrozenSlope.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(FrozenSlope.apply, (x,))
    np.testing.assert_array_equal(x.detach().numpy(), x.detach().numpy())
