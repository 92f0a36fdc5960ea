"""Helpers shared by the workloads: timing, synthetic data, in-process statistics."""

from __future__ import annotations

import statistics
import time

import numpy as np

SEED = 1234


def time_calls(fn, reps: int) -> list[float]:
    """Wall-clock seconds of ``reps`` calls of ``fn()``."""
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def maybe_compile(lib, step, compile: bool):
    """``step`` compiled with the library's ``compile`` (torch.compile, chainrule.compile)
    when asked: the whole training step (forward, backward, optimizer) is compiled."""
    return lib.compile(step) if compile else step


def compile_info(step) -> dict:
    """Recording times of a chainrule-compiled step (seconds per recorded program)."""
    times = getattr(step, "compile_times", None)
    return {} if times is None else {"compile_times": list(times)}


def median(xs) -> float:
    return float(statistics.median(xs))


def per_iteration(fn, n: int, reps: int) -> float:
    """Median over ``reps`` blocks of the mean seconds of one call of ``fn`` (``n`` per block)."""

    def block():
        for _ in range(n):
            fn()

    return median(time_calls(block, reps)) / n


def teacher_data(n: int, d: int, classes: int, seed: int = SEED):
    """Gaussian inputs (n, d) float32 and labels from a random linear teacher (int64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal((d, classes), dtype=np.float32)
    y = np.argmax(x @ w + 0.5 * rng.standard_normal((n, classes), dtype=np.float32), axis=1)
    return x, y.astype(np.int64)


def uniform_init(rng, fan_in: int, shape) -> np.ndarray:
    """PyTorch's default Linear/Conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


class NumpyAdam:
    """Adam on NumPy arrays, in place (PyTorch's update rule and defaults)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = params
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        sqrt_bc2 = np.sqrt(1 - b2**self.t)
        step = self.lr / (1 - b1**self.t) * sqrt_bc2
        eps = self.eps * sqrt_bc2  # p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), rescaled
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            np.subtract(g, m, out=tmp)  # m = b1 m + (1 - b1) g = m + (1 - b1)(g - m)
            tmp *= 1 - b1
            m += tmp
            np.multiply(g, g, out=tmp)  # v = v + (1 - b2)(g^2 - v)
            tmp -= v
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step
            p -= tmp


class NumpySGD:
    """SGD with PyTorch's momentum (v = mu * v + g; p -= lr * v), in place."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.mu = params, lr, momentum
        self.v = [np.zeros_like(p) for p in params] if momentum else None

    def step(self, grads):
        if self.v is None:
            for p, g in zip(self.params, grads):
                p -= self.lr * g
            return
        for p, g, v in zip(self.params, grads, self.v):
            v *= self.mu
            v += g
            p -= self.lr * v


def softmax_xent(logits: np.ndarray, y: np.ndarray):
    """Mean cross-entropy of ``logits`` (N, C) against class indices, and d loss / d logits."""
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
    e /= s
    e[np.arange(n), y] -= 1.0
    e /= n
    return loss, e
