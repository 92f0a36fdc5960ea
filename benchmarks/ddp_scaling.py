"""Data-parallel scaling of W1 (MLP 784-256-256-10, Adam) on 1 and 2 processes, the
allreduce latency of N = 2, 4, 8 processes on this machine, and the ring-allreduce model.

    flock /tmp/chainrule-heavy.lock python benchmarks/ddp_scaling.py [--quick] [--json OUT]

Every process runs with one BLAS thread. Measured (rank 0 reports, medians of blocks):

* ``T_c(b)``: seconds per training step (forward, backward, Adam) of one process on ``b``
  rows, b = 32, 64, 128, 256, fitted as ``t0 + b * t_s`` (t0: the per-step overhead);
* W1 **weak scaling** (128 rows per process, global batch 128 N) and **strong scaling**
  (global batch 128, 128 / N rows per process) with ``DistributedDataParallel`` on N = 1, 2:
  steps per second, samples per second, speed-up ``S = throughput(N) / throughput(1)`` and
  parallel efficiency ``S / N``;
* the allreduce of W1's gradient (269,322 float32 = 1.08 MB) on 2 processes;
* ``MPI_Allreduce`` (ring algorithm forced, ``MPIR_CVAR_ALLREDUCE_INTRA_ALGORITHM=ring``) of
  8 bytes to 4 MB on 2 processes, fitted as ``n / B + 2 a`` (the model at N = 2);
* the **latency term**: allreduce of one float64 on N = 2, 4, 8 processes (shared cores),
  with MPICH's ring algorithm forced and with its default, through ``MPI_Allreduce`` and
  through ``chainrule.distributed.all_reduce`` (nonblocking + deadline polling).

The cost model (ring allreduce of n bytes on N nodes, latency a, bandwidth B)::

    T_comm(N) = 2 (N - 1) / N * n / B + 2 (N - 1) * a

is then evaluated with the measured compute and gradient size for N = 2..64 nodes at 10 and
100 Gbit/s (efficiency ``T_c / (T_c + T_comm)``: W1 has one bucket, so no overlap), and the
smallest global batch for which splitting it over N processes is faster than one process:
``B_min(N) = T_comm(N) / (t_s (1 - 1/N))``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAD_FLOATS = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
NETWORKS = {"10 Gbit/s": (10e9 / 8, 20e-6), "100 Gbit/s": (100e9 / 8, 5e-6)}  # B, a


# -- workers (run under mpiexec) ------------------------------------------------------------
def _model(cr):
    nn = cr.nn
    cr.manual_seed(1234)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def _timed(fn, steps, blocks, cpu=None):
    """Median over ``blocks`` of the mean wall seconds per call (``cpu``: a list that gets
    the median process CPU seconds per call, less sensitive to other jobs on the machine)."""
    import statistics

    fn()
    fn()
    wall, used = [], []
    for _ in range(blocks):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            fn()
        wall.append((time.perf_counter() - t0) / steps)
        used.append((time.process_time() - c0) / steps)
    if cpu is not None:
        cpu.append(statistics.median(used))
    return statistics.median(wall)


def worker_train(batch: int, ddp: bool, steps: int, blocks: int) -> dict:
    import numpy as np

    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    model = _model(cr)
    net = cr.nn.parallel.DistributedDataParallel(model) if ddp else model
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(dist.get_rank())
    X = cr.tensor(rng.standard_normal((batch, 784), dtype=np.float32))
    y = cr.tensor(rng.integers(0, 10, batch))
    loss_fn = cr.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(X), y).backward()
        opt.step()

    dist.barrier()
    cpu = []
    t = _timed(step, steps, blocks, cpu)
    times = [None] * dist.get_world_size()
    dist.all_gather_object(times, [t, cpu[0]])
    return {"step": max(x[0] for x in times), "cpu": max(x[1] for x in times),
            "batch_per_process": batch, "processes": dist.get_world_size()}


def worker_allreduce(floats: int, reps: int, blocks: int) -> dict:
    import numpy as np

    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    from mpi4py import MPI

    t = cr.tensor(np.ones(floats, np.float64 if floats == 1 else np.float32))
    dist.barrier()
    sec = _timed(lambda: dist.all_reduce(t), reps, blocks)
    comm = MPI.COMM_WORLD
    raw = _timed(lambda: comm.Allreduce(MPI.IN_PLACE, t._data), reps, blocks)
    return {"allreduce": sec, "mpi_allreduce": raw, "bytes": t._data.nbytes,
            "processes": dist.get_world_size()}


def worker_sizes(blocks: int) -> dict:
    """MPI_Allreduce time of float32 messages from 8 bytes to 4 MB (fits a and B at fixed N)."""
    import numpy as np
    from mpi4py import MPI

    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    out = {}
    for nbytes in (8, 1024, 16384, 262144, 1048576, 4194304):
        a = np.ones(nbytes // 4, np.float32)
        reps = max(5, min(500, 2_000_000 // nbytes))
        out[nbytes] = _timed(lambda a=a: comm.Allreduce(MPI.IN_PLACE, a), reps, blocks)
    return {"sizes": out, "processes": dist.get_world_size()}


def _worker(args) -> None:
    if args.worker == "train":
        res = worker_train(args.batch, args.ddp, args.steps, args.blocks)
    elif args.worker == "sizes":
        res = worker_sizes(args.blocks)
    else:
        res = worker_allreduce(args.floats, args.steps, args.blocks)
    import chainrule.distributed as dist

    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(res), flush=True)


# -- driver ---------------------------------------------------------------------------------
def _mpiexec() -> str:
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else "mpiexec"


def run(n: int, *args, env_extra=None) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra or {})
    cmd = [_mpiexec(), "-n", str(n), sys.executable, __file__, "--worker", *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")


def t_comm(n_nodes: int, nbytes: float, bandwidth: float, latency: float) -> float:
    """Ring allreduce: reduce-scatter then all-gather, 2 (N - 1) steps of n / N bytes."""
    if n_nodes < 2:
        return 0.0
    return 2 * (n_nodes - 1) / n_nodes * nbytes / bandwidth + 2 * (n_nodes - 1) * latency


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--worker", default=None)
    p.add_argument("rest", nargs="*")
    a = p.parse_args(argv)
    if a.worker:
        w = argparse.Namespace(worker=a.worker, ddp=False, batch=0, floats=0)
        if a.worker == "train":
            w.batch, w.ddp, w.steps, w.blocks = int(a.rest[0]), a.rest[1] == "ddp", \
                int(a.rest[2]), int(a.rest[3])
        elif a.worker == "sizes":
            w.blocks = int(a.rest[0])
        else:
            w.floats, w.steps, w.blocks = int(a.rest[0]), int(a.rest[1]), int(a.rest[2])
        _worker(w)
        return {}
    steps, blocks = (20, 3) if a.quick else (60, 7)
    res = {"compute": {}, "scaling": {}, "latency": {}}
    res["compute_cpu"] = {}
    for b in (32, 64, 128, 256):
        r = run(1, "train", b, "local", steps, blocks)
        res["compute"][b], res["compute_cpu"][b] = r["step"], r["cpu"]
    bs = sorted(res["compute"])
    import numpy as np

    slope, t0 = np.polyfit(bs, [res["compute_cpu"][b] for b in bs], 1)
    res["fit"] = {"t0": float(t0), "t_s": float(slope)}  # from CPU time: robust to load
    base = run(1, "train", 128, "local", steps, blocks)["step"]
    res["scaling"]["1 process, 128 rows"] = {"step": base, "samples_per_s": 128 / base}
    for n, rows, kind in ((1, 128, "ddp"), (2, 128, "weak"), (2, 64, "strong")):
        r = run(n, "train", rows, "ddp", steps, blocks)
        thr = rows * n / r["step"]
        res["scaling"][f"{n} processes x {rows} rows ({kind})"] = {
            "step": r["step"], "cpu": r["cpu"], "samples_per_s": thr,
            "speedup": thr / (128 / base) if kind != "ddp" else None}
    res["gradient_allreduce_2"] = run(2, "allreduce", GRAD_FLOATS, 20, blocks)
    ring = {"MPIR_CVAR_ALLREDUCE_INTRA_ALGORITHM": "ring"}
    res["sizes_ring_2"] = run(2, "sizes", blocks, env_extra=ring)["sizes"]
    for algo, ialgo in (("ring", "tsp_ring"), ("auto", "auto")):
        for n in (2, 4, 8):
            env = {"MPIR_CVAR_ALLREDUCE_INTRA_ALGORITHM": algo,
                   "MPIR_CVAR_IALLREDUCE_INTRA_ALGORITHM": ialgo}
            res["latency"][f"{algo} N={n}"] = run(n, "allreduce", 1, 100 if a.quick else 500,
                                                  blocks, env_extra=env)
    _report(res)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return res


def _report(res) -> None:
    import numpy as np

    print("per-step compute of W1 on one process (1 BLAS thread):")
    for b, t in sorted(res["compute"].items()):
        print(f"  batch {b:4d}: {t * 1e3:7.2f} ms wall, {res['compute_cpu'][b] * 1e3:7.2f} ms CPU")
    f = res["fit"]
    print(f"  fit (CPU): T_c(b) = {f['t0'] * 1e3:.2f} ms + b x {f['t_s'] * 1e6:.1f} us")
    print("W1 with DistributedDataParallel on this machine:")
    for k, v in res["scaling"].items():
        extra = f", speed-up {v['speedup']:.2f}, efficiency {v['speedup'] / 2:.0%}" \
            if v.get("speedup") else ""
        cpu = f" ({v['cpu'] * 1e3:.2f} ms CPU)" if "cpu" in v else ""
        print(f"  {k}: {v['step'] * 1e3:.2f} ms/step{cpu}, {v['samples_per_s']:.0f} "
              f"samples/s{extra}")
    g = res["gradient_allreduce_2"]
    print(f"  allreduce of the 1.08 MB gradient, 2 processes: chainrule {g['allreduce'] * 1e6:.0f}"
          f" us, MPI {g['mpi_allreduce'] * 1e6:.0f} us")
    tc1, tar = f["t0"] + 128 * f["t_s"], g["allreduce"]
    print(f"  with a core per process (the model on this machine): weak speed-up "
          f"2 T_c / (T_c + T_ar) = {2 * tc1 / (tc1 + tar):.2f}, efficiency "
          f"{tc1 / (tc1 + tar):.0%}")
    a = res["latency"]["ring N=2"]["mpi_allreduce"] / 2
    print(f"allreduce of 8 bytes (the latency term), MPI_Allreduce and chainrule's all_reduce; "
          f"a = T_ring(2) / 2 = {a * 1e6:.1f} us:")
    for k, v in res["latency"].items():
        n = int(k.split("=")[1])
        model = f"  model 2(N-1)a = {2 * (n - 1) * a * 1e6:7.1f} us" if k.startswith("ring") \
            else ""
        print(f"  {k}: MPI {v['mpi_allreduce'] * 1e6:8.1f} us, chainrule "
              f"{v['allreduce'] * 1e6:8.1f} us, per step {v['mpi_allreduce'] / (2 * (n - 1)) * 1e6:7.1f} us{model}")
    sizes = {int(k): v for k, v in res["sizes_ring_2"].items()}
    nb = sorted(sizes)
    t = np.array([sizes[k] for k in nb])
    slope, inter = np.polyfit(nb, t, 1, w=1 / t)  # relative errors: small messages count
    print(f"MPI_Allreduce on 2 processes (ring) vs bytes n: fit T = n / B + 2a with "
          f"B = {1 / slope / 1e9:.2f} GB/s, a = {inter / 2 * 1e6:.1f} us")
    for k in nb:
        print(f"  {k:8d} B: {sizes[k] * 1e6:9.1f} us  (fit {(k * slope + inter) * 1e6:9.1f} us)")
    tc = f["t0"] + 128 * f["t_s"]
    nbytes = GRAD_FLOATS * 4
    print("predicted efficiency T_c / (T_c + T_comm), 128 rows per process:")
    for name, (bw, lat) in NETWORKS.items():
        row = [f"N={n}: {tc / (tc + t_comm(n, nbytes, bw, lat)):.0%}" for n in
               (2, 4, 8, 16, 32, 64)]
        print(f"  {name} (a = {lat * 1e6:.0f} us): " + ", ".join(row))
    print("smallest global batch that pays: B_min(N) = T_comm(N) / (t_s (1 - 1/N)):")
    for name, (bw, lat) in NETWORKS.items():
        row = [f"N={n}: {t_comm(n, nbytes, bw, lat) / (f['t_s'] * (1 - 1 / n)):.0f}"
               for n in (2, 4, 8, 16, 32, 64)]
        print(f"  {name}: " + ", ".join(row))


if __name__ == "__main__":
    main()
