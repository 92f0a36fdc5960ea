"""Deterministic weights shared by the client programs: every parameter of a model is set
from NumPy's seeded generator in named order, so chainrule and PyTorch start from the same
point without sharing a random number generator."""

import numpy as np


def set_weights(torch, model, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _name, p in model.named_parameters():
            fan_in = p.shape[-1] if p.dim() > 1 else p.shape[0]
            values = rng.uniform(-scale, scale, tuple(p.shape)) / np.sqrt(max(fan_in, 1))
            p.copy_(torch.from_numpy(values.astype(np.float32)))


def data(n, d, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x @ rng.standard_normal(d) > 0).astype(np.int64)
    return x, y
