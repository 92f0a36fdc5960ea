"""cr.compile(model): the OptimizedModule wrapper, backward through a compiled forward,
and PyTorch-style training loops."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.compiler import CompileWarning, OptimizedModule

from .._functions import Cube


def _mlp():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def _programs(fn) -> int:
    return sum(len(v) for v in fn._cache.values() if isinstance(v, list))


def test_optimized_module_mirrors_torch():
    m = _mlp()
    c = cr.compile(m)
    assert isinstance(c, OptimizedModule) and isinstance(c, nn.Module)
    assert c._orig_mod is m
    assert list(c.state_dict()) == ["_orig_mod." + k for k in m.state_dict()]
    assert [id(p) for p in c.parameters()] == [id(p) for p in m.parameters()]
    assert c._orig_mod[0] is m[0] and len(c) == 3  # len comes from the module
    with pytest.raises(TypeError):
        c[0]  # not subscriptable, as in PyTorch
    c.eval()
    assert not m.training and not c.training
    c.train()
    assert m.training
    c.foo = 3  # writes go to the original module, as in PyTorch
    assert m.foo == 3
    assert "OptimizedModule" in repr(c) and "(_orig_mod): Sequential" in repr(c)
    assert cr.compile(c)._orig_mod is m  # compiling again wraps the module, not the wrapper
    assert cr.compile(m, disable=True) is m


def test_compiled_module_training_loop_matches_eager():
    """model = cr.compile(model); backward and step run outside the compiled forward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    ds = cr.utils.data.TensorDataset(cr.from_numpy(x), cr.from_numpy(y))

    def run(compiled):
        model = _mlp()
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
        if compiled:
            model = cr.compile(model)
        crit = nn.CrossEntropyLoss()
        losses = []
        for _ in range(3):
            for xb, yb in cr.utils.data.DataLoader(ds, batch_size=8):  # last batch of 4
                opt.zero_grad()
                loss = crit(model(xb), yb)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses, [p.detach().numpy().copy() for p in model.parameters()], model

    eager, comp = run(False), run(True)
    assert eager[0] == comp[0]
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], comp[1]))
    assert _programs(comp[2]._compiled) == 2  # batch 8 and the last batch of 4


def test_backward_node_and_double_backward():
    m = cr.compile(_mlp())
    x = cr.randn(4, 6, requires_grad=True)
    for _ in range(2):
        out = m(x)
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    out.sum().backward()
    ref = _mlp()
    x2 = cr.tensor(x.detach().numpy(), requires_grad=True)
    ref(x2).sum().backward()
    assert np.array_equal(x.grad.numpy(), x2.grad.numpy())
    assert np.array_equal(m._orig_mod[0].weight.grad.numpy(), ref[0].weight.grad.numpy())
    y = m(x).sum()
    with pytest.raises(NotImplementedError, match="double backward"):
        cr.autograd.grad(y, x, create_graph=True)
    y = m(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_eval_mode_and_no_grad_record_their_own_programs():
    m = _mlp()
    c = cr.compile(m)
    x = cr.randn(5, 6)
    c(x)
    c.eval()
    with cr.no_grad():
        a = c(x)
        b = c(x)
    assert not a.requires_grad and np.array_equal(a.numpy(), b.numpy())
    assert np.array_equal(a.numpy(), m(x).detach().numpy())
    assert _programs(c._compiled) == 2


def test_guards_rerecord_on_changes():
    m = _mlp()
    c = cr.compile(m)
    with cr.no_grad():
        c(cr.randn(4, 6))
        c(cr.randn(4, 6))
        assert _programs(c._compiled) == 1
        c(cr.randn(7, 6))  # a new batch size
        assert _programs(c._compiled) == 2
        m[0].weight = nn.Parameter(cr.zeros(8, 6))  # a replaced parameter
        x = cr.randn(4, 6)
        assert np.array_equal(c(x).numpy(), m(x).numpy())
        m[2].bias.data = cr.ones(3)  # a replaced array
        assert np.array_equal(c(x).numpy(), m(x).numpy())
        assert _programs(c._compiled) == 4


def test_dropout_masks_fresh_and_equal_to_eager_with_same_seed():
    def run(compiled):
        cr.manual_seed(3)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
        f = cr.compile(model) if compiled else model
        x = cr.ones(4, 6)
        return [f(x).detach().numpy().copy() for _ in range(4)]

    eager, comp = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, comp))
    assert not np.array_equal(comp[2], comp[3])  # a new mask at each replay


