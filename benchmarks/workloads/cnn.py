"""W3: small CNN on 28x28 images, SGD with momentum, batch 64.

Conv2d(1,16,3,padding=1)-ReLU-MaxPool2d(2) -> Conv2d(16,32,3,padding=1)-ReLU-MaxPool2d(2)
-> Flatten -> Linear(1568,10), cross-entropy, SGD(lr=0.01, momentum=0.9). 2,048 synthetic
images (a random template per class plus noise, fixed seed); seconds per epoch after one
warm-up epoch. The NumPy version works in NHWC layout: im2col through a strided window
view and one GEMM per convolution; backward scatters the 9 kernel taps with 9 slice
additions (no ``np.add.at``); 2x2 pooling by reshape.
"""

from __future__ import annotations

import numpy as np

from .._common import (
    SEED, NumpySGD, compile_info, maybe_compile, median, softmax_xent, time_calls, uniform_init,
)

NAME = "cnn"
TITLE = "W3: CNN conv16-pool-conv32-pool-linear, 28x28, SGD momentum, batch 64, 2,048 samples"
UNIT = "s/epoch"
TARGET = 1.5
# issue 10: chainrule.compile / reference (the per-op row: compiled / a bare NumPy call)
TARGET_COMPILED = {"epoch": (1.0, "torch")}
ITEMS = ("epoch",)
N, BATCH, EVAL = 2048, 64, 256


def _data():
    """Images (N, 1, 28, 28) float32 and labels: class template + Gaussian noise."""
    rng = np.random.default_rng(SEED)
    templates = rng.standard_normal((10, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, N)
    x = templates[y] + 1.5 * rng.standard_normal((N, 1, 28, 28), dtype=np.float32)
    return x.astype(np.float32), y.astype(np.int64)


def _epochs(quick):
    return 1 if quick else 2


def framework(lib, quick, compile=False):
    nn = lib.nn
    x_np, y_np = _data()
    X, Y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    lib.manual_seed(SEED)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 10),
    )
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def eval_loss():
        with lib.no_grad():
            return loss_fn(model(X[:EVAL]), Y[:EVAL]).item()

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    step = maybe_compile(lib, step, compile)

    def epoch():
        for i in range(0, N, BATCH):
            step(X[i:i + BATCH], Y[i:i + BATCH])

    first = eval_loss()
    warm = time_calls(epoch, 1)[0]
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, eval_loss()], "warmup": warm,
            **compile_info(step)}


