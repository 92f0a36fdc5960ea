"""scikit-learn estimators on chainrule: ``MLPClassifier`` and ``MLPRegressor``.

Same hyper-parameters, defaults and fitted attributes as ``sklearn.neural_network``'s MLPs
(``hidden_layer_sizes``, ``activation``, ``solver``, ``alpha``, ``batch_size``,
``learning_rate_init``, ``max_iter``, ``tol``, ``n_iter_no_change``, ``early_stopping``, ...;
``coefs_``, ``intercepts_``, ``loss_curve_``, ``n_iter_``, ``classes_``), trained with
``chainrule.nn`` and ``chainrule.optim`` in float64. Needs the ``sklearn`` extra
(``pip install chainrule[sklearn]``).

Example::

    from chainrule.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y)
    clf.predict_proba(X[:3]), clf.score(X, y)
"""

from ._estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
