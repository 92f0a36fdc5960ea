"""W4: GRU sequence classifier: nn.GRU(1 -> 64, batch_first=True) + Linear(64, 10) head.

4,000 synthetic sequences of length 40 (a noisy sine whose frequency depends on the class,
fixed seed), batch 64, the head on the last hidden state, cross-entropy, Adam(lr=1e-3).
Seconds per epoch after a warm-up epoch (it meets every batch shape, the last batch of 32
rows included, so compiled peers record or compile both shapes before the timing). The NumPy version is a hand-written GRU
(PyTorch's gate order r, z, n) with backpropagation through time: the input projection and
the weight gradients are one GEMM over all time steps, the recurrence one GEMM per step.
"""

from __future__ import annotations

import numpy as np

from .._common import (
    SEED, NumpyAdam, compile_info, maybe_compile, median, softmax_xent, time_calls, uniform_init,
)

NAME = "gru"
TITLE = "W4: GRU(1->64) + Linear(64,10), length-40 sequences, Adam, batch 64, 4,000 samples"
UNIT = "s/epoch"
TARGET = 0.8
# issue 10: chainrule.compile / reference (the per-op row: compiled / a bare NumPy call)
TARGET_COMPILED = {"epoch": (0.75, "torch")}
ITEMS = ("epoch",)
N, T, H, BATCH, EVAL = 4000, 40, 64, 64, 512


def _data():
    """Sequences (N, T, 1) float32 and labels: sin(w_c t + phase) + noise."""
    rng = np.random.default_rng(SEED)
    y = rng.integers(0, 10, N)
    freq = 0.15 + 0.06 * y
    phase = rng.uniform(0, 2 * np.pi, N)
    t = np.arange(T)
    x = np.sin(freq[:, None] * t[None, :] + phase[:, None])
    x += 0.2 * rng.standard_normal((N, T))
    return x[:, :, None].astype(np.float32), y.astype(np.int64)


def _epochs(quick):
    return 1 if quick else 2


def framework(lib, quick, compile=False):
    nn = lib.nn
    x_np, y_np = _data()
    X, Y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    lib.manual_seed(SEED)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, H, batch_first=True)
            self.head = nn.Linear(H, 10)

        def forward(self, x):
            out, _ = self.gru(x)
            return self.head(out[:, -1])

    model = Net()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
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

    def epoch(n=N):
        for i in range(0, n, BATCH):
            step(X[i:i + BATCH], Y[i:i + BATCH])

    first = eval_loss()
    warm = time_calls(epoch, 1)[0]  # every batch shape once (the last batch has 32 rows)
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, eval_loss()], "warmup": warm,
            **compile_info(step)}


class NumpyGRU:
    """One-layer GRU, h0 = 0, weights stored transposed: x @ W_ih (I, 3H), h @ W_hh (H, 3H).

    r = sigmoid(x W_ir + b_ir + h W_hr + b_hr), z likewise,
    n = tanh(x W_in + b_in + r * (h W_hn + b_hn)), h' = (1 - z) n + z h.
    """

    def __init__(self, rng, i, h):
        self.W_ih = uniform_init(rng, h, (i, 3 * h))
        self.W_hh = uniform_init(rng, h, (h, 3 * h))
        self.b_ih = uniform_init(rng, h, (3 * h,))
        self.b_hh = uniform_init(rng, h, (3 * h,))
        self.params = [self.W_ih, self.W_hh, self.b_ih, self.b_hh]

    def forward(self, x):
        """Last hidden state of x (N, T, I); keeps what backward needs (time-major)."""
        n, t, i = x.shape
        H = self.W_hh.shape[0]
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))
        xi = (xt.reshape(t * n, i) @ self.W_ih + self.b_ih).reshape(t, n, 3 * H)
        hs = np.zeros((t + 1, n, H), np.float32)  # hs[k] = hidden state before step k
        rz = np.empty((t, n, 2 * H), np.float32)
        nn_ = np.empty((t, n, H), np.float32)
        ghn = np.empty((t, n, H), np.float32)
        for k in range(t):
            gh = hs[k] @ self.W_hh
            gh += self.b_hh
            a = rz[k]
            np.add(xi[k, :, :2 * H], gh[:, :2 * H], out=a)
            np.negative(a, out=a)  # sigmoid(a) = 1 / (1 + exp(-a))
            np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)
            ghn[k] = gh[:, 2 * H:]
            c = nn_[k]
            np.multiply(a[:, :H], gh[:, 2 * H:], out=c)
            c += xi[k, :, 2 * H:]
            np.tanh(c, out=c)
            h = hs[k + 1]
            np.subtract(hs[k], c, out=h)  # h' = n + z (h - n)
            h *= a[:, H:]
            h += c
        self.cache = (xt, hs, rz, nn_, ghn)
        return hs[t]

    def backward(self, dh):
        """Gradients [W_ih, W_hh, b_ih, b_hh] from d loss / d (last hidden state)."""
        xt, hs, rz, nn_, ghn = self.cache
        t, n, H = nn_.shape
        dgh = np.empty((t, n, 3 * H), np.float32)  # d (h W_hh + b_hh) per step
        dxi = np.empty((t, n, 3 * H), np.float32)  # d (x W_ih + b_ih) per step
        W_hh_T = np.ascontiguousarray(self.W_hh.T)
        for k in range(t - 1, -1, -1):
            r, z, c = rz[k, :, :H], rz[k, :, H:], nn_[k]
            dc = dh * (1 - z)  # through h' = (1 - z) n + z h
            daz = dh * (hs[k] - c) * z * (1 - z)
            dan = dc * (1 - c * c)  # tanh'
            dar = dan * ghn[k] * r * (1 - r)
            dxi[k, :, :H] = dar
            dxi[k, :, H:2 * H] = daz
            dxi[k, :, 2 * H:] = dan
            dgh[k, :, :2 * H] = dxi[k, :, :2 * H]
            np.multiply(dan, r, out=dgh[k, :, 2 * H:])
            dh = dh * z + dgh[k] @ W_hh_T
        i = xt.shape[2]
        dW_ih = xt.reshape(t * n, i).T @ dxi.reshape(t * n, 3 * H)
        dW_hh = hs[:t].reshape(t * n, H).T @ dgh.reshape(t * n, 3 * H)
        return [dW_ih, dW_hh, dxi.sum(axis=(0, 1)), dgh.sum(axis=(0, 1))]


