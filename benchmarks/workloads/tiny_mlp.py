"""W2: tiny MLP 13-32-32-1 (ReLU), sigmoid output + binary cross-entropy, full batch.

303 rows x 13 float32 features (the size of the heart-disease table; synthetic, fixed
seed, labels from a random linear teacher), 500 steps of SGD(lr=0.1) on the full batch
with ``BCEWithLogitsLoss``. Seconds per 500 steps, after a 50-step warm-up: almost all
framework overhead, since each matrix has at most 32x32 entries.
"""

from __future__ import annotations

import numpy as np

from .._common import NumpySGD, SEED, median, teacher_data, time_calls
from .mlp import NumpyMLP

NAME = "tiny-mlp"
TITLE = "W2: MLP 13-32-32-1, BCE-with-logits, SGD, full batch of 303, 500 steps"
UNIT = "s/500 steps"
TARGET = 0.7
ITEMS = ("500 steps",)
N, SIZES, STEPS = 303, (13, 32, 32, 1), 500


def _data():
    x, y = teacher_data(N, SIZES[0], 2)
    return x, y.astype(np.float32).reshape(N, 1)


def _reps(quick):
    return 2 if quick else 5


def framework(lib, quick):
    nn = lib.nn
    x_np, y_np = _data()
    X, Y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    lib.manual_seed(SEED)
    model = nn.Sequential(
        nn.Linear(13, 32), nn.ReLU(),
        nn.Linear(32, 32), nn.ReLU(),
        nn.Linear(32, 1),
    )
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()

    def steps(n=STEPS):
        for _ in range(n):
            opt.zero_grad()
            loss = loss_fn(model(X), Y)
            loss.backward()
            opt.step()
        return loss.item()

    first = steps(1)
    steps(50)
    secs = time_calls(steps, _reps(quick))
    return {"items": {"500 steps": median(secs)}, "loss": [first, steps(1)]}


def numpy(quick):
    x, y = _data()
    net = NumpyMLP(SIZES)
    opt = NumpySGD(net.params, lr=0.1)
    losses = []

    def steps(n=STEPS):
        for _ in range(n):
            z = net.forward(x)
            # BCE with logits: mean(softplus(z) - y z); d/dz = (sigmoid(z) - y) / N
            p = 1.0 / (1.0 + np.exp(-z))
            d = (p - y) * (1.0 / N)
            opt.step(net.backward(d))
        losses.append(float(np.mean(np.logaddexp(0, z) - y * z)))

    steps(1)
    steps(50)
    secs = time_calls(steps, _reps(quick))
    return {"items": {"500 steps": median(secs)}, "loss": [losses[0], losses[-1]]}
