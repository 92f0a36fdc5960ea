"""Peak memory of ``chainrule train`` on a CSV several times larger than its memory budget.

    flock /tmp/chainrule-heavy.lock python benchmarks/stream_memory.py [--quick]
        [--budget-mb 64] [--times 4,8] [--dir DIR] [--json OUT]

Writes synthetic CSVs (20 numeric columns, one categorical, a binary target) of 4x and 8x
the budget (``--times``), then runs ``chainrule train FILE --target y --memory-budget BUDGET
--epochs 1`` on each (no ``--stream``: the CLI must choose streaming by itself) in a child
process and reads its peak resident set size (``ru_maxrss``). The fixed cost is the peak
RSS of the same streamed training on a 0.5 MB file (interpreter, NumPy, pyarrow's compute
and thread pools, matplotlib drawing the loss curve: memory that does not grow with the
data). Reported per file: size, rows, peak, peak - fixed cost, the model's size (with its
gradient and Adam state) and whether ``peak - fixed <= budget + model``; a peak that stays
flat from 4x to 8x shows the memory is bounded. For contrast, the in-memory loader's peak
on a slice of ``--slice-mb`` MB (the factor behind the CLI's rule "stream when 4 x the file
size exceeds the budget").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def _chunk(rng, n):
    import numpy as np
    import pyarrow as pa

    X = rng.standard_normal((n, 20)).astype(np.float32).round(4)
    colour = np.array(["red", "green", "blue", "grey"])[rng.integers(0, 4, n)]
    y = ((X @ np.linspace(-1, 1, 20) + (colour == "red") + 0.5 * rng.standard_normal(n)) > 0)
    cols = [pa.array(X[:, i]) for i in range(20)] + [pa.array(colour),
                                                     pa.array(y.astype(np.int8))]
    return pa.Table.from_arrays(cols, names=[f"x{i}" for i in range(20)] + ["colour", "y"])


def write_csv(path: Path, size_mb: float, seed: int = 0) -> int:
    """A CSV of about ``size_mb`` MB; returns its number of rows."""
    import io

    import numpy as np
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    sample = io.BytesIO()
    pcsv.write_csv(_chunk(rng, 2000), sample)
    rows = int(size_mb * 1e6 / (len(sample.getvalue()) / 2000))
    chunk = 50_000
    with pcsv.CSVWriter(str(path), _chunk(rng, 1).schema) as f:
        for start in range(0, rows, chunk):
            f.write_table(_chunk(rng, min(chunk, rows - start)))
    return rows


def peak_rss_mb(cmd, env) -> tuple[float, float, str]:
    """(peak RSS in MiB, seconds, stdout) of ``cmd`` run in a fresh child process."""
    code = ("import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "time.perf_counter() - t, p.returncode)\n"
            "sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])\n")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True,
                         env=env)
    peak, secs, rc = out.stdout.split()
    if rc != "0":
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{out.stderr}")
    return float(peak), float(secs), out.stderr


def _train_cmd(path, out, budget_mb, *extra):
    return [sys.executable, "-m", "chainrule.cli", "train", str(path), "--target", "y",
            "--memory-budget", str(budget_mb), "--epochs", "1", "--batch-size", "512",
            "--out", str(out), *extra]


def _slice(src_path: Path, dst_path: Path, mb: float) -> None:
    with open(src_path) as src, open(dst_path, "w") as dst:
        dst.write(src.readline())
        while dst.tell() < mb * 1e6:
            dst.write(src.readline())


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="files of 4x and 8x a 32 MiB budget")
    p.add_argument("--budget-mb", type=float, default=64)
    p.add_argument("--times", default="4,8", help="file sizes as multiples of the budget")
    p.add_argument("--slice-mb", type=float, default=8)
    p.add_argument("--dir", default=None)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.budget_mb = 32
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    work = Path(a.dir or tempfile.mkdtemp(prefix="chainrule-stream-"))
    work.mkdir(parents=True, exist_ok=True)
    times = [float(t) for t in a.times.split(",")]
    biggest = work / "big.csv"
    write_csv(biggest, max(times) * a.budget_mb * MB / 1e6)
    imports, _, _ = peak_rss_mb([sys.executable, "-c", "import chainrule, chainrule.cli, "
                                 "pyarrow.csv, pyarrow.compute, matplotlib.figure"], env)
    tiny = work / "tiny.csv"
    _slice(biggest, tiny, 0.5)
    warm, _, _ = peak_rss_mb(_train_cmd(tiny, work / "run_tiny", a.budget_mb, "--stream"), env)
    res = {"budget_mib": a.budget_mb, "imports_mib": imports, "fixed_mib": warm, "runs": []}
    print(f"budget {a.budget_mb:.0f} MiB; peak RSS of the imports alone {imports:.0f} MiB; of "
          f"the same streamed training on a 0.5 MB file (fixed cost: libraries, threads, "
          f"plotting) {warm:.0f} MiB")
    for t in sorted(times):
        data = work / f"x{t:g}.csv"
        if t == max(times):
            data = biggest
        else:
            _slice(biggest, data, t * a.budget_mb * MB / 1e6)
        size = data.stat().st_size
        peak, secs, log = peak_rss_mb(_train_cmd(data, work / f"run{t:g}", a.budget_mb), env)
        config = json.loads((work / f"run{t:g}" / "config.json").read_text())
        arch = config["architecture"]
        dims = [arch["n_inputs"], *arch["hidden"], arch["n_outputs"]]
        params = sum(i * o + o for i, o in zip(dims[:-1], dims[1:]))
        model = params * 4 * 4 / MB  # weights, gradients and Adam's two moments
        run = {"file_mb": size / 1e6, "times_budget": size / (a.budget_mb * MB),
               "rows": config["data"]["rows"], "streamed": "streaming it from disk" in log,
               "peak_mib": peak, "above_fixed_mib": peak - warm, "model_mib": model,
               "within": peak - warm <= a.budget_mb + model, "seconds": secs}
        res["runs"].append(run)
        print(f"file {run['file_mb']:.0f} MB ({run['times_budget']:.1f}x the budget, "
              f"{run['rows']} rows): chose streaming {run['streamed']}; peak RSS {peak:.0f} "
              f"MiB = fixed {warm:.0f} + {peak - warm:.0f} MiB (budget {a.budget_mb:.0f} + model "
              f"{model:.2f} MiB: {'within' if run['within'] else 'ABOVE'}); one epoch {secs:.0f} s")
    sliced = work / "slice.csv"
    _slice(biggest, sliced, a.slice_mb)
    mem_peak, _, _ = peak_rss_mb(_train_cmd(sliced, work / "run_mem", 100000), env)
    res["in_memory"] = {"file_mb": sliced.stat().st_size / 1e6, "peak_mib": mem_peak,
                        "factor": (mem_peak - imports) * MB / sliced.stat().st_size}
    m = res["in_memory"]
    print(f"in-memory loader on a {m['file_mb']:.0f} MB slice: peak {mem_peak:.0f} MiB "
          f"({m['factor']:.1f}x the file above the imports)")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
