"""Shared test helpers: seeding, float64 finite differences, and the optional torch oracle."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function of a float64 array."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    gf = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f(x)
        flat[i] = old - eps
        fm = f(x)
        flat[i] = old
        gf[i] = (fp - fm) / (2 * eps)
    return g


@pytest.fixture
def torch():
    """The PyTorch module for oracle tests; the test is skipped where torch is absent."""
    return pytest.importorskip("torch")
