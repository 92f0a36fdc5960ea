"""gradcheck / gradgradcheck options: each check catches the bug it is for."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck


def _x(*shape):
    return cr.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


def _fn(backward=None, jvp=None, forward=None):
    class F(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x) if forward else x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return backward(x, g) if backward else g * x.cos()

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return jvp(x, t) if jvp else t * x.cos()

    return F.apply


def test_all_checks_pass_on_correct_functions():
    x, y = _x(3), _x(3)
    f = lambda a, b: (a.sin() * b.exp(), (a * b).sum())  # noqa: E731
    assert gradcheck(f, (x, y), check_forward_ad=True, check_batched_grad=True,
                     check_batched_forward_grad=True, check_grad_dtypes=True)
    assert gradcheck(f, (x, y), fast_mode=True, check_forward_ad=True)
    assert gradgradcheck(f, (x, y), check_fwd_over_rev=True, check_batched_grad=True)
    assert gradcheck(_fn(), (x,), check_forward_ad=True, masked=False)


def test_backward_and_forward_checks_catch_wrong_rules():
    x = _x(4)
    bad_bwd = _fn(backward=lambda x, g: g * x.cos() * 1.5)
    with pytest.raises(GradcheckError, match="backward Jacobian mismatch"):
        gradcheck(bad_bwd, (x,))
    assert gradcheck(bad_bwd, (x,), check_backward_ad=False, check_forward_ad=True)
    bad_fwd = _fn(jvp=lambda x, t: t * x.sin())
    assert gradcheck(bad_fwd, (x,))
    with pytest.raises(GradcheckError, match="forward Jacobian mismatch"):
        gradcheck(bad_fwd, (x,), check_forward_ad=True)
    with pytest.raises(GradcheckError, match="random projection"):
        gradcheck(bad_bwd, (x,), fast_mode=True)
    assert gradcheck(bad_bwd, (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(bad_bwd, (x,), check_backward_ad=False)


def test_nondeterministic_backward_and_tolerance():
    rng = np.random.default_rng(1)
    noisy = _fn(backward=lambda x, g: g * x.cos() + cr.tensor(rng.normal(0, 1e-9, x.shape)))
    x = _x(3)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(noisy, (x,))
    assert gradcheck(noisy, (x,), nondet_tol=1e-6, check_undefined_grad=False)


def test_undefined_grad_and_dtype_checks():
    x = _x(3)
    leaky = _fn(backward=lambda x, g: g * x.cos() + (g.abs().sum() == 0).to(x.dtype))
    with pytest.raises(GradcheckError, match="zero"):
        gradcheck(leaky, (x,))
    assert gradcheck(leaky, (x,), check_undefined_grad=False)
    # the engine casts every gradient to its input's dtype, so this check always holds here
    assert gradcheck(_fn(backward=lambda x, g: (g * x.cos()).to(cr.float32)), (x,),
                     check_grad_dtypes=True, atol=1e-3)


def test_gradgradcheck_catches_wrong_second_derivative():
    class Sq(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x.detach()  # detached: the second derivative is lost

    x = _x(3)
    assert gradcheck(Sq.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(Sq.apply, (x,))
