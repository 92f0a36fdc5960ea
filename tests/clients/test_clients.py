"""Client-style programs: PyTorch programs (tests/clients/programs) run unchanged on chainrule
through ``chainrule.torch_compat`` and on PyTorch itself, each in its own process; their
printed results must agree.

Each program prints one JSON object on its last line. Programs start from the same weights
(set from NumPy's seeded generator), so their numbers are compared, not just their trends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROGRAMS = Path(__file__).parent / "programs"
# program -> relative tolerance of the comparison (float32 arithmetic in a different order)
TOLERANCE = {
    "accumulate_inplace": 1e-4,
    "hand_lstm": 1e-3,
    "custom_function": 1e-10,
    "save_whole_model": 1e-5,
    "cnn_classifier": 1e-3,
    "functional_transforms": 1e-4,
    "transformer_lm": 1e-3,
    "dataloader_workers": 1e-5,
}


def _run(program: Path, on_chainrule: bool) -> dict:
    cmd = [sys.executable] + (["-m", "chainrule.torch_compat"] if on_chainrule else [])
    proc = subprocess.run(cmd + [str(program)], capture_output=True, text=True, timeout=300,
                          cwd=program.parent)
    assert proc.returncode == 0, f"{program.name} on {'chainrule' if on_chainrule else 'torch'}" \
                                 f" failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(mine, theirs, rtol, where="result"):
    if isinstance(theirs, dict):
        assert set(mine) == set(theirs), where
        for k in theirs:
            _compare(mine[k], theirs[k], rtol, f"{where}.{k}")
    elif isinstance(theirs, bool) or isinstance(theirs, str):
        assert mine == theirs, where
    else:
        np.testing.assert_allclose(np.asarray(mine, float), np.asarray(theirs, float),
                                   rtol=rtol, atol=rtol, err_msg=where)


@pytest.mark.parametrize("name", sorted(TOLERANCE))
def test_program_matches_pytorch(name, torch):
    program = PROGRAMS / f"{name}.py"
    mine = _run(program, True)
    theirs = _run(program, False)
    _compare(mine, theirs, TOLERANCE[name])


def test_every_program_is_compared():
    found = {p.stem for p in PROGRAMS.glob("*.py") if not p.stem.startswith("_")}
    assert found == set(TOLERANCE)
