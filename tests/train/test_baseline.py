"""The CLI's default recipe is as good as a simple baseline on a real small table:
diabetes (442 rows, scikit-learn's bundled copy, offline) test RMSE within 5% of ridge
regression fitted on the same standardized rows (the previous default MLP reached ~66
against ridge's ~56). The full comparison is benchmarks/baselines.py."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.train.run import train_csv


def test_diabetes_default_recipe_matches_ridge(tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import Ridge

    d = datasets.load_diabetes()
    rows = [",".join(f"{v:.6g}" for v in r) + f",{t:g}" for r, t in zip(d.data, d.target)]
    path = tmp_path / "diabetes.csv"
    path.write_text(",".join(d.feature_names + ["y"]) + "\n" + "\n".join(rows) + "\n")
    res = train_csv(path, "y", out=tmp_path / "run", verbose=0)
    ds = res["data"]
    assert res["head"].task == "regression"  # integers 25..346 are not counts
    rmse = np.sqrt(res["metrics"]["test"]["mse"])
    X = np.concatenate([ds.X_train.numpy(), ds.X_val.numpy()])
    y = np.concatenate([ds.y_train.numpy(), ds.y_val.numpy()]).reshape(-1)
    pred = Ridge().fit(X, y).predict(ds.X_test.numpy())
    ridge = np.sqrt(np.mean((pred - ds.y_test.numpy().reshape(-1)) ** 2))
    assert rmse <= 1.05 * ridge, (rmse, ridge)
    linear = res["results"][0]["val_loss"]
    kept = res["results"][res["chosen"]]["val_loss"]
    assert kept <= linear + res["results"][0]["val_se"]  # never clearly worse than linear
