"""predict and evaluate on real files: a CSV written with the csv module (no ragged rows),
formula injection neutralised, unscorable rows left empty with a reason (never a class with
NaN probabilities), evaluate excluding them and saying how many, --id-column passed
through, --unknown, --strict, and a closed pipe (| head) ending quietly with code 141."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.train.scoring import safe_cell

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["Smith, John", '=HYPERLINK("http://evil.example","x")', "plain"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 3-class run whose labels hold a comma and a formula, with an id column; and a
    regression run with negative predictions."""
    d = tmp_path_factory.mktemp("predict")
    g = np.random.default_rng(1)
    X = g.normal(size=(150, 2))
    k = np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.4, 0.4])
    rows = [["id", "a", "b", "color", "label"]]
    for i, ((a, b), c) in enumerate(zip(X, k)):
        rows.append([f"@id{i}", f"{a:.3f}", f"{b:.3f}", "red" if i % 2 else "blue", LABELS[c]])
    _write(d / "cls.csv", rows)
    rrows = [["a", "b", "y"]] + [[f"{a:.3f}", f"{b:.3f}", f"{3 * a - 2 * b - 1:.3f}"]
                                 for a, b in X]
    _write(d / "reg.csv", rrows)
    fixed = ["--hidden", "8", "--dropout", "0", "--weight-decay", "0", "--lr", "0.02",
             "--epochs", "30", "--quiet"]
    assert main(["train", str(d / "cls.csv"), "--target", "label", "--id-column", "id",
                 "--out", str(d / "cls")] + fixed) == 0
    assert main(["train", str(d / "reg.csv"), "--target", "y", "--out", str(d / "reg")]
                + fixed) == 0
    new = [["id", "a", "b", "color"], ["=cmd|' /C calc'!A0", "0.5", "0.1", "red"],
           ["r2", "inf", "0.1", "red"], ["r3", "0.1", "", "blue"],
           ["r4", "0.2", "0.3", "green"], ["r5", "-1.0", "0.2", "blue"]]
    _write(d / "new.csv", new)
    return d


def _write(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_safe_cell_rule():
    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("+SUM(A1)") == "'+SUM(A1)"
    assert safe_cell("-cmd") == "'-cmd" and safe_cell("@x") == "'@x"
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"
    for number in ("-1.5", "+2e-3", "-0", "-.5", "3"):
        assert safe_cell(number) == number
    assert safe_cell("plain, text") == "plain, text"


def test_predictions_are_proper_csv_and_neutralised(runs, capsys):
    out = runs / "p.csv"
    assert main(["predict", str(runs / "cls"), str(runs / "new.csv"), "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert "wrote 2 predictions" in msg and "3 of 5 rows cannot be scored" in msg
    rows = _read(out)
    header = rows[0]
    assert header[:3] == ["row", "id", "prediction"] and header[-1] == "reason"
    assert header[3:-1] == ["p_" + c for c in sorted(LABELS)]  # "p_=..." is no formula
    assert all(len(r) == len(header) for r in rows)  # no ragged rows
    body = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert body["1"]["id"] == "'=cmd|' /C calc'!A0"  # ids are neutralised too
    for r in body.values():
        assert r["prediction"] in {safe_cell(c) for c in LABELS} or r["prediction"] == ""
        assert not r["prediction"].startswith("=")
    # unscorable rows: empty prediction and probabilities, a reason, never nan
    assert body["2"]["prediction"] == "" and "non-finite value inf in 'a'" in body["2"]["reason"]
    assert body["3"]["prediction"] == "" and "missing value in 'b'" in body["3"]["reason"]
    assert body["4"]["prediction"] == "" and "unknown category 'green'" in body["4"]["reason"]
    assert "nan" not in out.read_text().lower().replace("non-finite", "")
    assert body["5"]["prediction"] != "" and body["5"]["reason"] == ""


def test_label_with_comma_and_formula_round_trip(runs, capsys):
    train = runs / "cls.csv"
    assert main(["predict", str(runs / "cls"), str(train), "--out", str(runs / "t.csv")]) == 0
    capsys.readouterr()
    rows = _read(runs / "t.csv")
    preds = {r[2] for r in rows[1:]}
    assert "Smith, John" in preds and "'" + LABELS[1] in preds
    assert all(len(r) == len(rows[0]) for r in rows)
    assert rows[1][1] == "'@id0"


def test_unknown_ignore_and_strict(runs, capsys):
    out = runs / "p2.csv"
    assert main(["predict", str(runs / "cls"), str(runs / "new.csv"), "--out", str(out),
                 "--unknown", "ignore"]) == 0
    capsys.readouterr()
    body = {r[0]: r for r in _read(out)[1:]}
    assert body["4"][2] != "" and body["4"][-1] == ""  # scored with all-zero one-hot
    assert main(["predict", str(runs / "cls"), str(runs / "new.csv"), "--out", str(out),
                 "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inf" in err[0] and "'a'" in err[0] and "row 2" in err[0]


def test_regression_numbers_stay_numbers_and_stdout(runs, capsys):
    assert main(["predict", str(runs / "reg"), str(runs / "reg.csv")]) == 0
    cap = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(cap.out)))
    assert rows[0] == ["row", "prediction", "reason"] and len(rows) == 151
    values = [float(r[1]) for r in rows[1:]]
    assert min(values) < 0  # negative numbers are written as numbers, not '-1.2
    assert "wrote 150 predictions to standard output" in cap.err


def test_evaluate_excludes_unscorable_rows_and_says_how_many(runs, capsys):
    rows = _read(runs / "cls.csv")
    rows[3][1] = "inf"
    rows[5][2] = ""
    rows[7][4] = "a label never seen"
    _write(runs / "bad.csv", rows)
    assert main(["evaluate", str(runs / "cls"), str(runs / "bad.csv")]) == 0
    out = capsys.readouterr().out
    assert "3 of 150 rows cannot be scored" in out and "left out of the metrics" in out
    assert "accuracy" in out
    assert main(["evaluate", str(runs / "cls"), str(runs / "bad.csv"), "--strict"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _closed_pipe(args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # like `| head` that has already exited
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_closed_pipe_exits_quietly_with_141(runs, command):
    code, err = _closed_pipe([command, str(runs / "cls"), str(runs / "cls.csv")])
    assert code == 141 and err == "", err
