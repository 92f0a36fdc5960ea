"""The universal-approximation example: one hidden tanh layer fits sin(x) on [-pi, pi]."""

from __future__ import annotations

import math

import numpy as np

import chainrule as cr
from chainrule import nn


def _adam(params, lr=0.01, betas=(0.9, 0.999), eps=1e-8):
    """A hand-written Adam (so the test depends on chainrule.nn only)."""
    state = [(np.zeros_like(p._data), np.zeros_like(p._data)) for p in params]
    t = 0

    def step():
        nonlocal t
        t += 1
        with cr.no_grad():
            for p, (m, v) in zip(params, state):
                g = p.grad._data
                m *= betas[0]
                m += (1 - betas[0]) * g
                v *= betas[1]
                v += (1 - betas[1]) * g * g
                mhat = m / (1 - betas[0] ** t)
                vhat = v / (1 - betas[1] ** t)
                p.sub_(lr * mhat / (np.sqrt(vhat) + eps))

    return step


def test_one_hidden_layer_tanh_network_fits_sine():
    cr.manual_seed(0)
    x = cr.linspace(-math.pi, math.pi, 200).reshape(-1, 1)
    y = x.sin()
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    loss_fn = nn.MSELoss()
    step = _adam(list(model.parameters()), lr=0.02)
    for _ in range(1500):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        step()
    final = loss_fn(model(x), y).item()
    assert final < 1e-3, final
