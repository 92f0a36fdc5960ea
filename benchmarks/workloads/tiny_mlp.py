"""W2: tiny MLP 13-32-32-1 (ReLU), sigmoid output + binary cross-entropy, full batch.

303 rows x 13 float32 features (the size of the heart-disease table; synthetic, fixed
seed, labels from a random linear teacher), 500 steps of SGD(lr=0.1) on the full batch
with ``BCEWithLogitsLoss``. Seconds per 500 steps, after a 50-step warm-up: almost all
framework overhead, since each matrix has at most 32x32 entries.
"""

from __future__ import annotations

import numpy as np

from .._common import NumpySGD, SEED, compile_info, maybe_compile, median, teacher_data, time_calls
from .mlp import NumpyMLP

NAME = "tiny-mlp"
TITLE = "W2: MLP 13-32-32-1, BCE-with-logits, SGD, full batch of 303, 500 steps"
UNIT = "s/500 steps"
TARGET = 0.7
# issue 10: chainrule.compile / reference (the per-op row: compiled / a bare NumPy call)
TARGET_COMPILED = {"500 steps": (0.45, "torch")}
ITEMS = ("500 steps",)
N, SIZES, STEPS = 303, (13, 32, 32, 1), 500


def _data():
    x, y = teacher_data(N, SIZES[0], 2)
    return x, y.astype(np.float32).reshape(N, 1)


def _reps(quick):
    return 2 if quick else 5


def framework(lib, quick, compile=False):
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

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = maybe_compile(lib, step, compile)

    def steps(n=STEPS):
        for _ in range(n):
            loss = step(X, Y)
        return loss.item()

    first = steps(1)
    warm = time_calls(lambda: steps(50), 1)[0]
    secs = time_calls(steps, _reps(quick))
    return {"items": {"500 steps": median(secs)}, "loss": [first, steps(1)], "warmup": warm,
            **compile_info(step)}


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


def jax(quick):
    """The whole step (forward, gradient, SGD) under one jax.jit."""
    import jax.numpy as jnp

    from . import _jax

    x, y = _data()
    net = NumpyMLP(SIZES)
    params = _jax.to_device([(w, b) for w, b in zip(net.W, net.b)])

    def loss_fn(params, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jnp.maximum(h, 0)
        # BCE with logits: mean(softplus(z) - y z), stable form
        return jnp.mean(jnp.maximum(h, 0) - h * yb + jnp.log1p(jnp.exp(-jnp.abs(h))))

    step = _jax.sgd_step(loss_fn, 0.1)
    xb, yb = jnp.asarray(x), jnp.asarray(y)
    state = [params, None]
    losses = []

    def steps(n=STEPS):
        p, buf = state
        for _ in range(n):
            p, buf, loss = step(p, buf, xb, yb)
        _jax.ready(p)
        state[:] = [p, buf]
        losses.append(float(loss))

    steps(1)
    warm = time_calls(lambda: steps(50), 1)[0]
    secs = time_calls(steps, _reps(quick))
    return {"items": {"500 steps": median(secs)}, "loss": [losses[0], losses[-1]],
            "warmup": warm}
