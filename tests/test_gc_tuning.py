"""chainrule._gc: the collector's first-generation threshold is raised at import (CPython's
default only), so building a graph of thousands of tiny operations does not trigger
collections that traverse it; opt out with CHAINRULE_GC=default."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = """
import gc, sys
if len(sys.argv) > 1:
    gc.set_threshold(int(sys.argv[1]), 10, 10)
import chainrule as cr, chainrule._gc as G
print(gc.get_threshold()[0], G.tuned)
x = cr.ones(1, 6, requires_grad=True)
counts = []
gc.callbacks.append(lambda phase, info: counts.append(1) if phase == "start" else None)
gc.collect()
counts.clear()
y = x
for _ in range(200):  # a graph of 1,000 nodes (~7,000 tracked objects): ~10 collections at 700
    y = (y * 1.0001).exp().view(1, 6)[0].view(1, -1)
y.sum().backward()
print(len(counts))
"""


def _run(*args, **env):
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True,
                         text=True, env={**os.environ, **env}, check=True, timeout=60)
    first, tuned, collections = out.stdout.split()
    return int(first), tuned == "True", int(collections)


def test_threshold_raised_at_import_and_no_collection_while_a_graph_grows():
    first, tuned, collections = _run(CHAINRULE_GC="")
    assert (first, tuned) == (10_000, True)
    assert collections == 0
    # the interpreter's default collects several times during the same graph
    first, tuned, collections = _run(CHAINRULE_GC="default")
    assert (first, tuned) == (700, False) and collections >= 3


def test_a_programs_own_threshold_is_kept():
    first, tuned, _ = _run("1234", CHAINRULE_GC="")
    assert (first, tuned) == (1234, False)
