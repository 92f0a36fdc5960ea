"""Turn the stored benchmark results into the console table and BENCHMARKS.md."""

from __future__ import annotations

import statistics

from benchmarks import workloads
from benchmarks.worker import LIBRARIES

LIBS = LIBRARIES
SHORT = {"chainrule": "chainrule", "chainrule-compiled": "cr.compile", "torch": "PyTorch",
         "torch-compile": "torch.compile", "jax-jit": "JAX jit", "numpy": "NumPy"}
SUMMARY = ("chainrule", "chainrule-compiled", "jax-jit", "numpy")
RATIOS = ("chainrule", "chainrule-compiled", "torch-compile", "jax-jit", "numpy")


def _fmt_s(x) -> str:
    if x is None:
        return "—"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.1f} ms"
    return f"{x * 1e6:.1f} µs"


def _fmt_r(x) -> str:
    return "—" if x is None else f"{x:.2f}x"


def _runs(entry, lib):
    return entry["runs"].get(lib, [])


def item_stats(entry: dict, item: str) -> dict:
    """Median seconds per library and median pairwise ratios against torch for one row
    (and of chainrule-compiled against NumPy, for the per-op target)."""
    secs = {lib: [r["items"][item] for r in _runs(entry, lib) if item in r["items"]]
            for lib in LIBS}
    out = {"median": {lib: statistics.median(v) if v else None for lib, v in secs.items()}}
    for lib in LIBS:
        for base in ("torch", "numpy"):
            ratios = [a / b for a, b in zip(secs[lib], secs[base])]
            out[(lib, base)] = {
                "ratio": statistics.median(ratios) if ratios else None,
                "lo": min(ratios) if ratios else None,
                "hi": max(ratios) if ratios else None,
                "n": len(ratios),
            }
        out[lib] = out[(lib, "torch")]
    return out


def _status(entry: dict, lib: str) -> str | None:
    skipped = entry["skipped"].get(lib)
    if skipped is None:
        return None
    return "not available" if skipped["status"] == "unavailable" else "error"


def _met(ratio, target):
    if ratio is None or target is None:
        return "—"
    return "yes" if ratio <= target else "no"


def rows(stored: dict, names) -> list[dict]:
    out = []
    for name in names:
        entry = stored["workloads"].get(name)
        if entry is None:
            continue
        wl = workloads.load(name)
        compiled_targets = getattr(wl, "TARGET_COMPILED", {})
        for item in wl.ITEMS:
            st = item_stats(entry, item)
            cells = {}
            for lib in LIBS:
                s = st["median"][lib]
                cells[lib] = _fmt_s(s) if s is not None else (_status(entry, lib) or "—")
            ratios = {lib: _fmt_r(st[lib]["ratio"]) for lib in RATIOS}
            target = wl.TARGET
            ct = compiled_targets.get(item)
            c_ratio = st[("chainrule-compiled", ct[1])]["ratio"] if ct else None
            out.append({
                "workload": name, "item": item, "unit": wl.UNIT, "cells": cells,
                "ratios": ratios,
                "target": "—" if target is None else f"≤ {target:g}x",
                "met": _met(st["chainrule"]["ratio"], target) if target is not None
                else (_status(entry, "chainrule") or "—"),
                "ctarget": "—" if ct is None else f"≤ {ct[0]:g}x {SHORT[ct[1]]}",
                "cmet": _met(c_ratio, ct[0] if ct else None) if ct else "—",
                "stats": st,
            })
    return out


HEAD = (("workload", "row", "unit") + tuple(SHORT[lib] for lib in LIBS)
        + tuple(f"{SHORT[lib]}/PyTorch" for lib in RATIOS)
        + ("target", "met", "compiled target", "met"))


def _cols(r) -> list[str]:
    return ([r["workload"], r["item"], r["unit"]] + [r["cells"][lib] for lib in LIBS]
            + [r["ratios"][lib] for lib in RATIOS]
            + [r["target"], r["met"], r["ctarget"], r["cmet"]])


def table(stored: dict, names) -> str:
    body = [list(HEAD)] + [_cols(r) for r in rows(stored, names)]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEAD))]
    return "\n".join("  ".join(s.ljust(w) for s, w in zip(line, widths)) for line in body)


