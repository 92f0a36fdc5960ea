"""torch.fft, torch.hub, torch.quasirandom, torch.nested and torch.masked: present, and every
name in them raises one error that says why and what to use (not an AttributeError on the
top-level module)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule as cr
from chainrule._absent_modules import WHY, UnavailableError


@pytest.mark.parametrize("short,name", [("fft", "rfft"), ("hub", "load"),
                                         ("quasirandom", "SobolEngine"),
                                         ("nested", "nested_tensor"),
                                         ("masked", "masked_tensor")])
def test_every_name_raises_the_reason(short, name):
    mod = getattr(cr, short)
    with pytest.raises(NotImplementedError, match=f"torch.{short}.{name} is not available"):
        getattr(mod, name)
    with pytest.raises(UnavailableError) as e:
        getattr(mod, name)
    assert WHY[short] in str(e.value)
    assert not hasattr(mod, name)  # feature probes see it missing
    assert sys.modules[f"chainrule.{short}"] is mod


def test_under_the_torch_shim(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("import torch.fft\nimport torch\ntry:\n    torch.fft.rfft(torch.ones(4))\n"
                    "except NotImplementedError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(prog)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.startswith("refused: torch.fft.rfft is not available in chainrule")
