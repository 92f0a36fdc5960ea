"""chainrule's benchmark suite: reference workloads against PyTorch and hand-written NumPy.

Run ``python benchmarks/run.py`` (see ``run.py``); it writes ``BENCHMARKS.md``.
"""
