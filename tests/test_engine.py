"""The reverse-mode engine: accumulation, graph lifetime, grad modes, higher order, hooks,
autograd.grad and user-defined Functions."""

from __future__ import annotations

import gc
import time
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD


def _f64(values, requires_grad=True):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


def test_gradients_accumulate_across_backward_calls():
    x = _f64([1.0, 2.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2 + 3, 4 + 3])


def test_retain_graph_allows_a_second_backward():
    x = _f64(2.0)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 2 * 12.0


def test_reused_input_sums_its_contributions():
    a = _f64(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond_graph():
    x = _f64(0.7)
    y = x.sin()
    z = y * y + y.exp()
    z.backward()
    assert x.grad.item() == pytest.approx((2 * np.sin(0.7) + np.exp(np.sin(0.7))) * np.cos(0.7))


@pytest.mark.parametrize("ctx", [cr.no_grad, lambda: cr.set_grad_enabled(False),
                                 cr.inference_mode])
def test_grad_modes_stop_recording(ctx):
    x = _f64([1.0])
    with ctx():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad_and_set_grad_enabled_as_function():
    x = _f64([1.0])
    with cr.no_grad():
        with cr.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with cr.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_modes_as_decorators():
    x = _f64([1.0])

    @cr.no_grad()
    def f(t):
        return t * 2

    @cr.inference_mode()
    def g(t):
        return t * 2

    @cr.enable_grad()
    def h(t):
        return t * 2

    assert not f(x).requires_grad
    assert not g(x).requires_grad
    with cr.no_grad():
        assert h(x).requires_grad
    assert cr.is_grad_enabled()


def test_long_chain_backpropagates_iteratively_and_is_freed():
    """100,000 operations deep: no recursion limit, and the graph is collected afterwards."""
    x = _f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    node = weakref.ref(y.grad_fn)
    start = time.perf_counter()
    y.backward()
    assert time.perf_counter() - start < 30
    assert x.grad.item() == 1.0
    del y
    gc.collect()
    assert node() is None


def test_graph_is_freed_without_gc_cycles():
    x = _f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    node = weakref.ref(y.grad_fn)
    y.backward()
    del y
    assert node() is None  # plain reference counting: no reference cycles through the graph


def test_second_derivatives_with_create_graph():
    x = _f64(1.3)
    (dy,) = cr.autograd.grad(x ** 3, x, create_graph=True)
    (d2y,) = cr.autograd.grad(dy, x)
    assert dy.item() == pytest.approx(3 * 1.3 ** 2)
    assert d2y.item() == pytest.approx(6 * 1.3)

    x = _f64(0.4)
    (dt,) = cr.autograd.grad(x.tanh(), x, create_graph=True)
    dt.backward()
    t = np.tanh(0.4)
    assert dt.item() == pytest.approx(1 - t ** 2)
    assert x.grad.item() == pytest.approx(-2 * t * (1 - t ** 2))


def _net(params, x):
    w1, b1, w2 = params
    return ((x @ w1.T + b1).tanh() @ w2).sigmoid().sum()


def test_hessian_of_two_layer_network_matches_finite_differences():
    rng = np.random.default_rng(0)
    shapes = [(3, 2), (3,), (3,)]
    theta0 = rng.standard_normal(sum(int(np.prod(s)) for s in shapes))
    x = cr.from_numpy(rng.standard_normal((4, 2)))

    def unpack(theta):
        out, i = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(theta[i:i + n].reshape(s))
            i += n
        return out

    def grad_at(theta_np):
        theta = cr.from_numpy(theta_np.copy()).requires_grad_()
        (g,) = cr.autograd.grad(_net(unpack(theta), x), theta, create_graph=True)
        return theta, g

    theta, g = grad_at(theta0)
    n = theta0.size
    hess = np.stack([cr.autograd.grad(g[i], theta, retain_graph=True)[0].numpy()
                     for i in range(n)])
    eps = 1e-5
    fd = np.stack([(grad_at(theta0 + eps * e)[1].detach().numpy()
                    - grad_at(theta0 - eps * e)[1].detach().numpy()) / (2 * eps)
                   for e in np.eye(n)])
    np.testing.assert_allclose(hess, hess.T, atol=1e-12)
    np.testing.assert_allclose(hess, fd, atol=1e-7)


def test_float32_in_gives_float32_grads_out():
    w = cr.randn(3, 2, requires_grad=True)
    x = cr.randn(4, 2)
    b = cr.zeros(3, requires_grad=True)
    ((x @ w.T + b).relu() ** 2).mean().backward()
    assert w.grad.dtype == cr.float32 and b.grad.dtype == cr.float32
    # a float64 input mixed in does not upcast the float32 leaf's gradient
    v = cr.ones(3, requires_grad=True)
    (v * cr.tensor(2.0, dtype=cr.float64)).sum().backward()
    assert v.grad.dtype == cr.float32


def test_retain_grad_on_non_leaf():
    x = _f64([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [6.0, 12.0])
    z = x * 3
    (z * z).sum().backward()
    assert z.grad is None  # not retained


def test_register_hook_on_leaf_and_non_leaf_replaces_the_gradient():
    x = _f64([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], [20.0, 20.0])
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 20.0])

    x2 = _f64([1.0])
    handle = x2.register_hook(lambda g: g * 0)
    (x2 * 5).sum().backward()
    assert x2.grad.item() == 0.0
    handle.remove()
    x2.grad = None
    (x2 * 5).sum().backward()
    assert x2.grad.item() == 5.0


