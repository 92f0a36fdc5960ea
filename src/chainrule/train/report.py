"""``report.md`` of a run directory and the metrics table the CLI prints."""

from __future__ import annotations

import math

from ..nn.summary import summary

__all__ = ["diagnostics_lines", "fmt_number", "metrics_table", "run_report"]


def fmt_number(v) -> str:
    """A metric as people read it: 4 decimals in ``[1e-4, 1e6)``, scientific notation
    outside (``1.2000e+31``, never a 37-digit number), ``nan``/``inf`` as such."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return repr(v)
    if v != 0 and not 1e-4 <= abs(v) < 1e6:
        return f"{v:.4e}"
    return f"{v:.4f}"


def metrics_table(metrics: dict, markdown: bool = False) -> str:
    """Rows = metrics, columns = splits (train / val / test)."""
    splits = list(metrics)
    names = []
    for m in metrics.values():
        names += [k for k in m if k not in names]
    rows = [["metric"] + splits]
    for n in names:
        rows.append([n] + [fmt_number(metrics[s][n]) if n in metrics[s] else "-"
                           for s in splits])
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
             for r in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def diagnostics_lines(history) -> list[str]:
    """``chainrule.diagnostics.check_loss_curve`` findings, or a note when unavailable."""
    try:
        from ..diagnostics import check_loss_curve
    except ImportError:
        return ["(chainrule.diagnostics is not available)"]
    try:
        return [str(f) for f in check_loss_curve(history)]
    except (KeyError, TypeError, ValueError) as e:
        return [f"(could not check the loss curve: {e})"]


def search_table(tr) -> list[str]:
    """The candidates as a markdown table, the kept one marked."""
    lines = ["| # | candidate | epochs | validation loss | standard error | seconds |",
             "|---|---|---|---|---|---|"]
    for k, c in enumerate(tr.cands):
        mark = " (kept)" if k == tr.chosen else ""
        if k < len(tr.results):
            r = tr.results[k]
            lines.append(f"| {k + 1} | {c.label}{mark} | {r['epochs']} | "
                         f"{fmt_number(r['val_loss'])} | {fmt_number(r['val_se'])} | "
                         f"{r['seconds']:.1f} |")
        else:
            lines.append(f"| {k + 1} | {c.label} | - | not trained (interrupted) | - | - |")
    return lines


def _loss_note(task: str) -> str:
    if task == "regression":
        return ("Validation losses of the search are mean squared errors of the standardised "
                "target (1.0 = predicting the training mean); the metrics below are in the "
                "target's units.")
    if task == "count":
        return ("Losses are Poisson deviances (0 for a perfect fit), not the raw "
                "PoissonNLLLoss, which omits log(y!) and is negative for most data.")
    return "Losses are mean cross-entropies per row (lower is better)."


def run_report(tr, model, history, metrics, seconds, notes, interrupted) -> str:
    cfg = tr.config
    arch = cfg["architecture"]
    tcfg = cfg["training"]
    if interrupted:
        stop = (f"interrupted by Ctrl-C; resume with `chainrule train --resume {tr.out}`"
                if cfg["status"] != "complete" else "interrupted by Ctrl-C after training")
    elif history.stopped_early:
        stop = f"early stopping after epoch {len(history)} (best weights restored)"
    else:
        stop = f"{len(history)} epochs"
    lines = [
        f"# chainrule run: {cfg['data']['file']} -> {cfg['target']}", "",
        f"chainrule {cfg['chainrule_version']}; {seconds:.1f} s; status {cfg['status']} "
        f"({stop}).", "",
        "## Data", "", "```", tr.ds.report, "```", "",
        "## Task and output unit", "",
    ]
    if cfg.get("task_reason"):
        lines += [f"Task: {cfg['task_reason']}", ""]
    lines += [tr.head.describe(), "", _loss_note(tr.head.task), "",
              "## Model search", "",
              f"Candidates simplest first, each trained with {tcfg['optimizer']}, batch "
              f"{tr.plan['batch_size']}, at most {tr.plan['epochs']} epochs"
              + (f" and early stopping on the validation loss (patience "
                 f"{tr.plan['patience']}, best weights restored)" if tr.has_val else "")
              + f", seed {tcfg['seed']}.", ""]
    lines += search_table(tr)
    if tr.reason:
        lines += ["", f"Kept candidate {tr.chosen + 1}: {tr.reason}."]
    lines += ["", "## Architecture", ""]
    if arch is not None:
        opt = f"weight decay {tcfg.get('weight_decay')}, lr {tcfg.get('lr'):g}"
        if arch["hidden"]:
            lines.append(f"MLP: {arch['n_inputs']} inputs -> hidden "
                         f"{'-'.join(map(str, arch['hidden']))} ({arch['activation']}, "
                         f"dropout {arch['dropout']}) -> {arch['n_outputs']} output(s); {opt}")
        else:
            lines.append(f"Linear model (no hidden layer): {arch['n_inputs']} inputs -> "
                         f"{arch['n_outputs']} output(s); {opt}")
    if model is not None:
        lines += ["", "```", summary(model, (1, arch["n_inputs"]), print_fn=None), "```"]
    lines += ["", "## Metrics", ""]
    if metrics:
        lines.append(metrics_table(metrics, markdown=True))
    else:
        lines.append(f"Not computed (interrupted). Run `chainrule evaluate {tr.out} FILE`.")
    lines += ["", "## Diagnostics (loss curve of the kept model)", ""]
    restored = tr.has_val and tr.plan.get("patience")  # early stopping kept the best epoch
    lines += [f"- {d}" + (" (here early stopping already kept the best epoch's weights)"
                          if restored and d.startswith("overfitting") else "")
              for d in diagnostics_lines(history)]
    lines += ["", "![loss curve](loss_curve.png)" if not notes else "", ""]
    lines += [f"Note: {n}" for n in notes]
    return "\n".join(lines).rstrip() + "\n"
