"""Seeded train / validation / test splits, stratified by class when asked."""

from __future__ import annotations

import numpy as np


def _round(x: float) -> int:
    return int(np.floor(x + 0.5))


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainder method),
    so each class gets within one sample of its exact share and the parts sum to ``total``."""
    exact = counts * (total / counts.sum())
    alloc = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - alloc), kind="stable")
    alloc[order[: total - int(alloc.sum())]] += 1
    return np.minimum(alloc, counts)


def split_indices(n: int, val_split: float, test_split: float, seed: int,
                  labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) row indices, each sorted; stratified when ``labels`` is given.

    Test and validation sizes are ``round(n * split)``; with labels each class contributes
    its proportional share (within one sample) to every split.
    """
    rng = np.random.default_rng(seed)
    n_test, n_val = _round(n * test_split), _round(n * val_split)
    if labels is None:
        perm = rng.permutation(n)
        parts = perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test]
        return tuple(np.sort(p) for p in parts)
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=classes.size)
    test_c = _allocate(counts, n_test)
    val_c = np.minimum(_allocate(counts, n_val), counts - test_c)
    train, val, test = [], [], []
    for c in range(classes.size):
        rows = rng.permutation(np.flatnonzero(inverse == c))
        test.append(rows[: test_c[c]])
        val.append(rows[test_c[c]: test_c[c] + val_c[c]])
        train.append(rows[test_c[c] + val_c[c]:])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in (train, val, test))
