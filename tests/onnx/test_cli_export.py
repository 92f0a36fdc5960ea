"""``chainrule export RUN_DIR model.onnx``: the run's model in onnxruntime gives the
probabilities ``chainrule predict`` gives; the preprocessing is in the metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.cli import main

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from chainrule.train.run import train_csv

    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    rows = ["age,chol,sex,sick"]
    for _ in range(80):
        age, chol = rng.normal(50, 9), rng.normal(240, 40)
        sex = rng.choice(["m", "f"])
        sick = "yes" if age / 9 + chol / 40 + (sex == "m") + rng.normal() > 12.5 else "no"
        rows.append(f"{age:.0f},{chol:.0f},{sex},{sick}")
    csv = d / "t.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = d / "run"
    train_csv(str(csv), "sick", out=str(out), verbose=0, epochs=5, hidden=(8,))
    return out, csv


def test_export_run_matches_predict(run_dir, tmp_path, capsys):
    import csv

    from chainrule.train.run import load_run

    out, csv_path = run_dir
    path = tmp_path / "m.onnx"
    assert main(["export", str(out), str(path)]) == 0
    said = capsys.readouterr().out
    assert "wrote" in said and "'probabilities'" in said
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    pre = json.loads(meta["chainrule.preprocessing"])
    assert pre["features"] == ["age", "chol", "sex"] and meta["chainrule.task"] == "binary"
    assert json.loads(meta["chainrule.classes"]) == ["no", "yes"]
    run = load_run(out)
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    X = run.preprocessor.transform({c: [r[c] for r in rows] for c in ("age", "chol", "sex")})
    want = run.head.predict(run.model(X))["probabilities"]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits, probs = sess.run(None, {"features": X.numpy()})  # every row: a dynamic batch
    np.testing.assert_allclose(probs.reshape(-1), want, atol=1e-6)


def test_export_errors_are_one_line(run_dir, tmp_path, capsys):
    assert main(["export", str(tmp_path / "nowhere"), str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: model directory not found") and \
        err.count("\n") == 1
    out, _ = run_dir
    assert main(["export", str(out), str(tmp_path / "m.onnx"), "--opset", "11"]) == 2
    assert "opset_version 11" in capsys.readouterr().err