class ConvReluPool:
    """3x3 same-padding convolution + ReLU + 2x2 max pooling, NHWC, manual backward.

    Weight rows are ordered (kh, kw, c_in) so a kernel tap's gradient is a contiguous slice.
    """

    def __init__(self, rng, c_in, c_out):
        self.W = uniform_init(rng, 9 * c_in, (9 * c_in, c_out))
        self.b = uniform_init(rng, 9 * c_in, (c_out,))

    def forward(self, x):
        n, h, w, c = x.shape
        xp = np.zeros((n, h + 2, w + 2, c), np.float32)
        xp[:, 1:-1, 1:-1] = x
        win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))
        cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, 9 * c)  # the im2col copy
        r = cols @ self.W
        r += self.b
        np.maximum(r, 0, out=r)
        r6 = r.reshape(n, h // 2, 2, w // 2, 2, -1)
        out = r6.max(axis=(2, 4))
        self.cache = (x.shape, cols, r6, out)
        return out

    def backward(self, dout, need_dx=True):
        (n, h, w, c), cols, r6, out = self.cache
        # max pool: the gradient goes to the maxima; ReLU: nothing where r == 0 (ties at 0
        # in a pooling window are all ReLU zeros, so they get no gradient either)
        mask = (r6 == out[:, :, None, :, None, :]) & (r6 > 0)
        dr = np.multiply(mask, dout[:, :, None, :, None, :], dtype=np.float32)
        dr = dr.reshape(n * h * w, -1)
        dW = cols.T @ dr
        db = dr.sum(axis=0)
        if not need_dx:
            return None, dW, db
        dcols = (dr @ self.W.T).reshape(n, h, w, 3, 3, c)
        dxp = np.zeros((n, h + 2, w + 2, c), np.float32)
        for kh in range(3):
            for kw in range(3):
                dxp[:, kh:kh + h, kw:kw + w] += dcols[:, :, :, kh, kw]
        return dxp[:, 1:-1, 1:-1], dW, db


def numpy(quick):
    x, y = _data()
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # NHWC
    rng = np.random.default_rng(SEED)
    c1, c2 = ConvReluPool(rng, 1, 16), ConvReluPool(rng, 16, 32)
    Wl, bl = uniform_init(rng, 1568, (1568, 10)), uniform_init(rng, 1568, (10,))
    opt = NumpySGD([c1.W, c1.b, c2.W, c2.b, Wl, bl], lr=0.01, momentum=0.9)

    def forward(xb):
        f = c2.forward(c1.forward(xb)).reshape(len(xb), -1)
        return f, f @ Wl + bl

    def epoch():
        for i in range(0, N, BATCH):
            f, logits = forward(x[i:i + BATCH])
            _, d = softmax_xent(logits, y[i:i + BATCH])
            dWl, dbl = f.T @ d, d.sum(axis=0)
            df = (d @ Wl.T).reshape(-1, 7, 7, 32)
            d1, dW2, db2 = c2.backward(df)
            _, dW1, db1 = c1.backward(d1, need_dx=False)
            opt.step([dW1, db1, dW2, db2, dWl, dbl])

    first = softmax_xent(forward(x[:EVAL])[1], y[:EVAL])[0]
    epoch()
    secs = time_calls(epoch, _epochs(quick))
    last = softmax_xent(forward(x[:EVAL])[1], y[:EVAL])[0]
    return {"items": {"epoch": median(secs)}, "loss": [first, last]}


def jax(quick):
    """The whole step (forward, gradient, SGD with momentum) under one jax.jit; NCHW
    convolutions (lax.conv_general_dilated) and 2x2 max pooling (lax.reduce_window)."""
    import jax.numpy as jnp
    from jax import lax

    from . import _jax

    x, y = _data()
    rng = np.random.default_rng(SEED)
    params = _jax.to_device([
        (uniform_init(rng, 9, (16, 1, 3, 3)), uniform_init(rng, 9, (16,))),
        (uniform_init(rng, 144, (32, 16, 3, 3)), uniform_init(rng, 144, (32,))),
        (uniform_init(rng, 1568, (10, 1568)), uniform_init(rng, 1568, (10,))),
    ])

    def conv_relu_pool(h, w, b):
        h = lax.conv_general_dilated(h, w, (1, 1), [(1, 1), (1, 1)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jnp.maximum(h + b[None, :, None, None], 0)
        return lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def logits(params, xb):
        (w1, b1), (w2, b2), (wl, bl) = params
        h = conv_relu_pool(conv_relu_pool(xb, w1, b1), w2, b2)
        return h.reshape(h.shape[0], -1) @ wl.T + bl

    def loss_fn(params, xb, yb):
        return _jax.xent(logits(params, xb), yb)

    step = _jax.sgd_step(loss_fn, 0.01, momentum=0.9)
    batches = [(jnp.asarray(x[i:i + BATCH]), jnp.asarray(y[i:i + BATCH]))
               for i in range(0, N, BATCH)]
    state = [params, _jax.zeros_like(params)]
    ex, ey = jnp.asarray(x[:EVAL]), jnp.asarray(y[:EVAL])

    def epoch():
        p, buf = state
        for xb, yb in batches:
            p, buf, _ = step(p, buf, xb, yb)
        _jax.ready(p)
        state[:] = [p, buf]

    first = float(loss_fn(state[0], ex, ey))
    warm = time_calls(epoch, 1)[0]
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, float(loss_fn(state[0], ex, ey))],
            "warmup": warm}