def _extras(name: str, entry: dict) -> list[str]:
    """Per-workload notes: losses (training sanity), memory, compile times, GEMM figures."""
    lines = []
    for lib in LIBS:
        runs = _runs(entry, lib)
        if runs and "loss" in runs[0]:
            loss = runs[0]["loss"]
            if isinstance(loss, dict):  # one value per row (the first step's)
                given = ", ".join(f"{k} {v:.4f}" for k, v in loss.items())
                lines.append(f"- {lib}: first-step loss {given}")
            else:
                first, last = loss
                lines.append(f"- {lib}: loss {first:.4f} → {last:.4f} over the measured "
                             "process")
        skipped = entry["skipped"].get(lib)
        if skipped is not None:
            lines.append(f"- {lib}: {_status(entry, lib)} ({skipped['reason']})")
    mem = []
    for lib in LIBS:
        runs = [r for r in _runs(entry, lib) if "rss_peak_mb" in r]
        if runs:
            grow = statistics.median(r["rss_peak_mb"] - r["rss_start_mb"] for r in runs)
            peak = statistics.median(r["rss_peak_mb"] for r in runs)
            mem.append(f"{SHORT[lib]} +{grow:.0f} MB (peak {peak:.0f} MB)")
    if mem:
        lines.append("- memory (peak RSS growth over the process after its library was "
                     "imported): " + ", ".join(mem))
    warm = []
    for lib in LIBS:
        runs = [r for r in _runs(entry, lib) if "warmup" in r]
        if runs:
            warm.append(f"{SHORT[lib]} {_fmt_s(statistics.median(r['warmup'] for r in runs))}")
    if warm:
        lines.append("- warm-up (first epoch or first 50 steps, including compilation): "
                     + ", ".join(warm))
    rec = [sum(r["compile_times"]) for r in _runs(entry, "chainrule-compiled")
           if r.get("compile_times")]
    if rec:
        n = len(_runs(entry, "chainrule-compiled")[0]["compile_times"])
        lines.append(f"- chainrule.compile recording + planning: {_fmt_s(statistics.median(rec))}"
                     f" for {n} program(s)")
    wl = workloads.load(name)
    flops = getattr(wl, "FLOPS", None)
    peaks = [r["gemm_peak_gflops"] for lib in LIBS for r in _runs(entry, lib)
             if "gemm_peak_gflops" in r]
    if flops and peaks:
        peak = statistics.median(peaks)
        lines.append(f"- NumPy float32 GEMM peak (1024³ matmul, same threads): {peak:.1f} GFLOP/s")
        for item, n in flops.items():
            for lib in LIBS:
                s = item_stats(entry, item)["median"][lib]
                if s:
                    g = n / s / 1e9
                    lines.append(f"- {lib} {item}: {n / 1e9:.2f} GFLOP of GEMMs in {_fmt_s(s)} "
                                 f"= {g:.1f} GFLOP/s = {100 * g / peak:.0f}% of the GEMM peak")
    return lines


def _machine(m: dict) -> list[str]:
    out = [
        f"- CPU: {m['cpu']}, {m['cores']} cores",
        f"- chainrule {m['chainrule']}, NumPy {m['numpy']}, PyTorch {m['torch']} (CPU)"
        + (f", JAX {m['jax']}" if m.get("jax") else ""),
    ]
    for pool in m.get("blas", {}).get("pools", []):
        out.append(
            f"- NumPy thread pool: {pool.get('internal_api')} {pool.get('version')} "
            f"({pool.get('user_api')}), kernel/coretype {pool.get('architecture')}, "
            f"threading {pool.get('threading_layer')}")
    unset = m.get("unset_env") or {}
    if unset:
        given = ", ".join(f"{k}={v}" for k, v in unset.items())
        out.append(f"- removed from the benchmark processes' environment: {given}")
    else:
        out.append("- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set in this environment")
    return out


METHOD = (
    "Each measurement is a fresh process per library (`python -m benchmarks.worker "
    "WORKLOAD LIBRARY`), all with the same thread count (threadpoolctl for NumPy's BLAS, "
    "`cr.set_num_threads`, `torch.set_num_threads`, XLA's single-thread flags for JAX), "
    "float32. The libraries alternate (chainrule, chainrule compiled, PyTorch, "
    "torch.compile, JAX, NumPy, then the reverse order, ...); each round gives one ratio "
    "to PyTorch (eager) per library, and the table shows the median of those pairwise "
    "ratios (below 1 is faster than PyTorch) next to the median seconds. `cr.compile` "
    "and `torch.compile` compile the same training-step function (forward, backward, "
    "optimizer step); JAX jits its whole step (forward, `value_and_grad`, update). NumPy "
    "is a hand-written implementation of the same network with manual backward — the "
    "limit of what a framework on NumPy could reach (for `ops`, the single-op NumPy rows "
    "are forward-only: the cost of the NumPy call itself). The machine is shared and "
    "small (2 cores): single rounds vary by tens of percent, which is why every ratio is "
    "given with its range over the rounds, and why the same code is measured with 1 and "
    "with 2 threads.")


