"""Run chainrule's benchmarks against PyTorch, JAX and hand-written NumPy; write BENCHMARKS.md.

    python benchmarks/run.py [--quick] [--only NAME ...] [--libs LIB ...] [--threads N]
                             [--pairs K]

Method (DESIGN.md §4): every measurement is a fresh process (``python -m benchmarks.worker
WORKLOAD LIBRARY``) with the same thread count for every library; the libraries (chainrule,
chainrule-compiled, torch, torch-compile, jax-jit, numpy) run in turn, then in the reverse
order, ... for K rounds. Each round gives one ratio to torch per library; the table reports
the median over the rounds of these pairwise ratios (and the median seconds). ``--libs``
runs some libraries only (torch is always run: it is the reference). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed from the workers' environment (they slow current NumPy on
some processors); which OpenBLAS kernel runs is recorded in BENCHMARKS.md.

Results are kept per thread count and workload in benchmarks/results.json, so ``--only``
refreshes some workloads and BENCHMARKS.md is rewritten from all of them (one table per
thread count, then the range of each ratio over the thread counts measured).

    python benchmarks/run.py --extra NAME ...

runs the side benchmarks (``csv_load``, ``threads``, ``dataloader_workers``,
``func_transforms``, ``ddp_scaling``, ``stream_memory``: each a script in this folder,
run as its own process) and keeps what each prints for BENCHMARKS.md's "Other benchmarks".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import report, workloads  # noqa: E402
from benchmarks.worker import LIBRARIES, PREFIX  # noqa: E402

LIBS = LIBRARIES
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
RESULTS = ROOT / "benchmarks" / "results.json"
TIMEOUT = 600
#: side benchmarks: name -> (arguments, one-line description)
EXTRAS = {
    "csv_load": ([], "load + preprocess a 1,000,000 x 20 numeric CSV (issue 8)"),
    "threads": ([], "1 vs 2 BLAS threads for typical `chainrule train` models, quiet and "
                    "with the other core busy (why `threads=\"auto\"`)"),
    "dataloader_workers": ([], "DataLoader worker processes: when they help (issue 9)"),
    "func_transforms": ([], "torch.func transforms against torch.func (issue 9)"),
    "ddp_scaling": ([], "W1 data-parallel on 1 and 2 MPI processes (issue 11)"),
    "stream_memory": ([], "streaming CSVs larger than the memory budget (issue 11)"),
}


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    for k in UNSET:
        env.pop(k, None)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def call_worker(args: list[str], env: dict) -> dict:
    """Run one worker process; return its JSON result (or an error record)."""
    cmd = [sys.executable, "-m", "benchmarks.worker", *args]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {TIMEOUT} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(PREFIX)]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"status": "error", "reason": f"worker exited {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len(PREFIX):])


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine_info(threads: int, env: dict) -> dict:
    cpu = cpu_name()

    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": threads,
        "numpy": version("numpy"),
        "torch": version("torch"),
        "jax": version("jax"),
        "chainrule": version("chainrule"),
        "unset_env": {k: os.environ[k] for k in UNSET if k in os.environ},
        "blas": call_worker(["--info", "--threads", str(threads)], env),
    }


def run_workload(name: str, threads: int, pairs: int, quick: bool, env: dict,
                 libs=LIBS) -> dict:
    """Alternate the libraries over ``pairs`` rounds; collect every process's result."""
    runs = {lib: [] for lib in libs}
    skip = {}
    load = os.getloadavg()[0]
    for k in range(pairs):
        order = libs if k % 2 == 0 else libs[::-1]
        for lib in order:
            if lib in skip:
                continue
            args = [name, lib, "--threads", str(threads)] + (["--quick"] if quick else [])
            t0 = time.perf_counter()
            res = call_worker(args, env)
            res["wall"] = time.perf_counter() - t0
            if res["status"] != "ok":
                skip[lib] = res
                print(f"  {name:9s} {lib:18s} {res['status']}: {res['reason']}", flush=True)
                continue
            runs[lib].append(res)
            secs = " ".join(f"{v:.3g}" for v in res["items"].values())
            print(f"  {name:9s} {lib:18s} round {k + 1}/{pairs}: {secs}  "
                  f"({res['wall']:.1f} s)", flush=True)
    return {"runs": runs, "skipped": skip, "pairs": pairs, "quick": quick,
            "threads": threads, "loadavg": load,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def load_results() -> dict:
    """benchmarks/results.json as ``{"threads": {"1": {"workloads", "machine"}, ...},
    "extras": {...}}`` (an older file with one thread count at the top level is moved
    under its count)."""
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "workloads" in stored:
        old = {"workloads": stored.pop("workloads"), "machine": stored.pop("machine")}
        stored.setdefault("threads", {})[str(old["machine"]["threads"])] = old
    stored.setdefault("threads", {})
    stored.setdefault("extras", {})
    return stored


def run_extras(names, no_write: bool) -> int:
    """Run each side benchmark script in its own process; keep its printed output."""
    stored = load_results()
    for name in names:
        extra, what = EXTRAS[name]
        cmd = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *extra]
        print(f"{name}: {what}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        print(proc.stdout, flush=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            print(f"{name}: exited {proc.returncode}; result not kept", file=sys.stderr)
            continue
        stored["extras"][name] = {
            "title": what, "command": f"python benchmarks/{name}.py " + " ".join(extra),
            "output": proc.stdout.strip(), "wall_s": round(time.perf_counter() - t0, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu_name(), "loadavg": os.getloadavg()[0]}
    if not no_write:
        RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(stored))
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="chainrule benchmarks vs PyTorch and NumPy")
    p.add_argument("--quick", action="store_true", help="short smoke run (fewer reps/rounds)")
    p.add_argument("--only", nargs="+", metavar="NAME", choices=workloads.NAMES,
                   help=f"run only these workloads ({', '.join(workloads.NAMES)})")
    p.add_argument("--libs", nargs="+", metavar="LIB", choices=LIBS,
                   help=f"run only these libraries and torch ({', '.join(LIBS)})")
    p.add_argument("--threads", type=int, default=1, help="threads for every library (1)")
    p.add_argument("--pairs", type=int, default=None,
                   help="rounds of alternating runs (default 5, or 2 with --quick)")
    p.add_argument("--no-write", action="store_true", help="print only; keep BENCHMARKS.md")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite BENCHMARKS.md from benchmarks/results.json without running")
    p.add_argument("--extra", nargs="+", metavar="NAME", choices=list(EXTRAS),
                   help=f"run side benchmarks instead ({', '.join(EXTRAS)})")
    args = p.parse_args(argv)
    if args.extra:
        return run_extras(args.extra, args.no_write)
    if args.report_only:
        stored = load_results()
        for t, bucket in sorted(stored["threads"].items()):
            print(f"{t} thread(s)")
            print(report.table(bucket, list(workloads.NAMES)))
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(stored))
        return 0
    pairs = args.pairs or (2 if args.quick else 5)
    env = worker_env(args.threads)
    names = args.only or list(workloads.NAMES)

    t0 = time.perf_counter()
    machine = machine_info(args.threads, env)
    stored = load_results()
    bucket = stored["threads"].setdefault(str(args.threads), {"workloads": {}})
    libs = LIBS if not args.libs else tuple(lib for lib in LIBS
                                            if lib in args.libs or lib == "torch")
    for name in names:
        print(f"{name}: {workloads.load(name).TITLE}", flush=True)
        bucket["workloads"][name] = run_workload(name, args.threads, pairs, args.quick, env,
                                                 libs)
    bucket["machine"] = machine
    print()
    print(report.table(bucket, names))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if not args.no_write:
        RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(stored))
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