def test_autograd_grad_allow_unused_and_no_side_effects():
    x, y = _f64(2.0), _f64(3.0)
    out = x * x
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.autograd.grad(out, [x, y], retain_graph=True)
    gx, gy = cr.autograd.grad(out, [x, y], allow_unused=True, retain_graph=True)
    assert gx.item() == 4.0 and gy is None
    gx, gy = cr.autograd.grad(out, [x, y], materialize_grads=True)
    assert gy.item() == 0.0
    assert x.grad is None and y.grad is None


def test_backward_with_inputs_only_fills_those():
    x, y = _f64(2.0), _f64(3.0)
    (x * y).backward(inputs=[x])
    assert x.grad.item() == 3.0 and y.grad is None


class _ScaledCube(cr.autograd.Function):
    """out = s * x^3 (s a Python float), with an extra non-differentiable integer output."""

    @staticmethod
    def forward(ctx, x, s):
        ctx.save_for_backward(x)
        ctx.s = s
        ctx.seen_needs = ctx.needs_input_grad
        count = (x > 0).sum()
        ctx.mark_non_differentiable(count)
        return s * x ** 3, count

    @staticmethod
    def backward(ctx, grad, grad_count):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.s * x ** 2, None

    @staticmethod
    def jvp(ctx, x_dot, s_dot):
        (x,) = ctx.saved_tensors
        return x_dot * 3 * ctx.s * x ** 2, None


def test_custom_function_backward_saved_tensors_and_needs_input_grad():
    x = _f64([1.0, -2.0])
    out, count = _ScaledCube.apply(x, 0.5)
    assert out.grad_fn is not None and not count.requires_grad
    assert count.item() == 1
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * np.array([1.0, 4.0]))
    assert out.grad_fn.seen_needs == (True, False)


def test_custom_function_double_backward_and_jvp():
    x = _f64(2.0)
    out, _ = _ScaledCube.apply(x, 1.0)
    (g,) = cr.autograd.grad(out, x, create_graph=True)
    (g2,) = cr.autograd.grad(g, x)
    assert g.item() == 12.0 and g2.item() == 12.0
    with fwAD.dual_level():
        xd = fwAD.make_dual(_f64(2.0, False), _f64(1.0, False))
        out, _ = _ScaledCube.apply(xd, 1.0)
        assert fwAD.unpack_dual(out).tangent.item() == 12.0