def _ranges(stored: dict) -> list[str]:
    """chainrule/PyTorch and cr.compile/PyTorch medians per thread count, side by side."""
    buckets = sorted(stored["threads"].items(), key=lambda kv: int(kv[0]))
    if not buckets:
        return []
    head = ["workload", "row"]
    for t, _ in buckets:
        head += [f"{SHORT[lib]}, {t} thr" for lib in SUMMARY]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    seen = []
    for _, b in buckets:
        for r in rows(b, [n for n in workloads.NAMES if n in b["workloads"]]):
            if (r["workload"], r["item"]) not in seen:
                seen.append((r["workload"], r["item"]))
    for name, item in seen:
        cells = [name, item]
        for _, b in buckets:
            entry = b["workloads"].get(name)
            st = item_stats(entry, item) if entry else None
            for lib in SUMMARY:
                cells.append(_fmt_r(st[lib]["ratio"]) if st else "—")
        out.append("| " + " | ".join(cells) + " |")
    return out


def _bucket(bucket: dict) -> list[str]:
    names = [n for n in workloads.NAMES if n in bucket["workloads"]]
    m = bucket["machine"]
    out = [f"## Results, {m['threads']} thread(s) per library", "",
           f"Last run {m['date']} on {m['cpu']}.", "",
           "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rows(bucket, names):
        out.append("| " + " | ".join(_cols(r)) + " |")
    out.append("")
    for name in names:
        entry = bucket["workloads"][name]
        wl = workloads.load(name)
        out += [f"### {name}, {entry['threads']} thread(s): {wl.TITLE}", "",
                f"{entry['date']}, {entry['threads']} thread(s), {entry['pairs']} rounds"
                + (" (--quick)" if entry["quick"] else "")
                + (f", 1-minute load average {entry['loadavg']:.1f} at the start"
                   if "loadavg" in entry else "") + ".", ""]
        if getattr(wl, "NOTE", None):
            out += [wl.NOTE, ""]
        for item in wl.ITEMS:
            st = item_stats(entry, item)
            for lib in RATIOS:
                s = st[lib]
                if s["ratio"] is not None:
                    out.append(f"- {item}: {lib}/PyTorch pairwise ratios {s['lo']:.2f}–"
                               f"{s['hi']:.2f} (median {s['ratio']:.2f}, {s['n']} rounds)")
            s = st[("chainrule-compiled", "numpy")]
            if s["ratio"] is not None:
                out.append(f"- {item}: chainrule-compiled/NumPy median {s['ratio']:.2f}")
        out += _extras(name, entry)
        out.append("")
    return out


def _side(stored: dict) -> list[str]:
    extras = stored.get("extras") or {}
    if not extras:
        return []
    out = ["## Other benchmarks", "",
           "Each is a script in `benchmarks/`, run by `python benchmarks/run.py --extra "
           "NAME` in its own process; what it printed is kept here as it was printed.", ""]
    for name, e in extras.items():
        text = e["output"]
        table = any(line.startswith("|") for line in text.splitlines())
        out += [f"### {name}: {e['title']}", "",
                f"`{e['command'].strip()}` — {e['date']}, {e['cpu']}, 1-minute load "
                f"average {e['loadavg']:.1f} at the start, {e['wall_s']:.0f} s.", ""]
        out += [text] if table else ["```", text, "```"]
        out.append("")
    return out


def markdown(stored: dict) -> str:
    buckets = [b for _, b in sorted(stored["threads"].items(), key=lambda kv: int(kv[0]))]
    out = ["# Benchmarks", "",
           "Generated by `python benchmarks/run.py` — do not edit by hand; rerun it.", ""]
    if buckets:
        out += ["## Machine", ""] + _machine(buckets[-1]["machine"]) + [""]
    out += ["## Method", "", METHOD, ""]
    if buckets:
        out += ["## Summary: median ratio to PyTorch eager, per thread count", ""]
        out += _ranges(stored) + [""]
    for b in buckets:
        out += _bucket(b)
    out += _side(stored)
    return "\n".join(out)
