"""chainrule._malloc: freed array memory stays in the process, so a training step does not
pay a page fault per 4 KB page for its temporaries at every step (glibc only)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import chainrule._malloc as M

_STEPS = """
import resource, numpy as np, chainrule as cr, chainrule._malloc as M
nn = cr.nn
cr.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(1568, 10))
opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = cr.randn(64, 1, 28, 28), cr.randint(0, 10, (64,))
def step():
    opt.zero_grad(); cr.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
for _ in range(3):
    step()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(M.tuned, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 10)
"""

glibc = pytest.mark.skipif(not (sys.platform.startswith("linux")
                                and os.confstr("CS_GNU_LIBC_VERSION")), reason="glibc only")


def _faults_per_step(**env):
    out = subprocess.run([sys.executable, "-c", _STEPS], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True, timeout=120).stdout.split()
    return out[0] == "True", float(out[1])


@glibc
def test_training_steps_reuse_their_memory():
    tuned, faults = _faults_per_step()
    assert tuned
    # W3-sized step: 14 MB of temporaries, ~3,600 faults per step with glibc's defaults
    assert faults < 400, faults


@glibc
def test_default_settings_on_request():
    tuned, faults = _faults_per_step(CHAINRULE_MALLOC="default")
    assert not tuned
    assert faults > 1000, faults  # what the tuning saves: this test shows it is needed


def test_tune_is_idempotent():
    assert M.tune() is M.tuned
    assert M.tune() is M.tuned
