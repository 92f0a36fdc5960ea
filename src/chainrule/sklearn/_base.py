"""The shared part of the estimators: network, training loops, pickling (see the package)."""

from __future__ import annotations

import warnings

import numpy as np

from .. import nn, optim
from .._dtype import float64
from ..random import get_rng_state, set_rng_state
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: F401
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets  # noqa: F401
    from sklearn.utils.validation import check_is_fitted  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError("chainrule.sklearn needs scikit-learn: pip install 'chainrule[sklearn]'") \
        from None
try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

_ACTIVATIONS = {"identity": nn.Identity, "logistic": nn.Sigmoid, "tanh": nn.Tanh,
                "relu": nn.ReLU}


def _t(a):
    return Tensor._make(np.ascontiguousarray(a, dtype=np.float64), False, None, 0)


def _to_arrays(obj):
    if isinstance(obj, Tensor):
        return ("__tensor__", obj._data.copy())
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_arrays(v) for v in obj)
    return obj


def _to_tensors(obj):
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str) and \
            obj[0] == "__tensor__":
        return Tensor._make(obj[1].copy(), False, None, 0)
    if isinstance(obj, dict):
        return {k: _to_tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_tensors(v) for v in obj)
    return obj


class _BaseMLP(BaseEstimator):
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # -- checks ------------------------------------------------------------------------
    def _check_params(self):
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if np.isscalar(sizes) else tuple(sizes)
        if any(int(s) != s or s < 1 for s in sizes):
            raise ValueError(f"{name}: hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"{name}: activation must be one of {sorted(_ACTIVATIONS)}, got "
                             f"{self.activation!r}")
        if self.solver not in ("adam", "sgd", "lbfgs"):
            raise ValueError(f"{name}: solver must be 'adam', 'sgd' or 'lbfgs', got "
                             f"{self.solver!r}")
        checks = [("alpha", self.alpha >= 0), ("learning_rate_init", self.learning_rate_init > 0),
                  ("max_iter", self.max_iter >= 1), ("tol", self.tol >= 0),
                  ("momentum", 0 <= self.momentum <= 1),
                  ("validation_fraction", 0 < self.validation_fraction < 1),
                  ("beta_1", 0 <= self.beta_1 < 1), ("beta_2", 0 <= self.beta_2 < 1),
                  ("epsilon", self.epsilon > 0), ("n_iter_no_change", self.n_iter_no_change >= 1),
                  ("max_fun", self.max_fun >= 1)]
        for key, ok in checks:
            if not ok:
                raise ValueError(f"{name}: bad {key}={getattr(self, key)!r}")
        if self.batch_size != "auto" and (int(self.batch_size) != self.batch_size
                                          or self.batch_size < 1):
            raise ValueError(f"{name}: batch_size must be 'auto' or a positive integer, got "
                             f"{self.batch_size!r}")
        return [int(s) for s in sizes]

    # -- the network ---------------------------------------------------------------------
    def _initialize(self, n_features, n_outputs, rng):
        sizes = [n_features, *self._check_params(), n_outputs]
        global_rng = get_rng_state()  # nn.Linear's own init must not move the global stream
        layers = []
        factor = 2.0 if self.activation == "logistic" else 6.0  # Glorot, as scikit-learn
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(fan_in, fan_out, dtype=float64)
            bound = np.sqrt(factor / (fan_in + fan_out))
            with no_grad():
                # drawn in scikit-learn's order and layout: same random_state, same weights
                lin.weight.copy_(_t(rng.uniform(-bound, bound, (fan_in, fan_out)).T))
                lin.bias.copy_(_t(rng.uniform(-bound, bound, fan_out)))
            layers.append(lin)
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[self.activation]())
        set_rng_state(global_rng)
        self._model = nn.Sequential(*layers)
        self._optimizer = self._make_optimizer()
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement = 0
        self.best_loss_ = np.inf
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes)

    def _make_optimizer(self):
        params = list(self._model.parameters())
        if self.solver == "adam":
            return optim.Adam(params, lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                              eps=self.epsilon)
        if self.solver == "sgd":
            return optim.SGD(params, lr=self.learning_rate_init, momentum=self.momentum,
                             nesterov=self.nesterovs_momentum and self.momentum > 0)
        return optim.LBFGS(params, lr=1.0, max_iter=self.max_iter, max_eval=self.max_fun,
                           tolerance_grad=self.tol, tolerance_change=1e-12,
                           line_search_fn="strong_wolfe")

    def _objective(self, X, y):
        out = self._model(X)
        loss = self._loss(out, y)
        if self.alpha:
            l2 = sum((m.weight ** 2).sum() for m in self._model if isinstance(m, nn.Linear))
            loss = loss + (0.5 * self.alpha / X.shape[0]) * l2
        return loss

    def _forward(self, X):
        with no_grad():
            return self._model(_t(X))._data

    def _sync_attributes(self):
        lins = [m for m in self._model if isinstance(m, nn.Linear)]
        self.coefs_ = [m.weight._data.T.copy() for m in lins]
        self.intercepts_ = [m.bias._data.copy() for m in lins]

    # -- copying (pickle, joblib, deepcopy): chainrule tensors refuse to pickle, so the
    # network and the optimizer state travel as NumPy arrays and are rebuilt on load
    def __getstate__(self):
        state = super().__getstate__()
        if "_model" in state:
            state = dict(state)
            state["_weights"] = [p._data.copy() for p in state.pop("_model").parameters()]
            state["_opt_state"] = _to_arrays(state.pop("_optimizer").state_dict())
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = state.pop("_weights", None)
        opt_state = state.pop("_opt_state", None)
        super().__setstate__(state)
        if weights is not None:
            global_rng = get_rng_state()
            layers = []
            for i in range(0, len(weights), 2):
                lin = nn.Linear(weights[i].shape[1], weights[i].shape[0], dtype=float64)
                with no_grad():
                    lin.weight.copy_(_t(weights[i]))
                    lin.bias.copy_(_t(weights[i + 1]))
                layers.append(lin)
                if i + 2 < len(weights):
                    layers.append(_ACTIVATIONS[self.activation]())
            set_rng_state(global_rng)
            self._model = nn.Sequential(*layers)
            self._optimizer = self._make_optimizer()
            self._optimizer.load_state_dict(_to_tensors(opt_state))

    # -- training ------------------------------------------------------------------------
    def _fit(self, X, y, incremental=False):
        first = not hasattr(self, "_model") or not (self.warm_start or incremental)
        rng = check_random_state(self.random_state)
        if first:
            self._initialize(X.shape[1], y.shape[1] if y.ndim == 2 else len(self.classes_), rng)
        elif not hasattr(self, "_rng") or not incremental:
            self._check_params()
        self._rng = getattr(self, "_rng", rng) if incremental else rng
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y)
        else:
            self._fit_stochastic(X, y, incremental)
        self._sync_attributes()
        return self

    def _fit_lbfgs(self, X, y):
        Xt, yt = _t(X), self._target(y)
        opt = self._optimizer

        def closure():
            opt.zero_grad()
            loss = self._objective(Xt, yt)
            loss.backward()
            return loss

        loss = opt.step(closure)
        state = opt.state[next(iter(self._model.parameters()))]
        self.n_iter_ = int(state.get("n_iter", 1))
        self.loss_ = float(loss)
        self.loss_curve_.append(self.loss_)
        self.best_loss_ = min(self.best_loss_, self.loss_)
        if self.n_iter_ >= self.max_iter:
            warnings.warn(f"{type(self).__name__}: lbfgs reached max_iter={self.max_iter} "
                          "before converging; increase max_iter", ConvergenceWarning,
                          stacklevel=3)

    def _fit_stochastic(self, X, y, incremental):
        rng = self._rng
        early = self.early_stopping and not incremental
        X_val = y_val = None
        if early:
            stratify = y if isinstance(self, ClassifierMixin) else None
            X, X_val, y, y_val = train_test_split(
                X, y, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            best_state = None
        n = X.shape[0]
        bs = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        Xt, yt = _t(X), self._target(y)
        epochs = 1 if incremental else self.max_iter
        for _ in range(epochs):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, bs):
                idx = order[start:start + bs]
                self._optimizer.zero_grad()
                loss = self._objective(Xt[idx], yt[idx])
                loss.backward()
                self._optimizer.step()
                total += float(loss) * len(idx)
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = total / n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if early:
                score = self._val_score(X_val, y_val)
                self.validation_scores_.append(score)
                improved = score > self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_state = [p._data.copy() for p in self._model.parameters()]
            else:
                improved = self.loss_ < self.best_loss_ - self.tol
                self.best_loss_ = min(self.best_loss_, self.loss_)
            self._no_improvement = 0 if improved else self._no_improvement + 1
            if incremental:
                break
            if self._no_improvement > self.n_iter_no_change:
                break
        else:
            if not incremental:
                warnings.warn(f"{type(self).__name__}: stochastic optimizer reached max_iter="
                              f"{self.max_iter} and the optimization hasn't converged yet",
                              ConvergenceWarning, stacklevel=3)
        if early:
            self.best_loss_ = None
            with no_grad():
                for p, a in zip(self._model.parameters(), best_state):
                    p._data[...] = a

    def partial_fit(self, X, y, **kwargs):
        """One epoch of the stochastic solver on (X, y); initializes on the first call."""
        if self.solver == "lbfgs":
            raise AttributeError(f"partial_fit is only available for stochastic optimizers; "
                                 f"{self.solver!r} is not stochastic")
        return self._partial_fit(X, y, **kwargs)


