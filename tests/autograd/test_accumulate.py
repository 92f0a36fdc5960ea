"""Leaf accumulation takes a fresh gradient array without copying, but never one that
something else can see (another leaf, the caller's gradient, a view)."""

import numpy as np

import chainrule as cr


def test_two_leaves_fed_the_same_gradient_get_independent_arrays():
    a = cr.randn(3, 4, requires_grad=True)
    b = cr.randn(3, 4, requires_grad=True)
    (a + b).backward(cr.ones(3, 4))
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    with cr.no_grad():
        a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((3, 4), np.float32))


def test_the_callers_gradient_is_never_aliased():
    z = cr.randn(3, requires_grad=True)
    g = cr.ones(3)
    (z + 0.0).backward(g)
    z.backward(g)  # a leaf as the root: its own gradient is the caller's tensor
    with cr.no_grad():
        z.grad.mul_(10.0)
    np.testing.assert_array_equal(g.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(z.grad.numpy(), np.full(3, 20.0, np.float32))


def test_fresh_weight_gradient_is_taken_and_later_accumulated_in_place():
    w = cr.randn(5, 4, requires_grad=True)
    x = cr.randn(7, 4)
    cr.nn.functional.linear(x, w).backward(cr.ones(7, 5))
    first = w.grad
    expected = np.ones((7, 5), np.float32).T @ x.numpy()
    np.testing.assert_allclose(first.numpy(), expected, rtol=1e-6)
    cr.nn.functional.linear(x, w).backward(cr.ones(7, 5))
    assert w.grad is first  # accumulated into the same tensor, in place
    np.testing.assert_allclose(w.grad.numpy(), 2 * expected, rtol=1e-6)
