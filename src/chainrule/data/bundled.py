"""Datasets that come from optional packages: ``digits`` (scikit-learn) and ``mnist1d``.

Each imports its package lazily and, when it is missing, raises ``ImportError`` with a
one-line message naming the chainrule extra that installs it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..tensor import Tensor

__all__ = ["TrainTest", "digits", "mnist1d"]


class TrainTest(NamedTuple):
    """A dataset with a fixed train/test split; unpacks as ``X_train, y_train, X_test, y_test``."""

    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor


def _t(arr, dtype) -> Tensor:
    return Tensor._make(np.ascontiguousarray(arr, dtype=dtype), False, None, 0)


def digits(as_images: bool = False):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, classes 0-9), offline.

    Pixels are scaled from 0..16 to [0, 1].

    Args:
        as_images: return X as ``(N, 1, 8, 8)`` images instead of ``(N, 64)`` vectors.

    Shape: X ``(1797, 64)`` or ``(1797, 1, 8, 8)`` float32, y ``(1797,)`` int64.

    Example::

        X, y = digits()      # needs: pip install 'chainrule[sklearn]'
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("chainrule.data.digits needs scikit-learn: "
                          "pip install 'chainrule[sklearn]'") from None
    d = load_digits()
    X = d.data / 16.0
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    return _t(X, np.float32), _t(d.target, np.int64)


def mnist1d(seed: int = 42) -> TrainTest:
    """MNIST-1D: 5,000 noisy 1-D signals of length 40 made from ten digit templates.

    Generated offline by the ``mnist1d`` package's ``make_dataset`` with its default
    arguments (only ``seed`` may be changed): 4,000 training and 1,000 test signals. Nothing
    is downloaded; NumPy's global random state, which ``make_dataset`` reseeds, is restored.

    Shape: X_train ``(4000, 40)``, X_test ``(1000, 40)`` float32; y int64 in 0..9.

    Example::

        X_train, y_train, X_test, y_test = mnist1d()   # pip install 'chainrule[mnist1d]'
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ImportError("chainrule.data.mnist1d needs the mnist1d package: "
                          "pip install 'chainrule[mnist1d]'") from None
    args = get_dataset_args()
    args.seed = int(seed)
    state = np.random.get_state()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(state)
    return TrainTest(_t(d["x"], np.float32), _t(d["y"], np.int64),
                     _t(d["x_test"], np.float32), _t(d["y_test"], np.int64))
