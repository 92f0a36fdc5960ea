"""fit(distributed=...) and `chainrule train --nproc/--stream` on real processes."""

import json
import subprocess
import sys

import numpy as np

from chainrule.train.run import load_run

from . import _mpi


def _result(path):
    with open(path) as f:
        return json.load(f)


def _fit(tmp_path, n, name, *args):
    if n == 0:  # this interpreter, no MPI
        proc = subprocess.run([sys.executable, str(_mpi.WORKERS / "fit.py"), str(tmp_path / name),
                               "single", *map(str, args)], capture_output=True, text=True,
                              env=_mpi.env(), timeout=60)
        _mpi.check(proc)
        return [_result(tmp_path / f"{name}.0")]
    _mpi.check(_mpi.run(n, "fit", tmp_path / name, *args))
    return [_result(tmp_path / f"{name}.{r}") for r in range(n)]


def test_fit_on_two_processes_equals_one_process(tmp_path):
    two = _fit(tmp_path, 2, "two")
    one = _fit(tmp_path, 0, "one")[0]
    assert two[0]["world"] == 2
    assert two[0]["weights"] == two[1]["weights"]  # replicas bitwise equal
    np.testing.assert_allclose(two[0]["weights"], one["weights"], rtol=0, atol=1e-10)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):  # reduced over the ranks
        np.testing.assert_allclose(two[0]["history"][key], one["history"][key], atol=1e-10)


def test_checkpoints_resume_with_another_number_of_processes(tmp_path):
    ck = tmp_path / "ck.safetensors"
    full = _fit(tmp_path, 0, "full", "--epochs", 4)[0]
    _fit(tmp_path, 2, "first", "--epochs", 2, "--checkpoint", ck)  # 2 processes ...
    resumed = _fit(tmp_path, 0, "rest", "--epochs", 4, "--resume", ck)[0]  # ... then 1
    np.testing.assert_allclose(resumed["weights"], full["weights"], rtol=0, atol=1e-10)


def _csv(path, n=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    colour = np.array(["red", "green", "blue"])[rng.integers(0, 3, n)]
    y = (X[:, 0] - X[:, 1] + (colour == "red") + 0.3 * rng.standard_normal(n) > 0.3)
    with open(path, "w") as f:
        f.write("a,b,c,d,e,colour,label\n")
        for row, c, t in zip(X, colour, y):
            f.write(",".join(f"{v:.5f}" for v in row) + f",{c},{'yes' if t else 'no'}\n")
    return path


def _train(tmp_path, out, *extra):
    cmd = [sys.executable, "-m", "chainrule.cli", "train", str(tmp_path / "d.csv"), "--target",
           "label", "--epochs", "8", "--batch-size", "64", "--seed", "0", "--out", str(tmp_path / out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_mpi.env(), timeout=120)
    _mpi.check(proc)
    with open(tmp_path / out / "metrics.json") as f:
        return proc, json.load(f)


def test_cli_nproc_two_matches_one_process_quality(tmp_path):
    _mpi.require_mpi()
    _csv(tmp_path / "d.csv")
    _, one = _train(tmp_path, "one")
    proc, two = _train(tmp_path, "two", "--nproc", "2")
    assert proc.stdout.count("trained in") == 1  # only rank 0 prints
    assert abs(two["test"]["accuracy"] - one["test"]["accuracy"]) < 0.03
    assert two["test"]["accuracy"] > 0.85
    assert load_run(tmp_path / "two").config["target"] == "label"  # a normal run directory


def test_cli_streams_a_file_over_the_budget_on_two_processes(tmp_path):
    _mpi.require_mpi()
    _csv(tmp_path / "d.csv")
    proc, metrics = _train(tmp_path, "s", "--memory-budget", "0.1", "--nproc", "2")
    assert "streaming it from disk" in proc.stdout
    with open(tmp_path / "s" / "config.json") as f:
        config = json.load(f)
    assert config["training"]["stream"] and config["training"]["processes"] == 2
    assert config["data"]["stream"]["schema"][0] == ["a", "string"]
    assert config["preprocessing"]["categories"] == {"colour": ["blue", "green", "red"]}
    assert metrics["test"]["accuracy"] > 0.85
    run = load_run(tmp_path / "s")  # evaluate/predict read it back as any run directory
    assert run.preprocessor.categories == {"colour": ["blue", "green", "red"]}
