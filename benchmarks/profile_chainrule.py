"""Profile the chainrule side of a workload with cProfile and print its hotspots.

    python -m benchmarks.profile_chainrule WORKLOAD [--top N]

Runs ``framework(chainrule, quick=True)`` of the workload in this process (1 thread) and
prints the top functions by self time and by cumulative time, each as a share of the
total. The findings are summarised by hand in benchmarks/PROFILE_NOTES.md.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats

from threadpoolctl import threadpool_limits

from benchmarks import workloads


def _short(func) -> str:
    path, line, name = func
    for marker in ("src/chainrule/", "site-packages/", "benchmarks/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=workloads.NAMES)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args(argv)
    import chainrule

    for sub in ("chainrule.nn", "chainrule.optim"):
        importlib.import_module(sub)
    chainrule.set_num_threads(1)
    threadpool_limits(limits=1)
    wl = workloads.load(args.workload)
    prof = cProfile.Profile()
    prof.enable()
    wl.framework(chainrule, True)
    prof.disable()
    stats = pstats.Stats(prof).stats  # {func: (cc, nc, tottime, cumtime, callers)}
    total = sum(v[2] for v in stats.values())
    for title, key in (("self time", 2), ("cumulative time", 3)):
        print(f"== {args.workload}: top {args.top} by {title} (total {total:.2f} s)")
        ranked = sorted(stats.items(), key=lambda kv: kv[1][key], reverse=True)[:args.top]
        for func, v in ranked:
            print(f"  {100 * v[key] / total:5.1f}%  {v[1]:>8d} calls  {_short(func)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
