"""1 vs 2 BLAS threads for the model sizes ``chainrule train`` and ``fit`` typically use,
on a quiet machine and with the other core busy (a busy-loop process).

Each case times ``fit`` steps (Adam, MSE) of an MLP at a batch size, in this process, with
``threadpoolctl`` limiting NumPy's BLAS to 1 or 2 threads; the two settings alternate and
the median of ``--rounds`` timings is reported, as milliseconds per step. Run it alone:

    flock /tmp/chainrule-heavy.lock python benchmarks/threads.py

The busy-loop process is started for the "loaded" rows and ended (by its pid) after them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

#: (name, inputs, hidden, batch, rows per timing)
CASES = [
    ("Heart MLP 18-64-64-1, batch 32", 18, (64, 64), 32, 3200),
    ("linear 18-1, batch 32", 18, (), 32, 3200),
    ("50k-table MLP 10-128-128-1, batch 256", 10, (128, 128), 256, 25600),
    ("50k-table MLP 10-64-64-1, batch 256", 10, (64, 64), 256, 25600),
    ("MLP 784-256-256-10, batch 128", 784, (256, 256), 128, 6400),
    ("MLP 256-512-512-1, batch 512", 256, (512, 512), 512, 10240),
]


def flops_per_step(n_in, hidden, batch, n_out=1) -> float:
    """Multiply-adds of forward + backward (~3x forward) GEMMs, times 2 for FLOPs."""
    sizes = [n_in, *hidden, n_out]
    return 6.0 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _time(n_in, hidden, batch, rows, threads) -> float:
    from threadpoolctl import threadpool_limits

    import chainrule as cr
    from chainrule import nn
    from chainrule.train import fit

    g = np.random.default_rng(0)
    X = cr.tensor(g.normal(size=(rows, n_in)).astype(np.float32))
    n_out = 10 if n_in == 784 else 1
    y = cr.tensor(g.normal(size=(rows, n_out)).astype(np.float32))
    layers, n = [], n_in
    for h in hidden:
        layers += [nn.Linear(n, h), nn.ReLU()]
        n = h
    cr.manual_seed(0)
    model = nn.Sequential(*layers, nn.Linear(n, n_out))
    with threadpool_limits(limits=threads, user_api="blas"):
        t0 = time.perf_counter()
        fit(model, (X, y), loss=nn.MSELoss(), optimizer="adam", epochs=1, batch_size=batch,
            verbose=0, seed=0)
        return (time.perf_counter() - t0) / (rows / batch) * 1e3


def _measure(rounds):
    out = []
    for name, n_in, hidden, batch, rows in CASES:
        t = {1: [], 2: []}
        for _ in range(rounds):
            for threads in (1, 2):
                t[threads].append(_time(n_in, hidden, batch, rows, threads))
        out.append((name, flops_per_step(n_in, hidden, batch, 10 if n_in == 784 else 1),
                    float(np.median(t[1])), float(np.median(t[2]))))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; median of {a.rounds} rounds; ms per fit step")
    print("| case | MFLOP/step | machine | 1 thread | 2 threads | 2 / 1 |")
    print("|---|---|---|---|---|---|")
    quiet = _measure(a.rounds)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        loaded = _measure(a.rounds)
    finally:
        busy.kill()
        busy.wait()
    for label, rows in (("quiet", quiet), ("other core busy", loaded)):
        for name, flops, one, two in rows:
            print(f"| {name} | {flops / 1e6:.2f} | {label} | {one:.3f} | {two:.3f} | "
                  f"{two / one:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
