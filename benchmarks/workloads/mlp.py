"""W1: MLP 784-256-256-10 (ReLU), softmax cross-entropy, Adam(lr=1e-3), batch 128.

10,000 random float32 samples (fixed seed) labelled by a random linear teacher; seconds per
epoch (in order, no shuffling: the same batches for every library), timed after one
warm-up epoch. The process also measures NumPy's float32 GEMM peak (1024x1024 @ 1024x1024)
so the report can give W1's achieved GFLOP/s as a fraction of it.
"""

from __future__ import annotations


import numpy as np

from .._common import (
    SEED, NumpyAdam, compile_info, maybe_compile, median, softmax_xent, teacher_data,
    time_calls, uniform_init,
)

NAME = "mlp"
TITLE = "W1: MLP 784-256-256-10, Adam, batch 128, 10,000 samples"
UNIT = "s/epoch"
TARGET = 0.85
# issue 10: chainrule.compile / reference (the per-op row: compiled / a bare NumPy call)
TARGET_COMPILED = {"epoch": (0.75, "torch")}
ITEMS = ("epoch",)
N, SIZES, BATCH, EVAL = 10_000, (784, 256, 256, 10), 128, 1024


def _gemm_flops() -> int:
    """GEMM flops of one epoch: forward, weight gradients, input gradients of layers 2..L."""
    fwd = sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))
    dx = sum(a * b for a, b in zip(SIZES[1:-1], SIZES[2:]))
    return 2 * N * (2 * fwd + dx)


FLOPS = {"epoch": _gemm_flops()}


def gemm_peak_gflops(reps: int = 5) -> float:
    """Best-of-``reps`` float32 GEMM throughput of NumPy's BLAS (1024x1024 @ 1024x1024)."""
    rng = np.random.default_rng(SEED)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    a @ b
    best = min(time_calls(lambda: a @ b, reps))
    return 2 * 1024**3 / best / 1e9


def _epochs(quick):
    return 1 if quick else 3


def framework(lib, quick, compile=False):
    nn = lib.nn
    x_np, y_np = teacher_data(N, SIZES[0], SIZES[-1])
    X, Y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    lib.manual_seed(SEED)
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )
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

    def epoch():
        for i in range(0, N, BATCH):
            step(X[i:i + BATCH], Y[i:i + BATCH])

    first = eval_loss()
    warm = time_calls(epoch, 1)[0]  # warm-up (includes compiling)
    secs = time_calls(epoch, _epochs(quick))
    result = {"items": {"epoch": median(secs)}, "loss": [first, eval_loss()],
              "warmup": warm, **compile_info(step)}
    if lib.__name__ == "chainrule":
        result["gemm_peak_gflops"] = gemm_peak_gflops()
    return result


class NumpyMLP:
    """Dense ReLU network with manual backward; weights stored (in, out) for plain GEMMs."""

    def __init__(self, sizes, seed=SEED):
        rng = np.random.default_rng(seed)
        self.W = [uniform_init(rng, a, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [uniform_init(rng, a, (b,)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.params = self.W + self.b

    def forward(self, x):
        """Logits; keeps the layer inputs (post-ReLU activations) for backward."""
        self.acts = [x]
        h = x
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            h = h @ W
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
            self.acts.append(h)
        return h

    def backward(self, d):
        """Gradients (dW..., db...) from d loss / d logits."""
        n = len(self.W)
        dW, db = [None] * n, [None] * n
        for i in range(n - 1, -1, -1):
            a = self.acts[i]
            dW[i] = a.T @ d
            db[i] = d.sum(axis=0)
            if i > 0:
                d = d @ self.W[i].T
                np.copyto(d, 0, where=a <= 0)  # ReLU: a = relu(z), d z = d a * [a > 0]
        return dW + db


def numpy(quick):
    x, y = teacher_data(N, SIZES[0], SIZES[-1])
    net = NumpyMLP(SIZES)
    opt = NumpyAdam(net.params, lr=1e-3)

    def epoch():
        for i in range(0, N, BATCH):
            _, d = softmax_xent(net.forward(x[i:i + BATCH]), y[i:i + BATCH])
            opt.step(net.backward(d))

    first = softmax_xent(net.forward(x[:EVAL]), y[:EVAL])[0]
    epoch()
    secs = time_calls(epoch, _epochs(quick))
    last = softmax_xent(net.forward(x[:EVAL]), y[:EVAL])[0]
    return {"items": {"epoch": median(secs)}, "loss": [first, last],
            "gemm_peak_gflops": gemm_peak_gflops()}


def jax(quick):
    """The whole step (forward, gradient, Adam) under one jax.jit."""
    import jax.numpy as jnp

    from . import _jax

    x, y = teacher_data(N, SIZES[0], SIZES[-1])
    net = NumpyMLP(SIZES)
    params = _jax.to_device([(w, b) for w, b in zip(net.W, net.b)])

    def loss_fn(params, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jnp.maximum(h, 0)
        return _jax.xent(h, yb)

    step = _jax.adam_step(loss_fn)
    batches = [(jnp.asarray(x[i:i + BATCH]), jnp.asarray(y[i:i + BATCH]))
               for i in range(0, N, BATCH)]
    state = [params, _jax.zeros_like(params), _jax.zeros_like(params), 0]
    ex, ey = jnp.asarray(x[:EVAL]), jnp.asarray(y[:EVAL])

    def epoch():
        p, m, v, t = state
        for xb, yb in batches:
            p, m, v, t, _ = step(p, m, v, t, xb, yb)
        _jax.ready(p)
        state[:] = [p, m, v, t]

    first = float(loss_fn(state[0], ex, ey))
    warm = time_calls(epoch, 1)[0]
    secs = time_calls(epoch, _epochs(quick))
    return {"items": {"epoch": median(secs)}, "loss": [first, float(loss_fn(state[0], ex, ey))],
            "warmup": warm}