def numpy(quick):
    x, y = _data()
    rng = np.random.default_rng(SEED)
    gru = NumpyGRU(rng, 1, H)
    Wl, bl = uniform_init(rng, H, (H, 10)), uniform_init(rng, H, (10,))
    opt = NumpyAdam(gru.params + [Wl, bl], lr=1e-3)

    def epoch(n=N):
        for i in range(0, n, BATCH):
            h = gru.forward(x[i:i + BATCH])
            _, d = softmax_xent(h @ Wl + bl, y[i:i + BATCH])
            grads = gru.backward(d @ Wl.T)
            opt.step(grads + [h.T @ d, d.sum(axis=0)])

    def eval_loss():
        return softmax_xent(gru.forward(x[:EVAL]) @ Wl + bl, y[:EVAL])[0]

    first = eval_loss()
    epoch()  # warm-up epoch, as the others
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, eval_loss()]}


def jax(quick):
    """The whole step (GRU forward by lax.scan, gradient, Adam) under one jax.jit."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from . import _jax

    x, y = _data()
    rng = np.random.default_rng(SEED)
    gru = NumpyGRU(rng, 1, H)
    params = _jax.to_device({"w_ih": gru.W_ih, "w_hh": gru.W_hh, "b_ih": gru.b_ih,
                             "b_hh": gru.b_hh, "wl": uniform_init(rng, H, (H, 10)),
                             "bl": uniform_init(rng, H, (10,))})

    def last_hidden(p, xb):
        xi = jnp.swapaxes(xb @ p["w_ih"] + p["b_ih"], 0, 1)  # (T, N, 3H), gates r z n

        def cell(h, xt):
            gh = h @ p["w_hh"] + p["b_hh"]
            r = jax.nn.sigmoid(xt[:, :H] + gh[:, :H])
            z = jax.nn.sigmoid(xt[:, H:2 * H] + gh[:, H:2 * H])
            n = jnp.tanh(xt[:, 2 * H:] + r * gh[:, 2 * H:])
            return (1 - z) * n + z * h, None

        h, _ = lax.scan(cell, jnp.zeros((xb.shape[0], H), xb.dtype), xi)
        return h

    def loss_fn(p, xb, yb):
        return _jax.xent(last_hidden(p, xb) @ p["wl"] + p["bl"], yb)

    step = _jax.adam_step(loss_fn)
    batches = [(jnp.asarray(x[i:i + BATCH]), jnp.asarray(y[i:i + BATCH]))
               for i in range(0, N, BATCH)]
    state = [params, _jax.zeros_like(params), _jax.zeros_like(params), 0]
    ex, ey = jnp.asarray(x[:EVAL]), jnp.asarray(y[:EVAL])

    def epoch(n=N):
        p, m, v, t = state
        for xb, yb in batches[:(n + BATCH - 1) // BATCH]:
            p, m, v, t, _ = step(p, m, v, t, xb, yb)
        _jax.ready(p)
        state[:] = [p, m, v, t]

    first = float(loss_fn(state[0], ex, ey))
    warm = time_calls(epoch, 1)[0]  # every batch shape once (the last batch has 32 rows)
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, float(loss_fn(state[0], ex, ey))],
            "warmup": warm}
