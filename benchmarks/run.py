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

Results are kept per workload in benchmarks/results.json, so ``--only`` refreshes some
workloads and BENCHMARKS.md is rewritten from all of them.
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


def machine_info(threads: int, env: dict) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

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
    args = p.parse_args(argv)
    if args.report_only:
        stored = json.loads(RESULTS.read_text())
        print(report.table(stored, list(workloads.NAMES)))
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(stored))
        return 0
    pairs = args.pairs or (2 if args.quick else 5)
    env = worker_env(args.threads)
    names = args.only or list(workloads.NAMES)

    t0 = time.perf_counter()
    machine = machine_info(args.threads, env)
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored.setdefault("workloads", {})
    libs = LIBS if not args.libs else tuple(lib for lib in LIBS
                                            if lib in args.libs or lib == "torch")
    for name in names:
        print(f"{name}: {workloads.load(name).TITLE}", flush=True)
        stored["workloads"][name] = run_workload(name, args.threads, pairs, args.quick, env,
                                                 libs)
    stored["machine"] = machine
    print()
    print(report.table(stored, names))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if not args.no_write:
        RESULTS.write_text(json.dumps(stored, indent=1) + "\n")
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(stored))
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
