"""The benchmark workloads, one module each.

Each module defines ``NAME``, ``TITLE``, ``UNIT``, ``TARGET`` (the chainrule/PyTorch ratio
the issue asks for, or None), ``TARGET_COMPILED`` (``{item: (ratio, reference library)}``
for chainrule.compile), ``ITEMS`` (the measured rows) and three entry points that run in a
worker process and return a result dict ``{"items": {item: seconds}, ...}``:

* ``framework(lib, quick, compile=False)`` — the same code for ``lib = torch`` and
  ``lib = chainrule`` (the PyTorch-identical API: moving between them is changing the
  import); ``compile=True`` wraps the training step in ``lib.compile``;
* ``numpy(quick)`` — a hand-written NumPy version with manual backward (the no-framework
  limit), or ``None`` when the workload has no NumPy version;
* ``jax(quick)`` — the same network in JAX with the whole step under ``jax.jit``.
"""

from importlib import import_module

NAMES = ("ops", "mlp", "tiny-mlp", "cnn", "gru", "tiny-ops")


def load(name):
    """The workload module called ``name`` ("tiny-mlp" lives in ``tiny_mlp.py``)."""
    if name not in NAMES:
        raise ValueError(f"unknown workload {name!r}; expected one of {', '.join(NAMES)}")
    return import_module(f"benchmarks.workloads.{name.replace('-', '_')}")
