"""Learning-rate schedulers against their formulas (the torch comparison is in
test_oracle_optim.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler as ls


def make_opt(lr=0.1, kind="SGD"):
    p = cr.zeros(2, requires_grad=True)
    if kind == "Adam":
        return optim.Adam([p], lr=lr)
    return optim.SGD([p], lr=lr, momentum=0.9)


def trace(sched, n=25):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return np.array(out)


@pytest.mark.parametrize("make,formula", [
    (lambda o: ls.StepLR(o, 4, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 4)),
    (lambda o: ls.MultiStepLR(o, [3, 7, 7], gamma=0.1),
     lambda e: 0.1 * 0.1 ** sum(m <= e for m in [3, 7, 7])),
    (lambda o: ls.ExponentialLR(o, 0.9), lambda e: 0.1 * 0.9**e),
    (lambda o: ls.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
     lambda e: 0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2),
    (lambda o: ls.LambdaLR(o, lambda e: 1 / (e + 1)), lambda e: 0.1 / (e + 1)),
    (lambda o: ls.MultiplicativeLR(o, lambda e: 0.9), lambda e: 0.1 * 0.9**e),
    (lambda o: ls.LinearLR(o, 0.25, 1.0, total_iters=8),
     lambda e: 0.1 * (0.25 + 0.75 * min(e, 8) / 8)),
    (lambda o: ls.ConstantLR(o, 0.5, total_iters=6), lambda e: 0.1 * (0.5 if e < 6 else 1.0)),
    (lambda o: ls.PolynomialLR(o, total_iters=9, power=1.5),
     lambda e: 0.1 * (1 - min(e, 9) / 9) ** 1.5),
    (lambda o: ls.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.0),
     lambda e: 0.05 * (1 + math.cos(math.pi * _sgdr(e, 3, 2)[0] / _sgdr(e, 3, 2)[1]))),
])
def test_schedule_follows_its_formula(make, formula):
    got = trace(make(make_opt()))
    want = np.array([formula(e) for e in range(len(got))])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)


def _sgdr(e, T0, mult):
    """(T_cur, T_i) of SGDR at integer epoch e."""
    Ti = T0
    while e >= Ti:
        e -= Ti
        Ti *= mult
    return e, Ti


def test_onecycle_follows_the_1cycle_formula():
    opt = make_opt(kind="Adam")
    total, pct, max_lr = 20, 0.3, 1.0
    sched = ls.OneCycleLR(opt, max_lr=max_lr, total_steps=total, pct_start=pct)
    got = trace(sched, total - 1)
    init, low = max_lr / 25, max_lr / 25 / 1e4
    up = pct * total - 1
    cos = lambda a, b, x: b + (a - b) / 2 * (1 + math.cos(math.pi * x))
    want = [cos(init, max_lr, s / up) if s <= up else cos(max_lr, low, (s - up) / (total - 1 - up))
            for s in range(total)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)  # momentum back at max
    with pytest.raises(ValueError, match="tried to step 21 times"):
        opt.step()
        sched.step()
        sched.step()


def test_cyclic_triangular_formula_and_momentum():
    opt = make_opt()
    sched = ls.CyclicLR(opt, base_lr=0.01, max_lr=0.05, step_size_up=4)
    got = trace(sched, 16)
    tri = lambda it: 0.01 + 0.04 * (1 - abs(it / 4 % 2 - 1))
    np.testing.assert_allclose(got, [tri(i) for i in range(17)], rtol=1e-12)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.9)  # cycle ended at base_lr
    sched2 = ls.CyclicLR(make_opt(), 0.01, 0.05, step_size_up=4, mode="triangular2")
    assert max(trace(sched2, 16)[8:]) == pytest.approx(0.01 + 0.04 / 2)


def test_initial_lr_and_resume():
    opt = make_opt()
    ls.StepLR(opt, 2)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(make_opt(), 2, last_epoch=5)


def test_step_with_epoch_uses_closed_form():
    opt = make_opt()
    sched = ls.ExponentialLR(opt, 0.5)
    sched.step(3)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)
    opt = make_opt()
    sched = ls.PolynomialLR(opt, total_iters=5, power=2.0)
    sched.step(3)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 - 3 / 5) ** 2)


def test_chainable_schedulers_compose():
    opt = make_opt()
    a, b = ls.ExponentialLR(opt, 0.9), ls.StepLR(opt, 3, gamma=0.1)
    lrs = []
    for _ in range(7):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    want = [0.1 * 0.9**e * 0.1 ** (e // 3) for e in range(1, 8)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


def test_reduce_on_plateau():
    opt = make_opt()
    sched = ls.ReduceLROnPlateau(opt, patience=2, factor=0.5, min_lr=0.03)
    for m in [1.0, 0.5, 0.5, 0.5]:
        sched.step(m)
    assert opt.param_groups[0]["lr"] == 0.1  # 2 bad epochs = patience: no change yet
    sched.step(0.5)
    assert opt.param_groups[0]["lr"] == 0.05
    for _ in range(3):
        sched.step(0.5)
    assert opt.param_groups[0]["lr"] == 0.03 and sched.get_last_lr() == [0.03]  # min_lr
    with pytest.raises(ValueError, match="factor=1.0 should be < 1.0"):
        ls.ReduceLROnPlateau(opt, factor=1.0)


def test_sequential_switches_at_milestones():
    opt = make_opt()
    warm = ls.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = ls.ExponentialLR(opt, gamma=0.5)
    sched = ls.SequentialLR(opt, [warm, decay], milestones=[3])
    got = trace(sched, 5)
    np.testing.assert_allclose(got, [0.05, 0.075, 0.1, 0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="expected 1 milestones"):
        ls.SequentialLR(opt, [warm, decay], milestones=[3, 4])


@pytest.mark.parametrize("make", [
    lambda o: ls.StepLR(o, 3),
    lambda o: ls.MultiStepLR(o, [2, 5]),
    lambda o: ls.CosineAnnealingLR(o, 7),
    lambda o: ls.CosineAnnealingWarmRestarts(o, 3, 2),
    lambda o: ls.LambdaLR(o, lambda e: 0.9**e),
    lambda o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.5**x),
    lambda o: ls.OneCycleLR(o, 1.0, total_steps=30),
    lambda o: ls.SequentialLR(o, [ls.ConstantLR(o, 0.5, 2), ls.ExponentialLR(o, 0.9)], [4]),
    lambda o: ls.ChainedScheduler([ls.ConstantLR(o, 0.5, 2), ls.ExponentialLR(o, 0.9)]),
], ids=["step", "multistep", "cos", "sgdr", "lambda", "cyclic", "onecycle", "seq", "chain"])
def test_state_dict_round_trip_through_save(tmp_path, make):
    opt = make_opt()
    sched = make(opt)
    for _ in range(5):
        opt.step()
        sched.step()
    cr.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "s.pt")
    expected = trace(sched, 8)[1:]
    ckpt = cr.load(tmp_path / "s.pt")
    opt2 = make_opt()
    sched2 = make(opt2)
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    np.testing.assert_allclose(trace(sched2, 8)[1:], expected, rtol=1e-12)


def test_plateau_state_dict_with_infinite_best(tmp_path):
    sched = ls.ReduceLROnPlateau(make_opt(), mode="max")
    cr.save(sched.state_dict(), tmp_path / "p.pt")
    back = cr.load(tmp_path / "p.pt")
    assert back["best"] == -math.inf and back["mode"] == "max"


def test_scheduler_errors():
    opt = make_opt()
    with pytest.raises(ValueError, match="start_factor=0"):
        ls.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        ls.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="cycle_momentum"):
        ls.CyclicLR(optim.Adagrad([cr.zeros(1, requires_grad=True)]), 0.01, 0.1)
    with pytest.raises(ValueError, match="mode must be"):
        ls.CyclicLR(opt, 0.01, 0.1, mode="saw")
    with pytest.raises(TypeError, match="expected a chainrule.optim.Optimizer"):
        ls.StepLR(object(), 2)


def test_step_lr_takes_a_float_step_size_as_torch(torch):
    """PyTorch's Transformer tutorial builds ``StepLR(optimizer, 1.0, gamma=0.95)``."""
    import chainrule as cr

    seqs = []
    for lib in (torch, cr):
        row = []
        for step_size in (1.0, 2.5):
            opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
            sched = lib.optim.lr_scheduler.StepLR(opt, step_size, gamma=0.5)
            for _ in range(6):
                opt.step()
                sched.step()
                row.append(round(opt.param_groups[0]["lr"], 9))
        seqs.append(row)
    assert seqs[0] == seqs[1]
    opt = cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=0.1)
    for bad in (0, -1, "2", True):
        with pytest.raises(ValueError, match="step_size must be a positive number"):
            cr.optim.lr_scheduler.StepLR(opt, bad)
