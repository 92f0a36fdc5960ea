"""Load + preprocess a large numeric CSV with ``chainrule.data.load_csv``: wall time and
peak memory, each run in a fresh process.

    flock /tmp/chainrule-heavy.lock python benchmarks/csv_load.py [--rows 1000000]
        [--cols 20] [--repeat 3] [--json benchmarks/results_csv.json]

The file (``--rows`` x ``--cols``: ``x1 .. x{cols-1}`` normal numbers with 4 decimals and a
continuous target ``y``; 1,000,000 x 20 is ~145 MB) is generated in a temporary directory.
Each repeat runs ``load_csv(path, "y", val_split=0.2, test_split=0.2)`` in a new Python
process and reports:

* ``load_s``: wall seconds of the ``load_csv`` call (read, infer, split, standardize);
* ``process_s``: wall seconds of the whole child process (interpreter start and imports);
* ``peak_rss_mb``: the child's peak resident memory (``ru_maxrss``; on Linux also checked
  against ``VmHWM``), ``import_rss_mb`` the same just before ``load_csv`` (interpreter +
  NumPy + chainrule). Linux carries a process's peak across ``fork`` + ``exec``, so the
  file is generated in a separate process and this parent stays small (a few MB);
* ``cpu_s``: user + system CPU seconds of the child (pyarrow parses on several threads).

The figures (median wall, maximum peak RSS over repeats) are printed as a markdown table
and written to ``--json``. Targets from issue 8: ``load_s <= 10`` and
``peak_rss_mb <= 3 x file_mb``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from chainrule.data import load_csv
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.perf_counter()
ds = load_csv(sys.argv[1], "y", val_split=0.2, test_split=0.2, seed=0)
t2 = time.perf_counter()
u = resource.getrusage(resource.RUSAGE_SELF)
hwm = None
try:
    with open("/proc/self/status") as f:
        hwm = int(next(l for l in f if l.startswith("VmHWM")).split()[1])
except (OSError, StopIteration):
    pass
print(json.dumps({"load_s": t2 - t1, "import_s": t1 - t0, "import_rss_kb": rss0,
                  "peak_rss_kb": u.ru_maxrss, "vm_hwm_kb": hwm, "cpu_s": u.ru_utime + u.ru_stime,
                  "task": ds.task, "rows": int(ds.info["rows_kept"]),
                  "features": ds.n_features}))
"""


def make_csv(path: Path, rows: int, cols: int, seed: int = 0, chunk: int = 100_000) -> None:
    """Write the benchmark file in chunks (bounded memory) with pyarrow's CSV writer."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    g = np.random.default_rng(seed)
    w = g.normal(size=cols - 1)
    names = [f"x{j}" for j in range(1, cols)] + ["y"]
    with pacsv.CSVWriter(str(path), pa.schema([(n, pa.float64()) for n in names])) as out:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            X = np.round(g.normal(size=(n, cols - 1)), 4)
            y = np.round(X @ w + 0.1 * g.normal(size=n), 4)
            arrays = [pa.array(X[:, j]) for j in range(cols - 1)] + [pa.array(y)]
            out.write_table(pa.Table.from_arrays(arrays, names=names))


def generate(path: Path, rows: int, cols: int) -> None:
    """make_csv in its own process (keeps this process, whose peak the children inherit
    at fork, small)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from csv_load import make_csv; "
            "from pathlib import Path; make_csv(Path(sys.argv[2]), int(sys.argv[3]), "
            "int(sys.argv[4]))")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks"), str(path),
                    str(rows), str(cols)], check=True)


def run_once(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the load failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_s"] = wall
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results_csv.json"))
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chainrule-csv-") as tmp:
        path = Path(tmp) / "big.csv"
        t0 = time.perf_counter()
        generate(path, a.rows, a.cols)
        gen_s = time.perf_counter() - t0
        file_mb = path.stat().st_size / 1e6
        print(f"generated {path.name}: {a.rows:,} x {a.cols}, {file_mb:.1f} MB in {gen_s:.1f} s")
        runs = []
        for i in range(a.repeat):
            r = run_once(path)
            runs.append(r)
            hwm = f" (VmHWM {r['vm_hwm_kb'] / 1024:.0f} MB)" if r.get("vm_hwm_kb") else ""
            print(f"run {i + 1}: load {r['load_s']:.2f} s, process {r['process_s']:.2f} s, "
                  f"peak RSS {r['peak_rss_kb'] / 1024:.0f} MB{hwm}, CPU {r['cpu_s']:.2f} s")
    load = statistics.median(r["load_s"] for r in runs)
    peak = max(r["peak_rss_kb"] for r in runs) / 1024
    summary = {
        "rows": a.rows, "cols": a.cols, "file_mb": round(file_mb, 1), "repeats": a.repeat,
        "load_s_median": round(load, 2),
        "load_s_min": round(min(r["load_s"] for r in runs), 2),
        "process_s_median": round(statistics.median(r["process_s"] for r in runs), 2),
        "cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "peak_rss_mb": round(peak, 1),
        "import_rss_mb": round(max(r["import_rss_kb"] for r in runs) / 1024, 1),
        "vm_hwm_mb": round(max(r.get("vm_hwm_kb") or 0 for r in runs) / 1024, 1),
        "peak_rss_over_file": round(peak / file_mb, 2),
        "within_targets": bool(load <= 10 and peak <= 3 * file_mb),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print()
    print("| file | load_csv wall (median) | whole process | CPU | peak RSS | peak / file |")
    print("|---|---|---|---|---|---|")
    print(f"| {a.rows:,} x {a.cols}, {file_mb:.0f} MB | {load:.2f} s | "
          f"{summary['process_s_median']:.2f} s | {summary['cpu_s_median']:.2f} s | "
          f"{peak:.0f} MB (after imports {summary['import_rss_mb']:.0f} MB) | "
          f"{summary['peak_rss_over_file']:.2f}x |")
    Path(a.json).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten {a.json}; targets (<= 10 s, <= 3x file) "
          f"{'met' if summary['within_targets'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
