"""Real SIGINTs sent to a real ``chainrule train`` subprocess at known moments (the
``CHAINRULE_PAUSE_AT`` hook pauses there until the signal arrives): one line on stderr,
exit code 130, a run directory that evaluate/predict/summary accept, and
``train --resume`` reaching the uninterrupted run's weights byte for byte."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--target", "y", "--epochs", "5", "--patience", "2", "--seed", "0", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("interrupt")
    g = np.random.default_rng(3)
    X = g.normal(size=(120, 3))
    y = (X[:, 0] - X[:, 1] + 0.5 * g.normal(size=120) > 0).astype(int)
    lines = ["a,b,c,y"] + [f"{a:.3f},{b:.3f},{c:.3f},{t}" for (a, b, c), t in zip(X, y)]
    (d / "d.csv").write_text("\n".join(lines) + "\n")
    return d


@pytest.fixture(scope="module")
def reference(data):
    """The uninterrupted run (in-process; the same code as the subprocesses)."""
    out = data / "ref"
    assert main(["train", str(data / "d.csv"), "--out", str(out)] + ARGS) == 0
    return out


def _env(pause):
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "CHAINRULE_PAUSE_AT": pause,
            "PYTHONPATH": src + (os.pathsep + path if path else "")}


MOMENTS = {"load": ("load", 1), "first-batch": ("batch:0:0:0", 1),
           "mid-epoch": ("batch:1:2:1", 1), "after": ("after-train", 1),
           "metrics": ("metrics:test", 1), "report": ("report", 2),
           "twice": ("batch:0:1:1", 2)}


class _Run:
    """A ``chainrule train`` subprocess that pauses at ``pause`` (stderr read by a thread)."""

    def __init__(self, data, name, pause):
        self.out = data / name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chainrule.cli", "train", str(data / "d.csv"), "--out",
             str(self.out)] + ARGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_env(pause), cwd=data,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line)

    def interrupt(self, signals):
        """Wait for the pause, send ``signals`` SIGINTs; return (code, stderr lines but the
        pause marker)."""
        seen = []
        while not (seen and seen[-1].startswith("chainrule-test: paused at")):
            seen.append(self.lines.get(timeout=120))
        for _ in range(signals):
            self.proc.send_signal(signal.SIGINT)
        self.proc.stdout.read()
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        while not self.lines.empty():
            seen.append(self.lines.get())
        return self.proc.returncode, [s.rstrip("\n") for s in seen
                                      if not s.startswith("chainrule-test:")]


@pytest.fixture(scope="module")
def interrupted(data):
    """All moments at once (each process waits at its pause): name -> (code, stderr, dir)."""
    runs = {name: _Run(data, name, pause) for name, (pause, _) in MOMENTS.items()}
    return {name: (*run.interrupt(MOMENTS[name][1]), run.out) for name, run in runs.items()}


def _same_weights(a, b):
    """Every tensor of the two runs' model.safetensors has the same bytes (the files' JSON
    metadata order may differ between processes)."""
    wa, wb = cr.load(a / "model.safetensors"), cr.load(b / "model.safetensors")
    assert list(wa) == list(wb)
    for k in wa:
        assert wa[k].numpy().tobytes() == wb[k].numpy().tobytes(), k


def _usable(out, data, capsys):
    """evaluate, predict and summary accept the run directory."""
    assert main(["evaluate", str(out), str(data / "d.csv")]) == 0
    assert main(["predict", str(out), str(data / "d.csv"), "--out", str(out / "p.csv")]) == 0
    assert main(["summary", str(out)]) == 0
    capsys.readouterr()
    assert len((out / "p.csv").read_text().splitlines()) == 121


def _one_line(err, rc):
    assert rc == 130, err
    assert len(err) == 1 and err[0].startswith("chainrule: interrupted"), err
    assert not any("Traceback" in e for e in err)


def test_sigint_while_loading_writes_nothing(interrupted):
    rc, err, out = interrupted["load"]
    _one_line(err, rc)
    assert "nothing was written" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("name", ["first-batch", "mid-epoch"])
def test_sigint_during_training_then_resume_is_bit_for_bit(interrupted, data, reference,
                                                           capsys, name):
    rc, err, out = interrupted[name]
    _one_line(err, rc)
    assert f"chainrule train --resume {out}" in err[0]
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "interrupted" and not (out / "metrics.json").exists()
    assert (out / "report.md").exists() and (out / "history.csv").exists()
    if name == "first-batch":  # no epoch finished: an empty history, still a loss curve
        assert (out / "history.csv").read_text().strip() == "epoch"
    _usable(out, data, capsys)
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    capsys.readouterr()
    _same_weights(out, reference)
    assert json.loads((out / "metrics.json").read_text()) == \
        json.loads((reference / "metrics.json").read_text())


def test_sigint_after_training_keeps_the_model_and_resume_finishes(interrupted, data,
                                                                   reference, capsys):
    rc, err, out = interrupted["after"]
    _one_line(err, rc)
    assert json.loads((out / "config.json").read_text())["status"] == "complete"
    assert not (out / "metrics.json").exists()
    _same_weights(out, reference)
    _usable(out, data, capsys)
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert json.loads((out / "metrics.json").read_text()) == \
        json.loads((reference / "metrics.json").read_text())
    assert main(["train", "--resume", str(out)]) == 2  # complete: nothing to resume
    assert "nothing to resume" in capsys.readouterr().err


def test_sigint_during_final_metrics(interrupted, data, reference, capsys):
    rc, err, out = interrupted["metrics"]
    _one_line(err, rc)
    _same_weights(out, reference)
    assert "Not computed (interrupted)" in (out / "report.md").read_text()
    _usable(out, data, capsys)


def test_two_sigints_while_writing_the_report(interrupted, data, reference, capsys):
    rc, err, out = interrupted["report"]
    _one_line(err, rc)
    for f in ("model.safetensors", "config.json", "metrics.json", "history.csv",
              "report.md"):
        assert (out / f).exists(), f
    assert not list(out.glob(".chainrule-*.tmp"))
    _same_weights(out, reference)
    _usable(out, data, capsys)


def test_second_sigint_mid_batch_exits_cleanly_and_resumes(interrupted, data, reference,
                                                           capsys):
    rc, err, out = interrupted["twice"]
    _one_line(err, rc)
    assert f"--resume {out}" in err[0]
    _usable(out, data, capsys)
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    capsys.readouterr()
    _same_weights(out, reference)
