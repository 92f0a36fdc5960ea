"""Per-primitive overhead: forward + backward of one op on 8x8 float32 tensors.

Tiny arrays make the arithmetic negligible, so this measures what a framework adds around
each NumPy call (building the graph node, type promotion, wrapping, the backward walk).
Rows: one op (add, mul, matmul, exp, sum, relu) forward + backward, and a chain of 1,000
elementwise ops (mul, add, tanh repeated) forward + backward, reported per op. The NumPy
rows are the floor: the single ops forward only, the chain forward plus its hand-written
backward.
"""

from __future__ import annotations

import numpy as np

from .._common import SEED, compile_info, maybe_compile, per_iteration

NAME = "ops"
TITLE = "per-op overhead, 8x8 float32, forward + backward"
UNIT = "s/op"
TARGET = 1.5
# issue 10: chainrule.compile / reference (the per-op row: compiled / a bare NumPy call)
TARGET_COMPILED = {"chain1000": (2.0, "numpy")}
NOTE = (
    "The single-op rows include the fixed cost of one `.backward()` call per op (large for "
    "PyTorch too); `chain1000` (one backward for 1,000 ops) is the per-op cost proper."
)
ITEMS = ("add", "mul", "matmul", "exp", "sum", "relu", "chain1000")
CHAIN = 1000


def _sizes(quick):
    return (100, 3) if quick else (300, 5)  # iterations per block, blocks


def _inputs():
    rng = np.random.default_rng(SEED)
    return [rng.standard_normal((8, 8), dtype=np.float32) for _ in range(4)]


def framework(lib, quick, compile=False):
    n, reps = _sizes(quick)
    xa, ya, wa, ba = _inputs()
    x = lib.tensor(xa, requires_grad=True)
    y = lib.tensor(ya, requires_grad=True)
    w = lib.tensor(0.5 + 0.5 * np.abs(wa))  # constants of the chain
    b = lib.tensor(0.1 * ba)
    g = lib.ones(8, 8)
    single = {
        "add": (lambda: x + y, g),
        "mul": (lambda: x * y, g),
        "matmul": (lambda: x @ y, g),
        "exp": (lambda: x.exp(), g),
        "sum": (lambda: x.sum(), None),
        "relu": (lambda: lib.relu(x), g),
    }
    items = {}
    for name, (op, grad) in single.items():

        def step(op=op, grad=grad):
            op().backward(grad)

        step = maybe_compile(lib, step, compile)
        step()
        step()
        items[name] = per_iteration(step, n, reps)

    def chain():
        h = x
        for i in range(CHAIN):
            k = i % 3
            h = h * w if k == 0 else h + b if k == 1 else h.tanh()
        h.sum().backward()

    chain = maybe_compile(lib, chain, compile)
    chain()
    chain()
    items["chain1000"] = per_iteration(chain, max(1, n // 100), reps) / (CHAIN + 2)
    return {"items": items, **compile_info(chain)}


def numpy(quick):
    n, reps = _sizes(quick)
    x, y, wa, ba = _inputs()
    w = 0.5 + 0.5 * np.abs(wa)
    b = 0.1 * ba
    single = {
        "add": lambda: np.add(x, y),
        "mul": lambda: np.multiply(x, y),
        "matmul": lambda: np.matmul(x, y),
        "exp": lambda: np.exp(x),
        "sum": lambda: np.sum(x),
        "relu": lambda: np.maximum(x, 0),
    }
    items = {name: per_iteration(op, n, reps) for name, op in single.items()}

    def chain():
        outs = []
        h = x
        for i in range(CHAIN):
            k = i % 3
            h = h * w if k == 0 else h + b if k == 1 else np.tanh(h)
            outs.append(h)
        grad = np.ones_like(h)
        for i in range(CHAIN - 1, -1, -1):
            k = i % 3
            if k == 0:
                grad = grad * w
            elif k == 2:
                grad = grad * (1 - outs[i] * outs[i])
        return grad

    chain()
    items["chain1000"] = per_iteration(chain, max(1, n // 100), reps) / (CHAIN + 2)
    return {"items": items}


def jax(quick):
    """Each op forward + VJP (and the chain's gradient) as one jitted function."""
    import jax
    import jax.numpy as jnp

    n, reps = _sizes(quick)
    xa, ya, wa, ba = (jnp.asarray(a) for a in _inputs())
    w = 0.5 + 0.5 * jnp.abs(wa)
    b = 0.1 * ba
    g = jnp.ones((8, 8), jnp.float32)
    single = {
        "add": lambda x, y: x + y, "mul": lambda x, y: x * y, "matmul": lambda x, y: x @ y,
        "exp": lambda x, y: jnp.exp(x), "sum": lambda x, y: jnp.sum(x),
        "relu": lambda x, y: jnp.maximum(x, 0),
    }
    items = {}
    for name, op in single.items():
        seed = jnp.ones(()) if name == "sum" else g

        def fwd_bwd(x, y, op=op, seed=seed):
            out, vjp = jax.vjp(op, x, y)
            return vjp(seed)

        f = jax.jit(fwd_bwd)
        f(xa, ya)[0].block_until_ready()
        items[name] = per_iteration(lambda f=f: f(xa, ya)[0].block_until_ready(), n, reps)

    def chain(x):
        h = x
        for i in range(CHAIN):
            k = i % 3
            h = h * w if k == 0 else h + b if k == 1 else jnp.tanh(h)
        return h.sum()

    grad = jax.jit(jax.grad(chain))
    grad(xa).block_until_ready()
    items["chain1000"] = per_iteration(lambda: grad(xa).block_until_ready(), max(1, n // 100),
                                       reps) / (CHAIN + 2)
    return {"items": items}
