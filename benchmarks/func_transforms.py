"""Jacobians and Hessians of a small MLP through the function transforms, chainrule vs
PyTorch (``python benchmarks/func_transforms.py [--lib chainrule|torch] [--repeat N]``).

Workloads (float32, 1 thread):
  per-example Jacobian  vmap(jacrev(f))(X), f: R^16 -> R^8 (16-64-64-8 tanh MLP), X (64, 16)
  Hessian               jacfwd(jacrev(g))(x), g = sum of squares of f(x), x in R^16
  per-example grads     vmap(grad(loss), in_dims=(None, 0, 0))(params, X, Y)

Without ``--lib`` each library runs in its own process (NumPy's and PyTorch's thread pools
slow each other down in one process), alternating, and the median ratio is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = (16, 64, 64, 8)
BATCH = 64


def _params(lib):
    rng = np.random.default_rng(0)
    ps = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        ps.append(lib.tensor((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32)))
        ps.append(lib.tensor(np.zeros(o, np.float32)))
    return ps


def workloads(lib, F):
    ps = _params(lib)
    rng = np.random.default_rng(1)
    X = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    Y = lib.tensor(rng.standard_normal((BATCH, SIZES[-1])).astype(np.float32))

    def mlp(params, x):
        h = x
        for k in range(0, len(params), 2):
            h = h @ params[k].T + params[k + 1]
            if k + 2 < len(params):
                h = h.tanh()
        return h

    def f(x):
        return mlp(ps, x)

    def g(x):
        return (f(x) ** 2).sum()

    def loss(params, x, y):
        return ((mlp(params, x) - y) ** 2).mean()

    return {
        "vmap(jacrev(f))": lambda: F.vmap(F.jacrev(f))(X),
        "jacfwd(jacrev(g))": lambda: F.jacfwd(F.jacrev(g))(X[0]),
        "vmap(grad(loss))": lambda: F.vmap(F.grad(loss), in_dims=(None, 0, 0))(ps, X, Y),
    }


def measure(libname, repeat):
    if libname == "torch":
        import torch
        import torch.func as F

        torch.set_num_threads(1)
        lib = torch
    else:
        import chainrule as lib
        import chainrule.func as F
    out = {}
    for name, fn in workloads(lib, F).items():
        fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=("chainrule", "torch"))
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if a.lib:
        for k, v in measure(a.lib, a.repeat).items():
            print(f"{k}\t{v}")
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    ratios, last = {}, {}
    for r in range(a.rounds):
        res = {}
        for lib in (("chainrule", "torch") if r % 2 == 0 else ("torch", "chainrule")):
            txt = subprocess.run([sys.executable, __file__, "--lib", lib, "--repeat",
                                  str(a.repeat)], capture_output=True, text=True, env=env,
                                 check=True).stdout
            res[lib] = {ln.split("\t")[0]: float(ln.split("\t")[1]) for ln in txt.splitlines()}
        for k in res["torch"]:
            ratios.setdefault(k, []).append(res["chainrule"][k] / res["torch"][k])
        last = res
    print(f"{'workload':22s} {'chainrule ms':>13s} {'torch ms':>9s} {'ratio (median)':>15s}")
    for k, rs in ratios.items():
        print(f"{k:22s} {last['chainrule'][k] * 1e3:13.3f} {last['torch'][k] * 1e3:9.3f} "
              f"{statistics.median(rs):15.2f}")


if __name__ == "__main__":
    main()
