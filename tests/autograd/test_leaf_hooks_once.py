"""A leaf's tensor hooks run once per backward pass, on the leaf's whole gradient (the sum
of its edges), then the post-accumulate hooks, as PyTorch's AccumulateGrad (a clamp hook on
a weight used at every time step clamps the total, not each step's part)."""

import numpy as np
import pytest


def _program(lib, create_graph=False):
    w = lib.tensor([0.5, -1.0, 1.5], requires_grad=True)
    calls = []

    def pre(g):
        calls.append(g.detach().numpy().copy())
        return g.clamp(-2.0, 2.0)

    w.register_hook(pre)
    post = []
    w.register_post_accumulate_grad_hook(lambda p: post.append(p.grad.detach().numpy().copy()))
    h = lib.zeros(3)
    for t in range(4):  # w used at every step: four edges into the leaf
        h = (h + w * (t + 1.0)).tanh()
    (h * lib.tensor([3.0, -2.0, 1.0])).sum().backward(create_graph=create_graph)
    (w * w).sum().backward()  # a second pass accumulates into .grad
    return calls, post, w.grad.detach().numpy()


@pytest.mark.parametrize("create_graph", [False, True])
def test_leaf_hooks_run_once_on_the_total_as_torch(torch, create_graph):
    import chainrule as cr

    calls, post, grad = _program(cr, create_graph)
    tcalls, tpost, tgrad = _program(torch, create_graph)
    assert len(calls) == len(tcalls) == 2 and len(post) == len(tpost) == 2
    for a, b in zip(calls + post, tcalls + tpost):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, tgrad, rtol=1e-6, atol=1e-6)
