"""``report.md`` of a run directory and the summary table the CLI prints."""

from __future__ import annotations

from ..nn.summary import summary


def metrics_table(metrics: dict, markdown: bool = False) -> str:
    """Rows = metrics, columns = splits (train / val / test)."""
    splits = list(metrics)
    names = []
    for m in metrics.values():
        names += [k for k in m if k not in names]
    rows = [["metric"] + splits]
    for n in names:
        rows.append([n] + [f"{metrics[s][n]:.4f}" if n in metrics[s] else "-" for s in splits])
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


def _lr(tr) -> str:
    from ._setup import DEFAULT_LR

    if tr["lr"] is not None:
        return f"{tr['lr']:g}"
    return f"{DEFAULT_LR.get(tr['optimizer'], float('nan')):g} (default)"


def run_report(ds, head, model, config, history, metrics, seconds, notes) -> str:
    arch = config["architecture"]
    tr = config["training"]
    text = summary(model, (1, arch["n_inputs"]), print_fn=None)
    stop = (f"early stopping after epoch {len(history)} (best weights restored)"
            if history.stopped_early else f"{len(history)} epochs")
    if history.interrupted:
        stop = f"interrupted by Ctrl-C after {len(history)} epochs"
    lines = [
        f"# chainrule run: {config['data']['file']} -> {config['target']}", "",
        f"chainrule {config['chainrule_version']}; trained in {seconds:.1f} s ({stop}).", "",
        "## Data", "", "```", ds.report, "```", "",
        "## Output unit", "", head.describe(), "",
        "## Architecture", "",
        f"MLP: {arch['n_inputs']} inputs -> hidden {arch['hidden']} ({arch['activation']}, "
        f"dropout {arch['dropout']}) -> {arch['n_outputs']} output(s)", "",
        "```", text, "```", "",
        "## Training", "",
        f"optimizer {tr['optimizer']} (lr {_lr(tr)}, "
        f"weight decay {tr['weight_decay']}), batch size {tr['batch_size']}, at most "
        f"{tr['epochs']} epochs, early-stopping patience {tr['patience']} on val_loss, "
        f"seed {tr['seed']}", "",
        "## Metrics", "", metrics_table(metrics, markdown=True), "",
        "## Diagnostics", "",
    ]
    lines += [f"- {d}" for d in diagnostics_lines(history)]
    lines += ["", "![loss curve](loss_curve.png)" if not notes else "", ""]
    lines += [f"Note: {n}" for n in notes]
    return "\n".join(lines).rstrip() + "\n"
