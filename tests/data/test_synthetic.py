"""Synthetic generators (deterministic per seed, right shapes and classes) and the optional
bundled datasets."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import data

CLASSIFIERS = [
    (data.spirals, dict(n_samples=301, n_classes=3), (301, 2), 3),
    (data.spirals, dict(n_samples=100), (100, 2), 2),
    (data.moons, dict(n_samples=101), (101, 2), 2),
    (data.circles, dict(n_samples=120), (120, 2), 2),
    (data.xor, dict(n_samples=202), (202, 2), 2),
    (data.blobs, dict(n_samples=90, n_features=4, centers=5), (90, 4), 5),
    (data.bars_images, dict(n_samples=50, size=6), (50, 1, 6, 6), 2),
]


@pytest.mark.parametrize("fn, kw, shape, k", CLASSIFIERS)
def test_classification_generators(fn, kw, shape, k):
    X, y = fn(**kw, seed=5)
    assert X.shape == shape and X.dtype == cr.float32
    assert y.shape == (shape[0],) and y.dtype == cr.int64
    counts = np.bincount(y.numpy(), minlength=k)
    assert counts.size == k and counts.max() - counts.min() <= 1  # balanced classes
    X2, y2 = fn(**kw, seed=5)
    np.testing.assert_array_equal(X.numpy(), X2.numpy())
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    X3, _ = fn(**kw, seed=6)
    assert not np.array_equal(X.numpy(), X3.numpy())
    assert not np.all(np.diff(y.numpy()) >= 0)  # shuffled, not sorted by class


def test_seed_none_follows_manual_seed():
    cr.manual_seed(11)
    a = data.moons(seed=None)[0].numpy()
    cr.manual_seed(11)
    np.testing.assert_array_equal(data.moons(seed=None)[0].numpy(), a)


def test_geometry_without_noise():
    X, y = data.moons(200, noise=0.0)
    X, y = X.numpy().astype(np.float64), y.numpy()
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1, atol=1e-6)
    X, y = data.circles(200, noise=0.0, factor=0.3)
    r = np.hypot(*X.numpy().astype(np.float64).T)
    np.testing.assert_allclose(r, np.where(y.numpy() == 0, 1.0, 0.3), atol=1e-6)
    X, y = data.xor(200, noise=0.0)
    X = X.numpy()
    np.testing.assert_array_equal(y.numpy(), (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    X, y = data.sine_regression(50, noise=0.0)
    assert X.shape == y.shape == (50, 1) and y.dtype == cr.float32
    np.testing.assert_allclose(y.numpy(), np.sin(X.numpy()), atol=1e-6)
    X, y = data.spirals(300, n_classes=3, noise=0.0)
    r = np.hypot(*X.numpy().astype(np.float64).T)
    assert r.max() <= 1 + 1e-6 and r.min() > 0


def test_bars_images_without_noise():
    X, y = data.bars_images(40, size=5, noise=0.0)
    X, y = X.numpy()[:, 0], y.numpy()
    for img, label in zip(X, y):
        full_rows = np.flatnonzero(img.sum(1) == 5)
        full_cols = np.flatnonzero(img.sum(0) == 5)
        assert img.sum() == 5
        assert (len(full_rows), len(full_cols)) == ((1, 0) if label == 0 else (0, 1))


def test_blobs_cluster_around_centres():
    X, y = data.blobs(600, n_features=3, centers=4, cluster_std=0.5, seed=1)
    X, y = X.numpy(), y.numpy()
    for c in range(4):
        pts = X[y == c]
        np.testing.assert_allclose(pts.std(0), 0.5, rtol=0.25)


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="n_samples"):
        data.moons(0)
    with pytest.raises(ValueError, match="noise"):
        data.xor(noise=-1)
    with pytest.raises(ValueError, match="n_classes"):
        data.spirals(n_classes=1)
    with pytest.raises(ValueError, match="factor"):
        data.circles(factor=1.5)


def test_digits():
    pytest.importorskip("sklearn")
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.dtype == cr.float32 and y.dtype == cr.int64
    assert X.numpy().min() == 0 and X.numpy().max() == 1 and set(y.numpy()) == set(range(10))
    assert data.digits(as_images=True)[0].shape == (1797, 1, 8, 8)


def test_mnist1d_small(monkeypatch):
    mn = pytest.importorskip("mnist1d.data")
    full_args = mn.get_dataset_args

    def small_args(as_dict=False):  # 200 samples instead of 5,000 keeps the test fast
        args = full_args(as_dict)
        args.num_samples = 200
        return args

    monkeypatch.setattr(mn, "get_dataset_args", small_args)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    d = data.mnist1d()
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global state restored
    assert d.X_train.shape == (160, 40) and d.X_test.shape == (40, 40)
    assert d.X_train.dtype == cr.float32 and d.y_test.dtype == cr.int64
    Xtr, ytr, _, _ = data.mnist1d()
    np.testing.assert_array_equal(Xtr.numpy(), d.X_train.numpy())
    assert set(ytr.numpy()) <= set(range(10))


def test_missing_extras_name_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_extras(name, *args, **kwargs):
        if name.startswith(("sklearn", "mnist1d")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_extras)
    with pytest.raises(ImportError, match=r"chainrule\[sklearn\]"):
        data.digits()
    with pytest.raises(ImportError, match=r"chainrule\[mnist1d\]"):
        data.mnist1d()
