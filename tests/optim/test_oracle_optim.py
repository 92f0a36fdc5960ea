"""Oracle tests: optimizers and schedulers against torch.optim (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

RNG = np.random.default_rng(7)
W0 = RNG.normal(size=(3, 4))
B0 = RNG.normal(size=4)
X = RNG.normal(size=(5, 3))


def _loss(lib, w, b):
    """A smooth non-quadratic loss of a matrix and a vector parameter."""
    x = lib.tensor(X, dtype=w.dtype)
    h = lib.tanh(x @ w + b)
    return (h * h).sum() + 0.1 * (w * w * w).sum()


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, eps=1e-3)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, maximize=True, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, betas=(0.7, 0.8))),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(torch, name, kw, dtype):
    tdt, cdt = getattr(torch, dtype), getattr(cr, dtype)
    tw = torch.tensor(W0, dtype=tdt, requires_grad=True)
    tb = torch.tensor(B0, dtype=tdt, requires_grad=True)
    cw = cr.tensor(W0, dtype=cdt, requires_grad=True)
    cb = cr.tensor(B0, dtype=cdt, requires_grad=True)
    topt = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tb], "lr": kw.get(
        "lr", 1.0) * 0.5}], **kw)
    copt = getattr(optim, name)([{"params": [cw]}, {"params": [cb], "lr": kw.get(
        "lr", 1.0) * 0.5}], **kw)
    tol = 1e-10 if dtype == "float64" else 2e-5
    if name == "NAdam" and dtype == "float64":
        tol = 1e-7  # PyTorch keeps mu_product in a float32 scalar; chainrule in a Python float
    for _ in range(10):
        topt.zero_grad()
        _loss(torch, tw, tb).backward()
        topt.step()
        copt.zero_grad()
        _loss(cr, cw, cb).backward()
        copt.step()
        assert cw.dtype == cdt
        np.testing.assert_allclose(cw._data, tw.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(cb._data, tb.detach().numpy(), rtol=tol, atol=tol)
    # the state has the same keys and values as PyTorch's
    tsd, csd = topt.state_dict(), copt.state_dict()
    assert [g["params"] for g in tsd["param_groups"]] == [g["params"] for g in csd["param_groups"]]
    for idx, tst in tsd["state"].items():
        assert set(tst) == set(csd["state"][idx])
        for k, v in tst.items():
            cv = csd["state"][idx][k]
            cv = cv._data if isinstance(cv, cr.Tensor) else cv
            tv = v.detach().numpy() if torch.is_tensor(v) else v
            np.testing.assert_allclose(cv, tv, rtol=tol, atol=tol)


def _rosen(lib, w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


@pytest.mark.parametrize("kw", [dict(line_search_fn="strong_wolfe"),
                                dict(lr=0.01, max_iter=5),
                                dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7)])
def test_lbfgs_matches_torch(torch, kw):
    tw = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    cw = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    topt, copt = torch.optim.LBFGS([tw], **kw), optim.LBFGS([cw], **kw)

    def tclosure():
        topt.zero_grad()
        loss = _rosen(torch, tw)
        loss.backward()
        return loss

    def cclosure():
        copt.zero_grad()
        loss = _rosen(cr, cw)
        loss.backward()
        return loss

    for _ in range(4):
        tl = topt.step(tclosure)
        cl = copt.step(cclosure)
        assert float(cl) == pytest.approx(tl.item(), rel=1e-6, abs=1e-12)
        # rounding differences (1e-16 at step 1) grow on this ill-conditioned problem
        np.testing.assert_allclose(cw._data, tw.detach().numpy(), rtol=1e-6, atol=1e-9)
    tst, cst = topt.state[tw], copt.state[cw]
    assert cst["func_evals"] == tst["func_evals"] and cst["n_iter"] == tst["n_iter"]


# -- schedulers --------------------------------------------------------------------------

def _make(lib_optim, params, kind="SGD"):
    if kind == "Adam":
        return lib_optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}],
                              lr=0.1)
    return lib_optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}],
                         lr=0.1, momentum=0.9)


SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD"),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 20], gamma=0.3), "SGD"),
    ("ExponentialLR", dict(gamma=0.9), "SGD"),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.001), "SGD"),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01), "SGD"),
    ("CosineAnnealingWarmRestarts", dict(T_0=5), "SGD"),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e)), "SGD"),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95), "SGD"),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=10), "SGD"),
    ("LinearLR", dict(), "SGD"),
    ("ConstantLR", dict(factor=0.25, total_iters=6), "SGD"),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=31), "SGD"),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=40, anneal_strategy="linear",
                        three_phase=True), "Adam"),
    ("OneCycleLR", dict(max_lr=1.0, epochs=4, steps_per_epoch=8, cycle_momentum=False,
                        pct_start=0.5), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3, step_size_down=5,
                      mode="triangular2"), "SGD"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range",
                      gamma=0.9), "Adam"),
    ("PolynomialLR", dict(), "SGD"),
    ("PolynomialLR", dict(total_iters=12, power=0.9), "Adam"),
    ("PolynomialLR", dict(total_iters=7, power=2.0), "SGD"),
]


def _lr_trace(lib, sched_name, kw, kind, n=30):
    shapes = [(2,), (3,)]
    params = [lib.zeros(*s, requires_grad=True) for s in shapes]
    opt = _make(lib.optim, params, kind)
    sched = getattr(lib.optim.lr_scheduler, sched_name)(opt, **kw)
    trace = []
    for _ in range(n):
        opt.step()
        sched.step()
        m = [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]
        trace.append(list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups] + m)
    return np.array(trace, dtype=np.float64)


@pytest.mark.parametrize("name,kw,kind", SCHEDULERS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(torch, name, kw, kind):
    n = 30
    np.testing.assert_allclose(_lr_trace(cr, name, kw, kind, n),
                               _lr_trace(torch, name, kw, kind, n), rtol=1e-12, atol=1e-15)


def _composite(lib, which):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = _make(lib.optim, params)
    ls = lib.optim.lr_scheduler
    if which == "sequential":
        sched = ls.SequentialLR(opt, [ls.LinearLR(opt, start_factor=0.1, total_iters=4),
                                      ls.ExponentialLR(opt, gamma=0.8),
                                      ls.CosineAnnealingLR(opt, T_max=5)], milestones=[5, 12])
    elif which == "chained":
        sched = ls.ChainedScheduler([ls.ConstantLR(opt, factor=0.5, total_iters=3),
                                     ls.ExponentialLR(opt, gamma=0.9),
                                     ls.StepLR(opt, step_size=4, gamma=0.5)])
    else:
        sched = ls.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=[0.0, 0.02],
                                     threshold=0.05, mode="max" if which.endswith("max") else "min")
    trace = []
    metrics = np.r_[np.linspace(5, 1, 8), np.full(10, 1.0), np.linspace(1, 0.5, 4), np.ones(8)]
    for i in range(30):
        opt.step()
        if which.startswith("plateau"):
            sched.step(metrics[i] if which == "plateau" else -metrics[i])
        else:
            sched.step()
        trace.append(list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups])
    return np.array(trace)


@pytest.mark.parametrize("which", ["sequential", "chained", "plateau", "plateau_max"])
def test_composite_schedulers_match_torch(torch, which):
    np.testing.assert_allclose(_composite(cr, which), _composite(torch, which),
                               rtol=1e-12, atol=1e-15)
