"""Seeded synthetic datasets for experiments and tests: each returns ``(X, y)`` tensors.

Classification sets give float32 ``X (N, 2)`` (images: ``(N, 1, H, W)``) and int64 class
indices ``y (N,)``; ``sine_regression`` gives float32 ``X (N, 1)`` and ``y (N, 1)``. Samples
are shuffled, and the same ``seed`` always gives the same data (``seed=None`` draws one from
chainrule's global generator, which ``chainrule.manual_seed`` seeds).
"""

from __future__ import annotations

import numpy as np

from ..random import default_generator
from ..tensor import Tensor

__all__ = ["bars_images", "blobs", "circles", "moons", "sine_regression", "spirals", "xor"]


def _rng(seed) -> np.random.Generator:
    if seed is None:
        seed = int(default_generator.integers(0, 2**62, ()))
    return np.random.default_rng(seed)


def _check(n_samples, noise, name):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"{name}: n_samples must be a positive integer, got {n_samples!r}")
    if noise < 0:
        raise ValueError(f"{name}: noise must be non-negative, got {noise}")


def _out(rng, X, y, y_dtype=np.int64):
    perm = rng.permutation(len(y))
    X = np.ascontiguousarray(X[perm], dtype=np.float32)
    y = np.ascontiguousarray(y[perm], dtype=y_dtype)
    return Tensor._make(X, False, None, 0), Tensor._make(y, False, None, 0)


def _per_class(n_samples, k):
    return np.array([n_samples // k + (c < n_samples % k) for c in range(k)])


def spirals(n_samples: int = 300, n_classes: int = 2, noise: float = 0.05, seed: int | None = 0,
            turns: float = 1.5):
    """Interleaved spiral arms, one per class: ``r = t``, ``angle = 2 pi turns t + 2 pi c / K``.

    Args:
        n_samples: total points N (split evenly across classes).
        n_classes: number of arms K (>= 2).
        noise: std of the Gaussian noise added to each coordinate (arms reach radius 1).
        seed: random seed.
        turns: how many times each arm winds around the origin.

    Shape: X ``(N, 2)``, y ``(N,)`` in ``0..K-1``.

    Example::

        X, y = spirals(300, n_classes=3, noise=0.05, seed=0)
    """
    _check(n_samples, noise, "spirals")
    if n_classes < 2:
        raise ValueError(f"spirals: n_classes must be at least 2, got {n_classes}")
    rng = _rng(seed)
    xs, ys = [], []
    for c, m in enumerate(_per_class(n_samples, n_classes)):
        t = np.linspace(0.05, 1.0, m)
        angle = 2 * np.pi * turns * t + 2 * np.pi * c / n_classes
        pts = np.stack([t * np.cos(angle), t * np.sin(angle)], 1)
        xs.append(pts + noise * rng.standard_normal(pts.shape))
        ys.append(np.full(m, c))
    return _out(rng, np.concatenate(xs), np.concatenate(ys))


def moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Two interleaving half circles: class 0 on ``(cos a, sin a)``, class 1 on
    ``(1 - cos a, 0.5 - sin a)``, ``a`` in [0, pi]. Shape: X ``(N, 2)``, y ``(N,)``."""
    _check(n_samples, noise, "moons")
    rng = _rng(seed)
    n0, n1 = _per_class(n_samples, 2)
    a0, a1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(a0), np.sin(a0)], 1),
                        np.stack([1 - np.cos(a1), 0.5 - np.sin(a1)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    return _out(rng, X, np.repeat([0, 1], [n0, n1]))


def circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = 0):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1).
    Shape: X ``(N, 2)``, y ``(N,)``."""
    _check(n_samples, noise, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    rng = _rng(seed)
    n0, n1 = _per_class(n_samples, 2)
    a0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    a1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.stack([np.cos(a0), np.sin(a0)], 1),
                        factor * np.stack([np.cos(a1), np.sin(a1)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    return _out(rng, X, np.repeat([0, 1], [n0, n1]))


def xor(n_samples: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Four clusters at ``(+-1, +-1)``: ``y = 1`` when the signs differ (XOR), else 0.
    Shape: X ``(N, 2)``, y ``(N,)``."""
    _check(n_samples, noise, "xor")
    rng = _rng(seed)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float64)
    which = np.repeat(np.arange(4), _per_class(n_samples, 4))
    X = corners[which] + noise * rng.standard_normal((n_samples, 2))
    return _out(rng, X, np.array([0, 1, 1, 0])[which])


def blobs(n_samples: int = 300, n_features: int = 2, centers: int = 3,
          cluster_std: float = 1.0, seed: int | None = 0, center_box: float = 10.0):
    """Gaussian clusters: ``x = mu_c + cluster_std * eps``, centers ``mu_c`` uniform in
    ``[-center_box, center_box]^D``. Shape: X ``(N, D)``, y ``(N,)`` in ``0..centers-1``."""
    _check(n_samples, cluster_std, "blobs")
    if centers < 1 or n_features < 1:
        raise ValueError(f"blobs: centers and n_features must be positive, got {centers}, "
                         f"{n_features}")
    rng = _rng(seed)
    mu = rng.uniform(-center_box, center_box, (centers, n_features))
    which = np.repeat(np.arange(centers), _per_class(n_samples, centers))
    X = mu[which] + cluster_std * rng.standard_normal((n_samples, n_features))
    return _out(rng, X, which)


def sine_regression(n_samples: int = 200, noise: float = 0.1, seed: int | None = 0,
                    low: float = -np.pi, high: float = np.pi):
    """``y = sin(x) + noise * eps`` with ``x`` uniform on ``[low, high]``.
    Shape: X ``(N, 1)``, y ``(N, 1)`` (both float32)."""
    _check(n_samples, noise, "sine_regression")
    rng = _rng(seed)
    x = rng.uniform(low, high, (n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal((n_samples, 1))
    return _out(rng, x, y, np.float32)


def bars_images(n_samples: int = 200, size: int = 8, noise: float = 0.1, seed: int | None = 0):
    """Small images with one bright bar: horizontal (class 0) or vertical (class 1).

    Each image is zero except one full row (class 0) or column (class 1) set to 1, at a
    random position, plus Gaussian noise of std ``noise``.

    Shape: X ``(N, 1, H, W)`` with ``H = W = size``, y ``(N,)``.

    Example::

        X, y = bars_images(100, size=8)   # for a first Conv2d experiment
    """
    _check(n_samples, noise, "bars_images")
    if size < 2:
        raise ValueError(f"bars_images: size must be at least 2, got {size}")
    rng = _rng(seed)
    y = np.repeat([0, 1], _per_class(n_samples, 2))
    pos = rng.integers(0, size, n_samples)
    X = np.zeros((n_samples, 1, size, size))
    rows = np.arange(n_samples)
    horiz = y == 0
    X[rows[horiz], 0, pos[horiz], :] = 1.0
    X[rows[~horiz], 0, :, pos[~horiz]] = 1.0
    X += noise * rng.standard_normal(X.shape)
    return _out(rng, X, y)
