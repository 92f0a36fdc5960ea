"""chainrule.compile on whole training steps: compiled results equal eager results bit for
bit (W1-W4-style networks, every optimizer), and the compiled path really replays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.compiler import CompileWarning

SIMPLE = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop", "Adagrad", "Adadelta",
          "GD", "Momentum", "RAdam", "Rprop", "ASGD", "Adafactor"]
CLOSURE = ["LBFGS", "BFGS", "Newton", "LineSearchGD"]


def _data(shape, n_batches=4, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    xs = [cr.from_numpy(rng.standard_normal(shape).astype(np.float32)) for _ in range(n_batches)]
    ys = [cr.from_numpy(rng.integers(0, classes, shape[0])) for _ in range(n_batches)]
    return xs, ys


class _GRUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 8, batch_first=True)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def _model(kind):
    cr.manual_seed(0)
    if kind == "mlp":  # W1 (smaller)
        return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                             nn.Linear(16, 10))
    if kind == "cnn":  # W3
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(8 * 3 * 3, 10))
    return _GRUNet()  # W4


SHAPES = {"mlp": (8, 20), "cnn": (4, 1, 12, 12), "gru": (4, 6, 1)}


def _train(kind, opt_fn, compiled, steps=20, loss_fn=None):
    model = _model(kind)
    opt = opt_fn(model.parameters())
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    xs, ys = _data(SHAPES[kind])

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = cr.compile(step)
    losses = [float(step(xs[i % 4], ys[i % 4])) for i in range(steps)]
    if compiled:  # the program reads as forward, backward, optimizer
        text = str(step.programs[0])
        assert "backward" in text and f"{type(opt).__name__}.step" in text
    return losses, [p.detach().numpy().copy() for p in model.parameters()], step


def _same(a, b):
    la, pa, _ = a
    lb, pb, _ = b
    assert la == lb
    assert all(np.array_equal(x, y) for x, y in zip(pa, pb))


def _replays(step) -> int:
    return sum(len(v) for v in step._cache.values() if isinstance(v, list))


@pytest.mark.parametrize("kind,opt_fn", [
    ("mlp", lambda p: cr.optim.Adam(p, lr=1e-2)),
    ("cnn", lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("gru", lambda p: cr.optim.Adam(p, lr=1e-2)),
])
def test_training_steps_bitwise_equal(kind, opt_fn):
    eager = _train(kind, opt_fn, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        comp = _train(kind, opt_fn, True)
    _same(eager, comp)
    assert _replays(comp[2]) >= 1  # recorded (grads None, then present) and replayed


def test_tiny_mlp_bce_sgd_bitwise_equal():
    """W2: 13-32-32-1, BCE with logits, full batch, plain SGD."""

    def run(compiled):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                              nn.Linear(32, 1))
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.BCEWithLogitsLoss()
        rng = np.random.default_rng(1)
        x = cr.from_numpy(rng.standard_normal((30, 13)).astype(np.float32))
        y = cr.from_numpy((rng.random((30, 1)) > 0.5).astype(np.float32))

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        if compiled:
            step = cr.compile(step)
        return [float(step()) for _ in range(20)], [p.detach().numpy().copy()
                                                     for p in model.parameters()], step

    _same(run(False), run(True))


@pytest.mark.parametrize("name", SIMPLE)
def test_every_optimizer_bitwise_equal(name):
    cls = getattr(cr.optim, name)
    kw = {"lr": 0.01} if name not in ("Adadelta",) else {}
    eager = _train("mlp", lambda p: cls(p, **kw), False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        comp = _train("mlp", lambda p: cls(p, **kw), True)
    _same(eager, comp)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_optimizer_options_bitwise_equal(name):
    """weight decay, maximize, nesterov/amsgrad/centered: same numbers compiled."""
    extra = {"SGD": dict(momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
             "Adam": dict(amsgrad=True, weight_decay=0.01),
             "RMSprop": dict(centered=True, momentum=0.5)}[name]
    cls = getattr(cr.optim, name)
    eager = _train("mlp", lambda p: cls(p, lr=0.01, **extra), False, steps=10)
    comp = _train("mlp", lambda p: cls(p, lr=0.01, **extra), True, steps=10)
    _same(eager, comp)


@pytest.mark.parametrize("name", CLOSURE)
def test_closure_optimizers_run_eagerly_and_say_why(name):
    cls = getattr(cr.optim, name)

    def run(compiled):
        cr.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = cls(model.parameters(), lr=0.5)
        x = cr.linspace(-1, 1, 12).reshape(4, 3)
        y = cr.ones(4, 1)

        def step():
            def closure():
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                if name != "Newton":  # Newton differentiates the returned loss itself
                    loss.backward()
                return loss
            return opt.step(closure)

        if compiled:
            step = cr.compile(step)
        losses = [float(step()) for _ in range(3)]
        return losses, [p.detach().numpy().copy() for p in model.parameters()], step

    eager = run(False)
    with pytest.warns(CompileWarning, match="closure"):
        comp = run(True)
    _same(eager, comp)


def test_lr_scheduler_between_steps_takes_effect():
    """The optimizer step is replayed as a call, so a changed lr is used at once."""

    def run(compiled):
        model = _model("mlp")
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        xs, ys = _data(SHAPES["mlp"])
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        if compiled:
            step = cr.compile(step)
        out = []
        for i in range(8):
            out.append(float(step(xs[i % 4], ys[i % 4])))
            sched.step()
        return out, [p.detach().numpy().copy() for p in model.parameters()], step

    eager, comp = run(False), run(True)
    _same(eager, comp)
    assert _replays(comp[2]) == 2  # the lr change did not need a new program


def test_compiled_step_is_faster_in_calls_than_eager():
    """Replay makes no Function.apply call at all (counted, not timed)."""
    from chainrule.autograd.function import Function

    model = _model("mlp")
    opt = cr.optim.Adam(model.parameters())
    xs, ys = _data(SHAPES["mlp"])
    loss_fn = nn.CrossEntropyLoss()

    @cr.compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step(xs[0], ys[0])
    step(xs[1], ys[1])
    calls = []
    orig = Function.apply.__func__

    def counting(cls, *args):
        calls.append(cls)
        return orig(cls, *args)

    Function.apply = classmethod(counting)
    try:
        step(xs[2], ys[2])
    finally:
        Function.apply = classmethod(orig)
    assert calls == []
