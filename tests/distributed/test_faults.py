"""Faults end the job, never hang it: a raising, a stuck and a killed rank."""

import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np

import chainrule as cr

from . import _mpi


def test_a_rank_that_raises_stops_every_rank_at_once():
    t0 = time.monotonic()
    proc = _mpi.run(2, "faults", "raise", timeout=30, CHAINRULE_DIST_TIMEOUT=60)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    assert "rank 1 of 2 failed (RuntimeError: simulated failure in the data pipeline)" \
        in proc.stderr
    assert "unreachable" not in proc.stdout
    assert elapsed < 15, f"took {elapsed:.1f} s: the other rank waited for its deadline"


def test_a_stuck_rank_is_named_when_the_deadline_passes():
    t0 = time.monotonic()
    proc = _mpi.run(2, "faults", "stuck", timeout=30, CHAINRULE_DIST_TIMEOUT=2)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    line = [ln for ln in proc.stderr.splitlines() if "timed out" in ln]
    assert line, proc.stderr
    assert "rank 0: all_reduce" in line[0] and "rank 1 did not answer" in line[0]
    assert elapsed < 12, f"took {elapsed:.1f} s with a 2 s deadline"


def _write_csv(path, n=4000):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(6)) + ",y\n")
        for row, label in zip(X, y):
            f.write(",".join(f"{v:.5f}" for v in row) + f",{label}\n")


def _ranks_of(mark):
    """pid -> rank of the processes started with CHAINRULE_TEST_MARK=mark."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        if env.get(b"CHAINRULE_TEST_MARK") == mark.encode() and b"PMI_RANK" in env:
            found[int(pid)] = int(env[b"PMI_RANK"])
    return found


def test_killing_a_rank_mid_epoch_stops_the_job_and_keeps_the_checkpoint(tmp_path):
    _mpi.require_mpi()
    data = tmp_path / "d.csv"
    _write_csv(data)
    run_dir = tmp_path / "run"
    found = lambda: sorted(run_dir.rglob("*checkpoint.safetensors"))  # noqa: E731
    mark = uuid.uuid4().hex
    cmd = [sys.executable, "-m", "chainrule.cli", "train", str(data), "--target", "y",
           "--nproc", "2", "--epochs", "500", "--patience", "0", "--batch-size", "16",
           "--out", str(run_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_mpi.env(CHAINRULE_TEST_MARK=mark, CHAINRULE_DIST_TIMEOUT=10))
    try:
        deadline = time.monotonic() + 40
        while not found() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert found(), "no checkpoint was written"
        ckpt = found()[0]
        time.sleep(0.3)  # into a later epoch
        victims = [pid for pid, rank in _ranks_of(mark).items() if rank == 1]
        assert victims, "rank 1 not found"
        t0 = time.monotonic()
        os.kill(victims[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    assert f"chainrule: rank 1 (pid {victims[0]}) was killed by signal 9" in err, err
    assert elapsed < 10
    state = cr.load(ckpt)  # the last good checkpoint is intact (written atomically)
    assert state["format"] == "chainrule.train.checkpoint" and state["epoch"] >= 1
    assert not _ranks_of(mark), "ranks left running"
