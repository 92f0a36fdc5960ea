"""Walking the backward graph as PyTorch programs do (tutorials print ``grad_fn`` chains;
torchviz-style code recurses through ``next_functions`` and keys nodes by identity).

A leaf shows up as an ``AccumulateGrad`` with ``variable``, empty ``next_functions`` (a walk
ends there: it raised AttributeError before), a ``metadata`` dict and PyTorch's ``name()``;
the same leaf is the same object while referenced; graph nodes have ``metadata`` too and
both are ``autograd.graph.Node``s. Compared with torch 2.13.
"""

from __future__ import annotations

import numpy as np


def _walk(lib, root):
    """(number of distinct nodes, number of AccumulateGrad nodes, leaves seen) of a graph
    walk keyed by node identity, as torchviz does."""
    seen, accs, leaves = set(), 0, set()
    stack = [root]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if hasattr(fn, "variable"):
            accs += 1
            leaves.add(id(fn.variable))
        for f, _ in fn.next_functions:  # an AccumulateGrad has none
            stack.append(f)
    return accs, len(leaves)


def _net(lib):
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc2(F.relu(self.fc1(lib.flatten(x, 1))))

    net = Net()
    x = lib.from_numpy(np.random.default_rng(0).standard_normal((2, 1, 32, 32))
                       .astype(np.float32))
    out = net(x)
    loss = ((out - 1) ** 2).mean()
    return net, loss


def test_graph_walk_reaches_every_parameter_once(torch):
    import chainrule as cr

    for lib in (torch, cr):
        net, loss = _net(lib)
        accs, leaves = _walk(lib, loss.grad_fn)
        n_params = len(list(net.parameters()))
        assert (accs, leaves) == (n_params, n_params), lib.__name__


def test_accumulate_grad_node_as_torch(torch):
    import chainrule as cr

    for lib in (torch, cr):
        x = lib.ones(2, requires_grad=True)
        acc = (x * 3).grad_fn.next_functions[0][0]
        assert type(acc).__name__ == "AccumulateGrad"
        assert acc.variable is x
        assert acc.next_functions == ()
        assert acc.name() == "torch::autograd::AccumulateGrad"
        assert acc is (x * 2).grad_fn.next_functions[0][0]  # one per leaf while referenced
        assert isinstance(acc, lib.autograd.graph.Node)
        acc.metadata["seen"] = 1
        assert acc.metadata == {"seen": 1}
        g = (x * 3).sum().grad_fn
        assert isinstance(g, lib.autograd.graph.Node)
        g.metadata["k"] = "v"
        assert g.metadata == {"k": "v"}


def test_accumulate_grad_nodes_do_not_keep_leaves_alive():
    import gc
    import weakref

    import chainrule as cr
    from chainrule.autograd.function import base

    x = cr.ones(3, requires_grad=True)
    acc = (x * 3).grad_fn.next_functions[0][0]
    ref, key = weakref.ref(x), id(x)
    assert key in base._ACCUMULATORS
    del acc, x
    gc.collect()
    assert ref() is None
    assert key not in base._ACCUMULATORS  # the table forgets a node once it is gone
