"""Real signals sent to real ``chainrule`` subprocesses at known moments (the
``CHAINRULE_PAUSE_AT`` hook stops there until the signal arrives), beyond those of
tests/cli/test_interrupt.py: while importing (console script and ``-m``), as each command
starts, while ``predict`` renames its output into place, during ``demo``'s training, and
SIGTERM during ``train``. Always: no traceback, one line on stderr, exit 130 (143 for
SIGTERM), nothing half-written."""

from __future__ import annotations

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

SRC = str(Path(cr.__file__).resolve().parents[1])


def _terminal_sigint():
    """In the child: SIGINT as a terminal gives it. A shell that starts a job in the
    background (`make test &`, nohup) hands its children SIGINT ignored, and Python keeps
    it ignored, so a real Ctrl-C would not be what these tests send."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("signals")
    g = np.random.default_rng(0)
    X = g.normal(size=(200, 3))
    y = (X[:, 0] + 0.3 * g.normal(size=200) > 0).astype(int)
    rows = ["a,b,c,y"] + [f"{a:.3f},{b:.3f},{c:.3f},{t}" for (a, b, c), t in zip(X, y)]
    (d / "d.csv").write_text("\n".join(rows) + "\n")
    assert main(["train", str(d / "d.csv"), "--target", "y", "--out", str(d / "run"),
                 "--hidden", "0", "--epochs", "3", "--quiet"]) == 0
    script = d / "bin" / "chainrule"  # what pip writes for [project.scripts]
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom chainrule.cli import main\n"
                      "if __name__ == '__main__':\n    sys.exit(main())\n")
    script.chmod(0o755)
    return d


class Proc:
    """A subprocess paused at ``pause``; :meth:`signal` waits for the pause and signals."""

    def __init__(self, cmd, pause, cwd):
        env = {**os.environ, "PYTHONPATH": SRC, "CHAINRULE_PAUSE_AT": pause}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=cwd,
                                     preexec_fn=_terminal_sigint)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def signal(self, sig=signal.SIGINT, times=1):
        seen = []
        while not (seen and seen[-1].startswith("chainrule-test: paused at")):
            line = self.lines.get(timeout=120)
            assert line is not None, f"ended before pausing: {seen}"
            seen.append(line)
        for _ in range(times):
            self.proc.send_signal(sig)
        out = self.proc.stdout.read()
        self.proc.wait(timeout=60)
        while (line := self.lines.get(timeout=10)) is not None:
            seen.append(line)
        err = [s.rstrip("\n") for s in seen if s.strip() and not s.startswith("chainrule-test")]
        return self.proc.returncode, out, err


def _cli(*args):
    return [sys.executable, "-m", "chainrule.cli", *args]


def test_ctrl_c_while_importing(files):
    procs = [Proc([str(files / "bin" / "chainrule"), "info"], "import", files),
             Proc(_cli("info"), "import", files)]
    for p in procs:
        code, out, err = p.signal()
        assert code == 130 and out == "", err
        assert err == ["chainrule: interrupted"], err


COMMANDS = {
    "explain": ["explain", "x**2", "--at", "x=1"],
    "summary": ["summary", "run"],
    "evaluate": ["evaluate", "run", "d.csv"],
    "predict": ["predict", "run", "d.csv", "--out", "p.csv"],
    "demo": ["demo", "--out", "demo0", "--epochs", "1"],
    "info": ["info"],
}


def test_ctrl_c_as_each_command_starts(files):
    procs = {name: Proc(_cli(*args), f"command:{name}", files)
             for name, args in COMMANDS.items()}
    for name, p in procs.items():
        code, out, err = p.signal()
        assert code == 130 and err == ["chainrule: interrupted"], (name, err)
    assert not (files / "p.csv").exists()
    assert not (files / "demo0").exists()  # the demo's directory was empty: removed


def test_predict_interrupted_while_its_output_is_renamed_leaves_the_old_file(files):
    out = files / "preds.csv"
    out.write_text("old\n")
    p = Proc(_cli("predict", "run", "d.csv", "--out", str(out)), "atomic-write", files)
    code, _, err = p.signal()
    assert code == 130 and err == ["chainrule: interrupted"], err
    assert out.read_text() == "old\n"
    assert [f.name for f in files.iterdir() if f.name.startswith(".chainrule")] == []


def test_demo_interrupted_while_training_writes_the_model_so_far(files):
    p = Proc(_cli("demo", "--out", "demo2", "--epochs", "30", "--quiet"), "demo-batch:2:3",
             files)
    code, _, err = p.signal()
    assert code == 130, err
    assert len(err) == 1 and "interrupted after 2 of 30 epochs" in err[0], err
    d = files / "demo2"
    assert {"model.safetensors", "history.csv", "metrics.json", "loss_curve.png"} <= \
        {f.name for f in d.iterdir()}
    assert len((d / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs
    assert isinstance(cr.load(d / "model.safetensors"), dict)


def test_sigterm_during_train_behaves_like_ctrl_c(files):
    p = Proc(_cli("train", "d.csv", "--target", "y", "--out", "term", "--epochs", "5",
                  "--quiet"), "batch:0:1:1", files)
    code, _, err = p.signal(signal.SIGTERM)
    assert code == 143, err
    assert len(err) == 1 and "resume with: chainrule train --resume term" in err[0], err
    assert main(["summary", str(files / "term")]) == 0
    assert main(["train", "--resume", str(files / "term"), "--quiet"]) == 0
