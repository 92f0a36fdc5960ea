"""``MLPClassifier`` and ``MLPRegressor`` (see the package docstring)."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from ._base import (
    ClassifierMixin, RegressorMixin, _BaseMLP, _t, check_classification_targets, check_is_fitted,
    check_random_state, validate_data,
)

class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: softmax output, cross-entropy loss + L2 penalty.

        loss = CrossEntropy(net(X), y) + alpha / (2 n) * sum_l ||W_l||^2

    Args (as scikit-learn): hidden_layer_sizes, activation ("identity", "logistic", "tanh",
        "relu"), solver ("adam", "sgd", "lbfgs"), alpha, batch_size (min(200, n) for
        "auto"), learning_rate_init, max_iter (epochs; lbfgs iterations), tol and
        n_iter_no_change (stop after n_iter_no_change epochs without a tol improvement),
        early_stopping with validation_fraction, momentum/nesterovs_momentum (sgd),
        beta_1/beta_2/epsilon (adam), random_state, warm_start (keep weights and optimizer
        state across fit calls), shuffle, verbose.

    Shape: X (N, n_features) -> predict (N,), predict_proba (N, n_classes).
    """

    def _loss(self, out, y):
        return F.cross_entropy(out, y)

    def _target(self, y):
        return Tensor._make(np.asarray(y, dtype=np.int64), False, None, 0)

    def _val_score(self, X, y):
        return float(np.mean(self._forward(X).argmax(axis=1) == y))

    def _encode(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        check_classification_targets(y)
        return X, y

    def fit(self, X, y):
        """Train on (X, y) for up to max_iter epochs; returns self."""
        X, y = self._encode(X, y, reset=True)
        if not (self.warm_start and hasattr(self, "_model")):
            self.classes_ = np.unique(y)
        elif not np.isin(y, self.classes_).all():
            raise ValueError(f"MLPClassifier: warm_start with new classes "
                             f"{np.setdiff1d(y, self.classes_)} (fitted on {self.classes_})")
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier: y has only one class ({self.classes_[0]!r}); "
                             "need samples of at least 2 classes")
        return self._fit(X, np.searchsorted(self.classes_, y))

    def _partial_fit(self, X, y, classes=None):
        first = not hasattr(self, "classes_")
        X, y = self._encode(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("MLPClassifier.partial_fit: classes must be passed on the "
                                 "first call (e.g. classes=np.unique(y_all))")
            self.classes_ = np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError("MLPClassifier.partial_fit: classes has only one class")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"MLPClassifier.partial_fit: classes={classes!r} differs from "
                             f"the first call's {self.classes_!r}")
        if not np.isin(y, self.classes_).all():
            raise ValueError(f"MLPClassifier.partial_fit: y has labels "
                             f"{np.setdiff1d(y, self.classes_)} not in classes {self.classes_}")
        if first:
            self._initialize(X.shape[1], len(self.classes_), check_random_state(
                self.random_state))
            self._rng = check_random_state(self.random_state)
        return self._fit(X, np.searchsorted(self.classes_, y), incremental=True)

    def predict_proba(self, X):
        """Class probabilities (softmax of the output layer), shape (N, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        z = self._forward(X)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, shape (N,)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.classes_[self._forward(X).argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: identity output, squared loss + L2 penalty.

        loss = mean((net(X) - y)^2) / 2 + alpha / (2 n) * sum_l ||W_l||^2

    Hyper-parameters as ``MLPClassifier``. Shape: X (N, n_features), y (N,) or
    (N, n_targets) -> predict (N,) or (N, n_targets).
    """

    def _loss(self, out, y):
        return 0.5 * ((out - y) ** 2).mean()

    def _target(self, y):
        return _t(y.reshape(y.shape[0], -1))

    def _val_score(self, X, y):
        return self._score_r2(X, y)

    def _score_r2(self, X, y):
        from sklearn.metrics import r2_score

        return float(r2_score(y, self._predict(X)))

    def fit(self, X, y):
        """Train on (X, y) for up to max_iter epochs; returns self."""
        X, y = validate_data(self, X, y, reset=True, dtype=np.float64, multi_output=True,
                             y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        return self._fit(X, y.reshape(len(y), -1))

    def _partial_fit(self, X, y):
        first = not hasattr(self, "_model")
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64, multi_output=True,
                             y_numeric=True)
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if first:
            self._y_ndim = 1 if y.shape[1] == 1 else 2
            rng = check_random_state(self.random_state)
            self._initialize(X.shape[1], y.shape[1], rng)
            self._rng = rng
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"MLPRegressor.partial_fit: y has {y.shape[1]} targets, the model "
                             f"{self.n_outputs_}")
        return self._fit(X, y, incremental=True)

    def _predict(self, X):
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def predict(self, X):
        """Predicted targets, shape (N,) for one target, else (N, n_targets)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
