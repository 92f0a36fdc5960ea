"""NumPy's floating-point warnings from inside chainrule are not shown (PyTorch computes the
same inf/nan silently); NumPy code outside chainrule still warns, and chainrule's own
RuntimeWarnings are still shown."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import numpy as np
import chainrule as cr
x = cr.tensor([0.0, -1.0, 1000.0])
print(cr.log(x).tolist(), (1 / x).tolist(), cr.sqrt(x).tolist(), cr.exp(x).tolist())
f = cr.compile(lambda t: cr.log(t) * 2)
for _ in range(3):
    f(x)
np.log(np.array([0.0]))  # the user's own NumPy: warns as usual
"""


def test_no_numpy_warnings_from_chainrule_eager_or_compiled():
    out = subprocess.run([sys.executable, "-W", "default", "-c", PROGRAM], capture_output=True,
                         text=True, check=True, timeout=120)
    assert "[-inf, nan, 6.90775" in out.stdout
    lines = [ln for ln in out.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(lines) == 1 and lines[0].startswith("<string>"), out.stderr


def test_chainrule_own_runtime_warnings_still_shown():
    import warnings

    from chainrule._quiet_numpy import MESSAGE, MODULE

    def warn(message, module):
        warnings.warn_explicit(message, RuntimeWarning, module.replace(".", "/") + ".py", 1,
                               module=module)

    with warnings.catch_warnings(record=True) as got:
        # the filter chainrule installs at import (pytest puts its own in front of it; the
        # subprocess test above shows it installed in a plain program)
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=MESSAGE, category=RuntimeWarning,
                                module=MODULE)
        warn("vanishing gradient in layer 3", "chainrule.diagnostics.gradients")
        warn("divide by zero encountered in log", "chainrule.ops.unary")  # filtered
        warn("overflow encountered in exp", "mycode")  # not chainrule's: shown
    assert [str(w.message) for w in got] == ["vanishing gradient in layer 3",
                                             "overflow encountered in exp"]
