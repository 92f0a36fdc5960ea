"""What cannot be replayed runs eagerly (one warning, the right numbers), fullgraph=True
raises, values read in Python become guards, and the torch.compile arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.compiler import CompileWarning, Unsupported


def _setup():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return model, cr.optim.SGD(model.parameters(), lr=0.1)


def _step_with(extra):
    model, opt = _setup()
    x, y = cr.randn(6, 4), cr.randn(6, 2)

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return extra(loss)

    return step, model


@pytest.mark.parametrize("extra,match", [
    (lambda loss: loss.item(), r"\.item\(\)"),
    (lambda loss: float(loss), r"float\(\)"),
    (lambda loss: print(loss), "printing"),
    (lambda loss: loss.detach().numpy(), r"numpy\(\)"),
])
def test_reads_after_side_effects_run_eagerly(extra, match, capsys):
    eager, m1 = _step_with(extra)
    comp, m2 = _step_with(extra)
    comp = cr.compile(comp)
    with pytest.warns(CompileWarning, match=match):
        for _ in range(4):
            a, b = eager(), comp()
            if isinstance(a, float):
                assert a == b
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy())
               for p, q in zip(m1.parameters(), m2.parameters()))
    assert len(comp.compile_times) == 0  # recorded once, given up, then plain eager


def test_fullgraph_raises():
    step, _ = _step_with(lambda loss: loss.item())
    with pytest.raises(Unsupported, match=r"fullgraph=True.*\.item\(\)"):
        cr.compile(step, fullgraph=True)()


def test_data_dependent_branch_becomes_a_guard():
    calls = []

    @cr.compile
    def f(x):
        calls.append(1)
        if x.sum() > 0:
            return x * 2
        return x * 3

    pos, neg = cr.ones(3), -cr.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for x in (pos, pos, neg, pos, neg, neg):
            want = x.numpy() * (2 if x.numpy().sum() > 0 else 3)
            assert np.array_equal(f(x).numpy(), want)
    # recorded for pos; every neg call misses the guard and runs eagerly
    assert len(f.compile_times) == 1 and len(calls) == 1 + 3


def test_a_guard_that_always_misses_ends_as_eager():
    @cr.compile
    def f(x):
        return x * int(x.sum())

    with pytest.warns(CompileWarning, match="keeps changing"):
        for i in range(12):
            x = cr.full((2,), float(i))
            assert np.array_equal(f(x).numpy(), x.numpy() * int(2 * i))


@pytest.mark.parametrize("what", ["hook", "scheduler", "retain"])
def test_python_side_effects_inside_run_eagerly(what):
    model, opt = _setup()
    sched = cr.optim.lr_scheduler.StepLR(opt, 1)
    seen = []

    @cr.compile
    def step(x):
        h = model(x)
        if what == "hook":
            h.register_hook(lambda g: seen.append(g))
        if what == "retain":
            h.retain_grad()
        h.sum().backward()
        if what == "scheduler":
            sched.step()
        return h

    with pytest.warns(CompileWarning, match="inside"):
        for _ in range(3):
            step(cr.randn(2, 4))
    if what == "hook":
        assert len(seen) == 3  # the hook ran at every call


def test_forward_hooks_make_the_module_run_eagerly():
    model, _ = _setup()
    seen = []
    model[0].register_forward_hook(lambda m, i, o: seen.append(o))
    c = cr.compile(model)
    with pytest.warns(CompileWarning, match="forward hooks"):
        for _ in range(3):
            c(cr.randn(2, 4))
    assert len(seen) == 3


def test_recompile_limit():
    f = cr.compile(lambda x: x + 1, recompile_limit=2)
    with pytest.warns(CompileWarning, match="recompile_limit"):
        for n in (1, 2, 3, 3):
            assert np.array_equal(f(cr.zeros(n)).numpy(), np.ones(n, np.float32))
    assert len(f.compile_times) == 2


def test_reset_and_is_compiling_and_disable():
    seen = []

    @cr.compile
    def f(x):
        seen.append(cr.compiler.is_compiling())
        return x * 2

    x = cr.ones(2)
    f(x)
    f(x)
    assert seen == [True]  # the Python body ran once, while recording
    cr.compiler.reset()
    f(x)
    assert seen == [True, True]
    with cr.compiler.disable():
        f(x)
    assert seen == [True, True, False]
    assert not cr.compiler.is_compiling()


def test_arguments_like_torch_compile():
    f = lambda x: x  # noqa: E731
    assert cr.compile(f, disable=True) is f
    deco = cr.compile(fullgraph=True, mode="max-autotune")
    assert callable(deco(f))
    for mode in ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        cr.compile(f, mode=mode)
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        cr.compile(f, mode="fastest")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        cr.compile(f, mode="default", options={"buffers": True})
    with pytest.raises(RuntimeError, match="Unexpected optimization option"):
        cr.compile(f, options={"triton.cudagraphs": True})
    with pytest.raises(ValueError, match="unknown backend"):
        cr.compile(f, backend="tensorrt")
    with pytest.raises(NotImplementedError, match="custom backend"):
        cr.compile(f, backend=lambda gm, ex: gm)
    with pytest.raises(TypeError, match="Module or a callable"):
        cr.compile(3)
    calls = []
    g = cr.compile(lambda x: calls.append(1) or x, backend="eager")
    g(cr.ones(1))
    g(cr.ones(1))
    assert len(calls) == 2
    h = cr.compile(lambda x: x * 2, options={"buffers": False}, dynamic=True)
    for _ in range(2):
        assert np.array_equal(h(cr.ones(2)).numpy(), [2, 2])


def test_replacing_a_parameter_array_inside_runs_eagerly():
    model, _ = _setup()
    x = cr.randn(3, 4)

    @cr.compile
    def manual_sgd():
        loss = model(x).pow(2).mean()
        for p in model.parameters():
            p.grad = None
        loss.backward()
        for p in model.parameters():
            p.data = p.data - 0.1 * p.grad  # a new array each step
        return loss

    ref, _ = _setup()
    with pytest.warns(CompileWarning, match="replaces the array"):
        for _ in range(3):
            manual_sgd()
    for _ in range(3):
        loss = ref(x).pow(2).mean()
        for p in ref.parameters():
            p.grad = None
        loss.backward()
        for p in ref.parameters():
            p.data = p.data - 0.1 * p.grad
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy())
               for p, q in zip(model.parameters(), ref.parameters()))


def test_roots_from_default_arguments_and_partials():
    import functools

    model, opt = _setup()
    ref, ropt = _setup()
    x, y = cr.randn(6, 4), cr.randn(6, 2)

    def step(x, y, model=model, opt=opt):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def step2(m, o, x, y):
        return step(x, y, m, o)

    f = cr.compile(functools.partial(step2, ref, ropt))
    g = cr.compile(step)
    for _ in range(4):
        assert float(g(x, y)) == float(f(x, y))
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy())
               for p, q in zip(model.parameters(), ref.parameters()))


def test_rebinding_a_global_model():
    """The key follows the objects the function reaches now (a global rebound to another
    model in eval mode must not replay the first model's training program)."""
    global _model
    _model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))

    @cr.compile
    def f(x):
        return _model(x)

    x = cr.ones(4, 3)
    f(x)
    f(x)
    _model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).eval()
    for _ in range(2):
        assert np.array_equal(f(x).detach().numpy(), _model(x).detach().numpy())
    _model.train()  # the key must see this model's flag
    cr.manual_seed(5)
    a = f(x).detach().numpy()
    cr.manual_seed(5)
    assert np.array_equal(a, _model(x).detach().numpy())


def test_leaves_reached_only_through_a_lambda_still_get_their_gradients():
    """x and y are not visible to the roots (only the lambda's closure holds them): they
    are found when a primitive first uses them, and their .grad is bound at replay."""

    def make():
        x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = cr.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
        return x, y, (lambda: (x * y).sum())

    x1, y1, op1 = make()
    x2, y2, op2 = make()

    def step(op=op1):
        op().backward()

    compiled = cr.compile(lambda op=op2: op().backward())
    for _ in range(4):
        step()
        compiled()
    assert np.array_equal(x1.grad.numpy(), x2.grad.numpy())
    assert np.array_equal(y1.grad.numpy(), y2.grad.numpy())
    assert np.array_equal(x2.grad.numpy(), 4 * y2.detach().numpy())


def test_switching_train_eval_inside_runs_eagerly():
    model, _ = _setup()

    @cr.compile
    def to_eval(x):
        model.eval()
        return model(x)

    with pytest.warns(CompileWarning, match="train"):
        to_eval(cr.randn(2, 4))
    model.train()
    to_eval(cr.randn(2, 4))
    assert not model.training  # the eager call switched it, as written
