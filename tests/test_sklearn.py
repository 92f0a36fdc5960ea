"""chainrule.sklearn: scikit-learn's estimator checks, and the maths of one training step."""

import copy
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


# max_iter=20 keeps the whole suite of checks at ~10 s (the defaults, max_iter=200, pass too,
# in ~55 s)
@parametrize_with_checks([MLPClassifier(max_iter=20), MLPRegressor(max_iter=20)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, n)
    return centers[y] + 0.5 * rng.standard_normal((n, 2)), y


def _forward_numpy(clf, X):
    h = np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0])
    return h, h @ clf.coefs_[1] + clf.intercepts_[1]


def test_one_sgd_step_matches_hand_written_gradient():
    X, y = _blobs(40)
    kw = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0,
              learning_rate_init=0.1, alpha=0.01, batch_size=40, shuffle=False, max_iter=1,
              warm_start=True, random_state=0)
    clf = MLPClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        W1, b1, W2, b2 = (a.copy() for a in (*clf.coefs_[:1], *clf.intercepts_[:1],
                                              clf.coefs_[1], clf.intercepts_[1]))
        clf.fit(X, y)  # warm start: one more full-batch step from (W1, b1, W2, b2)
    n = len(y)
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[y]) / n  # d mean CE / dz
    gW2 = h.T @ dz + 0.01 / n * W2
    dh = dz @ W2.T * (1 - h ** 2)
    gW1 = X.T @ dh + 0.01 / n * W1
    np.testing.assert_allclose(clf.coefs_[0], W1 - 0.1 * gW1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.coefs_[1], W2 - 0.1 * gW2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.intercepts_[1], b2 - 0.1 * dz.sum(0), rtol=1e-10, atol=1e-12)
    # the loss recorded for the second epoch is the loss at (W1, W2) plus the L2 penalty
    loss = -np.mean(np.log(p[np.arange(n), y])) + 0.005 / n * ((W1 ** 2).sum() + (W2 ** 2).sum())
    assert clf.loss_curve_[-1] == pytest.approx(loss, rel=1e-10)


def test_classifier_learns_and_probabilities_are_the_network_softmax():
    X, y = _blobs(90)
    clf = MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", max_iter=300,
                        learning_rate_init=0.01, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    _, z = _forward_numpy(clf, X)
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), p / p.sum(1, keepdims=True), rtol=1e-10)
    labels = np.array(["a", "b", "c"])
    clf2 = clone(clf).fit(X, labels[y])
    assert set(clf2.predict(X)) <= set(labels) and list(clf2.classes_) == ["a", "b", "c"]


def test_regressor_solvers_fit_a_smooth_function():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (100, 1))
    y = np.sin(X[:, 0])
    for solver, kw in (("lbfgs", {}), ("adam", {"learning_rate_init": 0.01,
                                                 "n_iter_no_change": 1000})):
        reg = MLPRegressor(hidden_layer_sizes=(20,), activation="tanh", solver=solver,
                           max_iter=500, random_state=0, tol=1e-7, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, y)
        assert reg.score(X, y) > 0.98, solver
        assert reg.predict(X).shape == (100,)
    Y = np.c_[y, -y]
    multi = MLPRegressor(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
                         max_iter=300, random_state=0).fit(X, Y)
    assert multi.predict(X).shape == (100, 2) and multi.score(X, Y) > 0.95


@pytest.mark.parametrize("solver, extra", [
    ("sgd", {"momentum": 0.9, "nesterovs_momentum": False}),
    ("sgd", {"momentum": 0.0}),
    ("adam", {}),
])
@pytest.mark.parametrize("Ours, task", [(MLPClassifier, "clf"), (MLPRegressor, "reg")])
def test_same_loss_curve_as_scikit_learn(Ours, task, solver, extra):
    from sklearn import neural_network

    X, y = _blobs(80, seed=3)
    if task == "reg":
        y = np.sin(X[:, 0]) + X[:, 1]
    kw = dict(hidden_layer_sizes=(7, 5), activation="tanh", solver=solver, alpha=0.01,
              batch_size=20, shuffle=False, max_iter=15, random_state=2,
              learning_rate_init=0.05, **extra)
    theirs = getattr(neural_network, Ours.__name__)(**kw)
    ours = Ours(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
    # same init draws, same batches, same update rules; Adam differs only in where epsilon
    # enters (PyTorch: m_hat / (sqrt(v_hat) + eps); scikit-learn: eps added to sqrt(v))
    rtol = 1e-9 if solver == "sgd" else 1e-4
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=rtol * 100, atol=1e-8)


def test_warm_start_keeps_optimizer_state():
    X, y = _blobs(50)
    kw = dict(hidden_layer_sizes=(8,), batch_size=50, shuffle=False, random_state=0,
              learning_rate_init=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = MLPClassifier(max_iter=4, **kw).fit(X, y)
        warm = MLPClassifier(max_iter=2, warm_start=True, **kw).fit(X, y)
        warm.fit(X, y)
        cold = MLPClassifier(max_iter=2, warm_start=False, **kw).fit(X, y)
        cold.fit(X, y)
    for a, b in zip(once.coefs_, warm.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)  # Adam's moments and step carried on
    assert warm.n_iter_ == 4 and cold.n_iter_ == 2
    assert not np.allclose(once.coefs_[0], cold.coefs_[0])


def test_partial_fit():
    X, y = _blobs(60)
    clf = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    first = clf.loss_curve_[0]
    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.loss_curve_[-1] < 0.5 * first and clf.n_iter_ == 31
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(AttributeError, match="stochastic"):
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])


def test_early_stopping_restores_best_validation_weights():
    X, y = _blobs(120)
    clf = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=100,
                        random_state=0, learning_rate_init=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None


def test_copy_keeps_weights_and_optimizer_state():
    X, y = _blobs(40)
    kw = dict(hidden_layer_sizes=(6,), batch_size=40, shuffle=False, random_state=0,
              max_iter=2, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X, y)
        b = copy.deepcopy(a)
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
        a.fit(X, y)
        b.fit(X, y)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)


@pytest.mark.parametrize("param, value", [
    ("hidden_layer_sizes", (10, 0)), ("activation", "softplus"), ("solver", "newton"),
    ("alpha", -1.0), ("learning_rate_init", 0.0), ("max_iter", 0), ("batch_size", 0),
    ("validation_fraction", 1.0),
])
def test_bad_hyper_parameters_are_named(param, value):
    X, y = _blobs(20)
    with pytest.raises(ValueError, match=param):
        MLPClassifier(**{param: value}).fit(X, y)


def test_fit_does_not_move_chainrule_global_random_stream():
    import chainrule as cr

    X, y = _blobs(20)
    cr.manual_seed(5)
    expected = cr.randn(3).numpy()
    cr.manual_seed(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(cr.randn(3).numpy(), expected)