def test_batchnorm_training_updates_running_stats_like_eager():
    def run(compiled):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(0)

        def step(x):
            opt.zero_grad()
            loss = model(x).mean()
            loss.backward()
            opt.step()
            return loss

        if compiled:
            step = cr.compile(step)
        for _ in range(5):
            step(cr.from_numpy(rng.standard_normal((4, 2, 6, 6)).astype(np.float32)))
        return {k: v.numpy().copy() for k, v in model.state_dict().items()}

    eager, comp = run(False), run(True)
    assert eager.keys() == comp.keys()
    for k in eager:
        assert np.array_equal(eager[k], comp[k]), k
    assert int(comp["1.num_batches_tracked"]) == 5


def test_gradient_accumulation_across_calls():
    def run(compiled):
        model = _mlp()
        x = cr.randn(4, 6)

        def micro():
            model(x).pow(2).mean().backward()

        if compiled:
            micro = cr.compile(micro)
        for _ in range(4):
            micro()
        return [p.grad.numpy().copy() for p in model.parameters()]

    cr.manual_seed(1)
    a = run(False)
    cr.manual_seed(1)
    b = run(True)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_method_of_a_trainer_object():
    class Trainer:
        def __init__(self):
            self.model = _mlp()
            self.opt = cr.optim.SGD(self.model.parameters(), lr=0.1)

        @cr.compile
        def step(self, x, y):
            self.opt.zero_grad()
            loss = nn.functional.mse_loss(self.model(x), y)
            loss.backward()
            self.opt.step()
            return loss

    t, ref = Trainer(), _mlp()
    ropt = cr.optim.SGD(ref.parameters(), lr=0.1)
    x, y = cr.randn(5, 6), cr.randn(5, 3)
    for _ in range(4):
        a = t.step(x, y)
        ropt.zero_grad()
        b = nn.functional.mse_loss(ref(x), y)
        b.backward()
        ropt.step()
        assert float(a) == float(b)


def test_structured_outputs_and_identity():
    @cr.compile
    def f(x, w):
        return {"y": (x * w, x), "n": x.shape[0]}

    x, w = cr.randn(3), cr.randn(3)
    for _ in range(3):
        out = f(x, w)
    assert out["y"][1] is x and out["n"] == 3
    assert np.array_equal(out["y"][0].numpy(), (x * w).numpy())


def test_user_autograd_function_inside():
    w = cr.randn(4, requires_grad=True)

    @cr.compile
    def f(x):
        w.grad = None
        Cube.apply(x * w).sum().backward()
        return w.grad

    x = cr.randn(4)
    for _ in range(3):
        g = f(x)
    assert np.allclose(g.numpy(), 3 * (x * w).detach().numpy() ** 2 * x.numpy())


def test_no_warning_on_the_normal_path():
    m = cr.compile(_mlp())
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(3):
            m(cr.randn(2, 6)).sum().backward()


def test_numpy_arguments_are_inputs():
    """NumPy arrays passed to a compiled function are inputs (not baked constants)."""

    @cr.compile
    def f(a, b):
        return (cr.from_numpy(a) * 2 + cr.tensor(b)).sum(), np.tanh(a).mean()

    rng = np.random.default_rng(0)
    for _ in range(4):
        a, b = (rng.standard_normal(5).astype(np.float32) for _ in range(2))
        s, m = f(a, b)
        assert float(s) == float((a * 2 + b).sum()) and float(m) == float(np.tanh(a).mean())
    assert len(f.compile_times) == 1


def test_replay_makes_no_reference_cycles():
    """A call's arrays are freed by reference counting (no garbage-collector cycle)."""
    import gc
    import weakref

    m = _mlp()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)

    @cr.compile
    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    x = cr.randn(5, 6)
    for _ in range(3):
        step(x)
    gc.disable()
    try:
        loss = step(x)
        refs = [weakref.ref(loss._data)] + [weakref.ref(p.grad._data) for p in m.parameters()]
        del loss
        step(x)  # zero_grad drops the old gradients; nothing else holds them
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
