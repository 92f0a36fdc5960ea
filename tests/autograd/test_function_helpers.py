"""autograd.function helpers: setup_context-style Functions, save_for_forward,
once_differentiable, FunctionCtx, node hooks; autograd.graph; grad_mode names."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func
from chainrule.autograd.function import FunctionCtx, once_differentiable


class Sin(cr.autograd.Function):
    @staticmethod
    def forward(x):  # no ctx: PyTorch's setup_context style
        return x.sin()

    @staticmethod
    def setup_context(ctx, inputs, output):
        assert isinstance(ctx, FunctionCtx)
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x.cos())

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()

    @staticmethod
    def jvp(ctx, t):
        (c,) = ctx.saved_tensors  # what save_for_forward saved
        return t * c


def test_setup_context_function_backward_forward_and_transforms(torch):
    xn = np.array([0.3, -1.2, 2.0])
    x = cr.tensor(xn, requires_grad=True)
    Sin.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xn))
    _, t = func.jvp(Sin.apply, (cr.tensor(xn),), (cr.ones(3, dtype=cr.float64),))
    np.testing.assert_allclose(t.numpy(), np.cos(xn))
    np.testing.assert_allclose(func.jacrev(Sin.apply)(cr.tensor(xn)).numpy(), np.diag(np.cos(xn)))
    np.testing.assert_allclose(func.jacfwd(Sin.apply)(cr.tensor(xn)).numpy(), np.diag(np.cos(xn)))


def test_once_differentiable_blocks_double_backward():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not cr.is_grad_enabled()
            return g * 3 * x ** 2

    x = cr.tensor([2.0], requires_grad=True)
    (g,) = cr.autograd.grad(Cube.apply(x), x)
    assert g.item() == 12.0
    v = cr.tensor([1.0], requires_grad=True)  # a cotangent in the graph, as in torch
    (g,) = cr.autograd.grad(Cube.apply(x), x, v, create_graph=True)
    assert g.item() == 12.0 and g.requires_grad
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


def test_mark_non_differentiable_and_materialize_flag():
    class Split(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            ctx.set_materialize_grads(False)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, _):
            return g * 2

    x = cr.tensor([1.0, 3.0], requires_grad=True)
    y, i = Split.apply(x)
    assert not i.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_node_api_and_hooks():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).exp()
    node = y.grad_fn
    assert isinstance(node, cr.autograd.graph.Node) and node.name() == "ExpBackward0"
    seen = []
    h1 = node.register_hook(lambda gi, go: seen.append(len(gi)))
    h2 = node.register_prehook(lambda go: (go[0] * 0,))
    y.sum().backward(retain_graph=True)
    assert seen == [1] and np.all(x.grad.numpy() == 0)
    h1.remove()
    h2.remove()
    x.grad = None
    y.sum().backward()
    assert seen == [1] and np.all(x.grad.numpy() > 0)


def test_graph_context_managers_and_grad_mode_names():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with cr.autograd.graph.save_on_cpu():
            y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert not cr.is_inference_mode_enabled()
    with cr.inference_mode():
        assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()
        with cr.inference_mode(False):
            assert not cr.autograd.is_inference_mode_enabled()
    from chainrule.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled  # noqa: F401


def test_grad_is_grads_batched_and_materialize(torch):
    xn = np.array([0.5, 1.5, -1.0])
    x = cr.tensor(xn, requires_grad=True)
    y = x.sin() * x
    (g,) = cr.autograd.grad(y, x, cr.eye(3, dtype=cr.float64), is_grads_batched=True)
    xt = torch.tensor(xn, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.sin() * xt, xt, torch.eye(3, dtype=torch.float64),
                                is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), gt.numpy())
    z = cr.tensor([1.0], requires_grad=True)
    gx, gz = cr.autograd.grad(y.sum(), (x, z), materialize_grads=True)
    assert gz.item() == 0.0


def test_functional_vectorize_strict_and_strategies(torch):
    from chainrule.autograd.functional import hessian, jacobian

    def f(L, a, b):
        return (a.sin() * b, a.sum() * b)

    a, b = np.array([0.1, 0.2, 0.3]), np.array([1.0, -2.0, 0.5])
    want = torch.autograd.functional.jacobian(lambda a, b: f(torch, a, b),
                                              (torch.tensor(a), torch.tensor(b)))
    for vec, strat in ((False, "reverse-mode"), (True, "reverse-mode"), (True, "forward-mode")):
        J = jacobian(lambda a, b: f(cr, a, b), (cr.tensor(a), cr.tensor(b)), vectorize=vec,
                     strategy=strat)
        for i in range(2):
            for j in range(2):
                np.testing.assert_allclose(J[i][j].numpy(), want[i][j].numpy())
    H = hessian(lambda a: (a.sin() ** 2).sum(), cr.tensor(a), vectorize=True,
                outer_jacobian_strategy="forward-mode")
    Ht = torch.autograd.functional.hessian(lambda a: (a.sin() ** 2).sum(), torch.tensor(a))
    np.testing.assert_allclose(H.numpy(), Ht.numpy())
    with pytest.raises(RuntimeError, match="independent of input 1"):
        jacobian(lambda a, b: a * 2, (cr.tensor(a), cr.tensor(b)), strict=True)
    with pytest.raises(RuntimeError, match="strict"):
        jacobian(lambda a: a, cr.tensor(a), strict=True, vectorize=True)
    with pytest.raises(NotImplementedError, match="vectorize"):
        jacobian(lambda a: a, cr.tensor(a), strategy="forward-mode")


def test_forward_ad_api():
    fwad = cr.autograd.forward_ad
    with fwad.dual_level():
        d = fwad.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0]))
        out = fwad.unpack_dual(d.exp())
        assert isinstance(out, fwad.UnpackedDualTensor)
        np.testing.assert_allclose(out.tangent.numpy(), [np.e, 0.0], rtol=1e-6)
        with pytest.raises(RuntimeError, match="nested"):
            fwad.enter_dual_level()
    lv = fwad.enter_dual_level()
    fwad.exit_dual_level(level=lv)
    with pytest.raises(RuntimeError, match="no dual level"):
        fwad.exit_dual_level()
