"""Shared pieces of the JAX versions of the workloads (``jax(quick)`` in each workload).

Each JAX version computes the same network, loss and optimizer update as the framework
version, with the whole training step (forward, gradient, update) under one ``jax.jit``
(parameters and optimizer state donated, so XLA may update them in place). Batches are
put on the device before timing; each timed block ends with ``block_until_ready``.
"""

from __future__ import annotations


def adam_step(loss_fn, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """A jitted ``step(params, m, v, t, *batch) -> (params, m, v, t, loss)`` with PyTorch's
    Adam update (eps added after the bias correction of sqrt(v))."""
    import jax
    import jax.numpy as jnp

    def step(params, m, v, t, *batch):
        loss, g = jax.value_and_grad(loss_fn)(params, *batch)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: b2 * v_ + (1 - b2) * g_ * g_, v, g)
        bc1 = 1 - b1 ** t
        bc2 = jnp.sqrt(1 - b2 ** t)
        params = jax.tree_util.tree_map(
            lambda p, m_, v_: p - lr / bc1 * m_ / (jnp.sqrt(v_) / bc2 + eps), params, m, v)
        return params, m, v, t, loss

    return jax.jit(step, donate_argnums=(0, 1, 2))


def sgd_step(loss_fn, lr, momentum=0.0):
    """A jitted ``step(params, buf, *batch) -> (params, buf, loss)``: PyTorch's SGD
    (buf = momentum * buf + g, p -= lr * buf; plain p -= lr * g without momentum)."""
    import jax

    def step(params, buf, *batch):
        loss, g = jax.value_and_grad(loss_fn)(params, *batch)
        if momentum:
            buf = jax.tree_util.tree_map(lambda b, g_: momentum * b + g_, buf, g)
            g = buf
        params = jax.tree_util.tree_map(lambda p, g_: p - lr * g_, params, g)
        return params, buf, loss

    return jax.jit(step, donate_argnums=(0, 1))


def zeros_like(tree):
    import jax
    import jax.numpy as jnp

    return jax.tree_util.tree_map(jnp.zeros_like, tree)


def xent(logits, y):
    """Mean softmax cross-entropy of logits (N, C) against class indices y (N,)."""
    import jax
    import jax.numpy as jnp

    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def to_device(tree):
    import jax

    return jax.tree_util.tree_map(jax.device_put, tree)


def ready(tree):
    import jax

    jax.tree_util.tree_map(lambda a: a.block_until_ready(), tree)
