"""Each optimizer's parameter sequence on a fixed quadratic equals its docstring's update
rule, written out in NumPy here (float64, 5 steps, every option combination)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])  # SPD
B = np.array([1.0, -2.0, 0.5])
W0 = np.array([0.3, -0.7, 1.1])


def grad(w):
    """Gradient of f(w) = 0.5 w^T A w - b^T w."""
    return A @ w - B


def run_chainrule(cls, kw, steps=5):
    w = cr.tensor(W0, dtype=cr.float64, requires_grad=True)
    opt = cls([w], **kw)
    At, Bt = cr.tensor(A, dtype=cr.float64), cr.tensor(B, dtype=cr.float64)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (w @ (At @ w)) - Bt @ w).backward()
        opt.step()
        out.append(w._data.copy())
    return np.array(out)


def run_reference(rule, kw, steps=5):
    w = W0.copy()
    state = {}
    out = []
    for t in range(1, steps + 1):
        w = rule(w, grad(w), t, state, **kw)
        out.append(w.copy())
    return np.array(out)


def sgd(w, g, t, s, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
        maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return w - lr * g


def adam(w, g, t, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled:
        w = w * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
    v = s["v"]
    if amsgrad:
        s["vmax"] = np.maximum(s.get("vmax", 0), v)
        v = s["vmax"]
    denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
    return w - lr / (1 - b1**t) * s["m"] / denom


def adamw(w, g, t, s, weight_decay=1e-2, **kw):
    return adam(w, g, t, s, weight_decay=weight_decay, decoupled=True, **kw)


def rmsprop(w, g, t, s, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
            centered=False, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g**2
    if centered:
        s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
        denom = np.sqrt(s["v"] - s["ga"] ** 2) + eps
    else:
        denom = np.sqrt(s["v"]) + eps
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0) + g / denom
        return w - lr * s["b"]
    return w - lr * g / denom


def adagrad(w, g, t, s, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    s["s"] = s.get("s", initial_accumulator_value) + g**2
    return w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["s"]) + eps)


def adadelta(w, g, t, s, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * w
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g**2
    delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * delta**2
    return w - lr * delta


def adamax(w, g, t, s, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
           maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
    return w - lr / (1 - b1**t) * s["m"] / s["u"]


def nadam(w, g, t, s, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
          momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled_weight_decay:
        w = w * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * w
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    s["prod"] = s.get("prod", 1.0) * mu
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
    denom = np.sqrt(s["v"] / (1 - b2**t)) + eps
    w = w - lr * (1 - mu) / (1 - s["prod"]) * g / denom
    return w - lr * mu_next / (1 - s["prod"] * mu_next) * s["m"] / denom


def gd(w, g, t, s, lr=1e-3):
    return w - lr * g


def momentum(w, g, t, s, lr, beta=0.9, bias_correction=True):
    s["v"] = beta * s.get("v", 0) + (1 - beta) * g
    return w - lr * s["v"] / ((1 - beta**t) if bias_correction else 1.0)


CASES = [
    (optim.SGD, sgd, dict(lr=0.1)),
    (optim.SGD, sgd, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, sgd, dict(lr=0.1, momentum=0.8, dampening=0.5)),
    (optim.SGD, sgd, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.SGD, sgd, dict(lr=0.1, weight_decay=0.3)),
    (optim.SGD, sgd, dict(lr=0.1, momentum=0.5, weight_decay=0.3, maximize=True)),
    (optim.Adam, adam, dict(lr=0.1)),
    (optim.Adam, adam, dict(lr=0.1, betas=(0.5, 0.6), eps=1e-2)),
    (optim.Adam, adam, dict(lr=0.1, weight_decay=0.5)),
    (optim.Adam, adam, dict(lr=0.1, amsgrad=True, betas=(0.9, 0.5))),
    (optim.Adam, adam, dict(lr=0.1, maximize=True, weight_decay=0.2)),
    (optim.AdamW, adamw, dict(lr=0.1)),
    (optim.AdamW, adamw, dict(lr=0.1, weight_decay=0.5, amsgrad=True, maximize=True)),
    (optim.RMSprop, rmsprop, dict(lr=0.01)),
    (optim.RMSprop, rmsprop, dict(lr=0.01, centered=True, alpha=0.9)),
    (optim.RMSprop, rmsprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, rmsprop, dict(lr=0.01, momentum=0.5, centered=True, maximize=True)),
    (optim.Adagrad, adagrad, dict(lr=0.5)),
    (optim.Adagrad, adagrad, dict(lr=0.5, lr_decay=0.2, initial_accumulator_value=1.0)),
    (optim.Adagrad, adagrad, dict(lr=0.5, weight_decay=0.1, eps=1e-3, maximize=True)),
    (optim.Adadelta, adadelta, dict()),
    (optim.Adadelta, adadelta, dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1)),
    (optim.Adadelta, adadelta, dict(maximize=True)),
    (optim.Adamax, adamax, dict(lr=0.1)),
    (optim.Adamax, adamax, dict(lr=0.1, betas=(0.5, 0.7), weight_decay=0.2, maximize=True)),
    (optim.NAdam, nadam, dict(lr=0.1)),
    (optim.NAdam, nadam, dict(lr=0.1, momentum_decay=0.1, weight_decay=0.2)),
    (optim.NAdam, nadam, dict(lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)),
    (optim.NAdam, nadam, dict(lr=0.1, maximize=True)),
    (optim.GD, gd, dict(lr=0.1)),
    (optim.Momentum, momentum, dict(lr=0.1)),
    (optim.Momentum, momentum, dict(lr=0.1, beta=0.5, bias_correction=False)),
]


@pytest.mark.parametrize("cls,rule,kw", CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_update_rule(cls, rule, kw):
    # NAdam keeps mu_product in the scalar dtype, as PyTorch: float64 (the reference's
    # arithmetic) only when that is the default dtype
    old = cr.get_default_dtype()
    if cls is optim.NAdam:
        cr.set_default_dtype(cr.float64)
    try:
        got = run_chainrule(cls, kw)
    finally:
        cr.set_default_dtype(old)
    want = run_reference(rule, kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert not np.allclose(got[0], W0)  # the parameters moved


def test_momentum_bias_correction_first_step_is_lr_times_gradient():
    # v_1 = (1 - beta) g, so v_1 / (1 - beta) = g: the first step is exactly plain GD
    w = cr.tensor(W0, dtype=cr.float64, requires_grad=True)
    opt = optim.Momentum([w], lr=0.1, beta=0.9)
    w.grad = cr.tensor(grad(W0), dtype=cr.float64)
    opt.step()
    np.testing.assert_allclose(w._data, W0 - 0.1 * grad(W0), rtol=1e-15)
    assert opt.state[w]["step"] == 1


def test_gd_is_w_minus_lr_g():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    w.grad = cr.tensor([0.5, 0.25])
    optim.GD([w], lr=0.2).step()
    assert w.dtype == cr.float32
    np.testing.assert_array_equal(w._data, np.float32([1.0, -2.0]) - np.float32(0.2) *
                                  np.float32([0.5, 0.25]))
