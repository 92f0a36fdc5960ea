"""The CLI's default recipe against simple baselines on real small tables (offline).

For scikit-learn's bundled datasets (diabetes, breast_cancer, wine, iris) and the shipped
Heart table, with the same split as ``chainrule train`` (60/20/20, seeds 0..S-1):

* ``chainrule``: the default recipe (model search, one-standard-error rule);
* ``linear``: chainrule's linear candidate alone (``--hidden 0``);
* ``mlp 64-64``: the previous default (``--hidden 64,64 --dropout 0.2 --weight-decay 1e-2
  --lr 1e-3``);
* ``sklearn``: ``Ridge()`` (regression) or ``LogisticRegression(max_iter=5000)``
  (classification) fitted on train + validation rows, standardized like chainrule's.

Prints test RMSE (regression) or accuracy and log-loss (classification), mean over seeds.
Run it under the machine's heavy-work lock::

    flock /tmp/chainrule-heavy.lock python benchmarks/baselines.py --seeds 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import tempfile
import time

import numpy as np


def _tables(tmp):
    from sklearn import datasets

    out = {}
    for name in ("diabetes", "breast_cancer", "wine", "iris"):
        d = getattr(datasets, f"load_{name}")()
        X, y = d.data, d.target
        cols = [f"x{i}" for i in range(X.shape[1])]
        path = os.path.join(tmp, f"{name}.csv")
        with open(path, "w") as f:
            f.write(",".join(cols + ["target"]) + "\n")
            for row, t in zip(X, y):
                label = f"{t:g}" if name == "diabetes" else f"c{int(t)}"
                f.write(",".join(f"{v:.6g}" for v in row) + f",{label}\n")
        out[name] = (path, "target")
    out["heart"] = ("heart", "AHD")
    return out


def _chainrule(path, target, seed, tmp, **options):
    from chainrule.train.run import train_csv

    with contextlib.redirect_stdout(io.StringIO()):
        res = train_csv(path, target, out=os.path.join(tmp, "run"), verbose=0, seed=seed,
                        **options)
    return res


def _score(task, metrics):
    if task == "regression":
        return {"rmse": math.sqrt(metrics["mse"])}
    return {"accuracy": metrics["accuracy"], "logloss": metrics["loss"]}


def _sklearn(ds, task):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import log_loss

    X = np.concatenate([ds.X_train.numpy(), ds.X_val.numpy()])
    y = np.concatenate([ds.y_train.numpy(), ds.y_val.numpy()]).reshape(len(X), -1)
    Xt, yt = ds.X_test.numpy(), ds.y_test.numpy().reshape(ds.X_test.shape[0], -1)
    if task == "regression":
        m = Ridge().fit(X, y[:, 0])
        return {"rmse": float(np.sqrt(np.mean((m.predict(Xt) - yt[:, 0]) ** 2)))}
    m = LogisticRegression(max_iter=5000).fit(X, y[:, 0])
    p = m.predict_proba(Xt)
    return {"accuracy": float((m.predict(Xt) == yt[:, 0]).mean()),
            "logloss": float(log_loss(yt[:, 0], p, labels=m.classes_))}


RECIPES = {
    "chainrule": {},
    "linear": {"hidden": ()},
    "mlp 64-64": {"hidden": (64, 64), "dropout": 0.2, "weight_decay": 1e-2, "lr": 1e-3},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", default=None, help="one dataset name")
    a = ap.parse_args(argv)
    import chainrule as cr

    cr.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, target) in _tables(tmp).items():
            if a.only and name != a.only:
                continue
            acc: dict = {}
            seconds = []
            for seed in range(a.seeds):
                for recipe, opts in RECIPES.items():
                    t0 = time.perf_counter()
                    res = _chainrule(path, target, seed, tmp, **opts)
                    if recipe == "chainrule":
                        seconds.append(time.perf_counter() - t0)
                        kept = res["candidates"][res["chosen"]].label.split(" (")[0]
                        acc.setdefault("kept", []).append(kept)
                    task = res["head"].task
                    for k, v in _score(task, res["metrics"]["test"]).items():
                        acc.setdefault((recipe, k), []).append(v)
                for k, v in _sklearn(res["data"], task).items():
                    acc.setdefault(("sklearn", k), []).append(v)
            rows.append((name, task, acc, float(np.mean(seconds))))
            _print_row(rows[-1])
    return 0


def _print_row(row):
    name, task, acc, seconds = row
    keys = ["rmse"] if task == "regression" else ["accuracy", "logloss"]
    for k in keys:
        parts = [f"{r} {np.mean(acc[(r, k)]):.4f}" for r in list(RECIPES) + ["sklearn"]]
        print(f"{name:14s} {k:8s} " + " | ".join(parts))
    kept = {m: acc["kept"].count(m) for m in dict.fromkeys(acc["kept"])}
    print(f"{name:14s} kept     {kept}; chainrule {seconds:.1f} s per run")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