def test_custom_function_without_jvp_fails_clearly_in_forward_mode():
    class NoJvp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with fwAD.dual_level():
        xd = fwAD.make_dual(_f64(1.0, False), _f64(1.0, False))
        with pytest.raises(NotImplementedError, match="NoJvp does not implement jvp"):
            NoJvp.apply(xd)


def test_forward_over_reverse_hessian_vector_product():
    x0 = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 0.5, -0.25])
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(x0, requires_grad=True), cr.from_numpy(v))
        (g,) = cr.autograd.grad((x ** 3).sum() + (x[0] * x[1]), x, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent.detach().numpy()
    hess = np.diag(6 * x0)
    hess[0, 1] = hess[1, 0] = 1.0
    np.testing.assert_allclose(hv, hess @ v)


def test_needs_input_grad_reflects_which_inputs_require_grad():
    class Mul(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return (grad * y if ctx.needs_input_grad[0] else None), grad * x

    x, y = _f64([1.0, 2.0], False), _f64([3.0, 4.0])
    out = Mul.apply(x, y)
    assert out.grad_fn.needs_input_grad == (False, True)
    out.sum().backward()
    assert x.grad is None and y.grad.tolist() == [1.0, 2.0]


def test_retained_grad_sees_the_hooked_gradient_like_pytorch():
    a = _f64([1.0, 2.0])
    b = a * 2
    b.retain_grad()
    b.register_hook(lambda g: g * 3)  # retain_grad's hook runs last, as in PyTorch 2
    (b * b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [12.0, 24.0])
    np.testing.assert_array_equal(a.grad.numpy(), [24.0, 48.0])


def test_graph_without_saved_values_can_be_backpropagated_twice():
    x = _f64([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_autograd_backward_of_several_roots_and_grad_of_a_non_leaf():
    x = _f64(2.0)
    cr.autograd.backward([x * 2, x * x])
    assert x.grad.item() == 2 + 4
    h = x * 3
    (gh,) = cr.autograd.grad((h ** 2).sum(), h)
    assert gh.item() == 2 * 6.0


def test_anomaly_mode_as_decorator_and_switch():
    @cr.autograd.detect_anomaly()
    def inside():
        return cr.autograd.is_anomaly_enabled()

    assert inside() and not cr.autograd.is_anomaly_enabled()
    with cr.autograd.set_detect_anomaly(True):
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()


def test_post_accumulate_grad_hook_sees_accumulated_grad_in_reverse_order():
    from chainrule.autograd.engine import queue_callback

    w1 = cr.tensor([1.0, 2.0], requires_grad=True)
    w2 = cr.tensor([3.0], requires_grad=True)
    seen = []
    w1.register_post_accumulate_grad_hook(lambda t: seen.append(("w1", t.grad.tolist())))
    h = w2.register_post_accumulate_grad_hook(lambda t: seen.append(("w2", t.grad.tolist())))
    ((w1 * 2).sum() * w2).sum().backward()
    assert seen == [("w2", [6.0]), ("w1", [6.0, 6.0])]
    h.remove()
    seen.clear()
    done = []
    loss = (w1 * w2).sum()
    w1.register_hook(lambda g: queue_callback(lambda: done.append(w1.grad.tolist())))
    loss.backward()
    assert seen == [("w1", [9.0, 9.0])]  # second backward accumulates 3 into each
    assert done == [[9.0, 9.0]]  # the callback ran after the pass, with the grad in place
    with pytest.raises(RuntimeError, match="during a backward pass"):
        queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w1 * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_a_gradient_shared_by_two_edges_is_never_taken_by_a_leaf(torch):
    # Add returns one gradient tensor for both inputs: when one input is a leaf, its .grad
    # must not be that tensor's array, which the other branch still reads (it was, and the
    # later in-place accumulation leaked into the other branch: row 0 off by 12)
    grads = []
    for L in (cr, torch):
        x = L.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        o = (x * 2) + (x + x[[0, 0]].sum(0))
        (o * L.ones(3, 2)).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [[9.0, 9.0], [3.0, 3.0], [3.0, 3.0]]
