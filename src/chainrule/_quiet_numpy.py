"""NumPy's floating-point warnings inside chainrule's own code are not shown.

``cr.log(cr.tensor(0.))`` is ``-inf`` as in PyTorch, but NumPy also prints "RuntimeWarning:
divide by zero encountered in log" pointing into ``chainrule/ops/unary.py``: noise PyTorch
never makes, about a line the user did not write. One warnings filter (installed at
import) ignores RuntimeWarnings with NumPy's floating-point wording ("divide by zero",
"invalid value", "overflow", "underflow" ... "encountered in") raised from chainrule's
modules, including the code of compiled replays. NumPy code outside chainrule warns as
usual, and chainrule's own RuntimeWarnings (gradient diagnostics, KL registry, graph
rendering) have other messages and are shown.
"""

from __future__ import annotations

import warnings

MESSAGE = r"(divide by zero|invalid value|overflow|underflow) encountered in "
MODULE = r"chainrule(\.|$)"

warnings.filterwarnings("ignore", message=MESSAGE, category=RuntimeWarning, module=MODULE)
