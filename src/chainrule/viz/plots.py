"""Loss curves and decision boundaries with matplotlib (Agg canvas, imported lazily)."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["plot_decision_boundary", "plot_history"]

_NOT_METRICS = {"loss", "val_loss", "lr", "time", "epoch"}


def _figure(figsize):
    """A matplotlib Figure on an Agg canvas: no pyplot, no global backend switch."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("chainrule.viz plots need matplotlib: pip install 'chainrule[plot]'") \
            from None
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def _curves(history) -> dict:
    h = getattr(history, "history", history)
    if not isinstance(h, dict):
        raise TypeError(f"plot_history: expected a History or a dict of per-epoch lists, got "
                        f"{type(history).__name__}")
    return {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in h.items()
            if np.size(v) and np.issubdtype(np.asarray(v).dtype, np.number)}


def plot_history(history, path=None, *, log_scale="auto", title: str | None = None):
    """Plot training/validation loss (left) and metrics (right) per epoch; save to ``path``.

    Args:
        history: a ``chainrule.train.History`` or a dict ``{"loss": [...], "val_loss": [...],
            "accuracy": [...], "val_accuracy": [...], "lr": [...]}``.
        path: where to save (format from the suffix: .png, .svg, .pdf); None to only return.
        log_scale: True, False, or "auto" (log when the positive loss spans > 2 decades).
        title: the figure's title.

    Returns: the matplotlib ``Figure``. A history with no epochs yet (e.g. training
    interrupted in its first epoch, or ``epochs=0``) gives an empty axes saying so.

    Example::

        h = fit(model, data, loss=nn.CrossEntropyLoss(), optimizer="adam", epochs=20)
        plot_history(h, "history.png")
    """
    curves = _curves(history)
    if not curves:
        fig = _figure((6, 4))
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no epochs recorded yet", ha="center", va="center",
                transform=ax.transAxes)
        ax.set(xlabel="epoch", ylabel="loss", title=title or "loss")
        return _save(fig, path)
    if "loss" not in curves:
        raise KeyError(f"plot_history: the history has no 'loss' (has {sorted(curves)})")
    metrics = [k for k in curves if k not in _NOT_METRICS and not k.startswith("val_")]
    metrics += [k for k in curves if k.startswith("val_") and k != "val_loss"
                and k[4:] not in metrics]
    fig = _figure((11, 4) if metrics else (6, 4))
    axes = fig.subplots(1, 2 if metrics else 1, squeeze=False)[0]
    ax = axes[0]
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if key in curves:
            v = curves[key]
            ax.plot(np.arange(1, v.size + 1), v, style, marker="o" if v.size < 30 else None,
                    ms=3, label="training" if key == "loss" else "validation")
    finite = np.concatenate([curves[k][np.isfinite(curves[k])] for k in ("loss", "val_loss")
                             if k in curves])
    if log_scale == "auto":
        log_scale = bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > 100)
    if log_scale:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss" + (" (log scale)" if log_scale else ""), title="loss")
    ax.grid(alpha=0.3)
    ax.legend()
    if metrics:
        ax = axes[1]
        for key in metrics:
            if key.startswith("val_"):
                continue
            v = curves[key]
            line = ax.plot(np.arange(1, v.size + 1), v, "-", label=key)[0]
            if "val_" + key in curves:
                w = curves["val_" + key]
                ax.plot(np.arange(1, w.size + 1), w, "--", color=line.get_color(),
                        label="val_" + key)
        for key in metrics:
            if key.startswith("val_") and key[4:] not in curves:
                w = curves[key]
                ax.plot(np.arange(1, w.size + 1), w, "--", label=key)
        ax.set(xlabel="epoch", title="metrics")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _array(a):
    return np.asarray(a.detach().numpy() if hasattr(a, "detach") else a)


def _predict_grid(model, grid):
    """Class probabilities (M, C) of a chainrule module/callable or a scikit-learn model."""
    if hasattr(model, "predict_proba") and not hasattr(model, "parameters"):
        return np.asarray(model.predict_proba(grid), dtype=np.float64)
    from .. import no_grad, tensor

    dtype = None
    params = getattr(model, "parameters", None)
    if callable(params):
        first = next(iter(params()), None)
        dtype = first.dtype if first is not None else None
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        with no_grad():
            out = _array(model(tensor(grid, dtype=dtype)))
    finally:
        if was_training:
            model.train()
    out = out.reshape(len(grid), -1).astype(np.float64)
    if out.shape[1] == 1:  # one output: a probability, or a logit when outside [0, 1]
        p = out[:, 0] if out.min() >= 0 and out.max() <= 1 else 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if out.min() < 0 or not np.allclose(out.sum(1), 1, atol=1e-4):  # logits: softmax
        out = np.exp(out - out.max(1, keepdims=True))
        out /= out.sum(1, keepdims=True)
    return out


def plot_decision_boundary(model, X, y, path=None, *, resolution: int = 200,
                           margin: float = 0.1, title: str | None = None):
    """Filled contours of a classifier's prediction over the plane, with the data on top.

    Binary problems show P(class 1) with the 0.5 boundary; more classes show the predicted
    class, shaded by its probability. The model runs once on the whole grid under
    ``no_grad`` in eval mode (its training mode is restored).

    Args:
        model: a chainrule module or callable mapping (M, 2) to logits/probabilities
            ((M, C) or (M, 1)), or an estimator with ``predict_proba``.
        X: inputs, shape (N, 2). y: class indices, shape (N,).
        path: where to save; None to only return the figure.
        resolution: grid points per axis.

    Returns: the matplotlib ``Figure``.
    """
    X, y = _array(X).astype(np.float64), _array(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got "
                         f"{X.shape}; project higher-dimensional inputs first")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"plot_decision_boundary: X has {X.shape[0]} rows but y has "
                         f"{y.shape[0]}")
    lo, hi = X.min(0), X.max(0)
    pad = margin * np.maximum(hi - lo, 1e-9)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    proba = _predict_grid(model, np.c_[gx.ravel(), gy.ravel()])
    fig = _figure((6, 5))
    ax = fig.subplots()
    classes = np.unique(y)
    n_cls = max(proba.shape[1], len(classes))
    cmap_points = "coolwarm" if n_cls == 2 else "tab10"
    if proba.shape[1] == 2:
        p1 = proba[:, 1].reshape(gx.shape)
        cs = ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
        ax.contour(gx, gy, p1, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(cs, ax=ax, label="P(class 1)")
    else:
        from matplotlib.colors import ListedColormap, to_rgba

        base = [to_rgba(f"C{i % 10}") for i in range(proba.shape[1])]
        pred = proba.argmax(1)
        rgba = np.array([base[c] for c in pred])
        rgba[:, 3] = 0.15 + 0.55 * (proba.max(1) - 1 / proba.shape[1]) / (1 - 1 / proba.shape[1])
        ax.imshow(rgba.reshape(*gx.shape, 4), origin="lower", aspect="auto",
                  extent=(xs[0], xs[-1], ys[0], ys[-1]), interpolation="nearest")
        ax.contour(gx, gy, pred.reshape(gx.shape), levels=np.arange(proba.shape[1]) + 0.5,
                   colors="k", linewidths=0.8)
        cmap_points = ListedColormap(base)
    scatter = ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(classes, y), cmap=cmap_points,
                         vmin=0, vmax=max(n_cls - 1, 1), edgecolors="k", s=22, linewidths=0.6)
    handles, _ = scatter.legend_elements()
    ax.legend(handles, [str(c) for c in classes], title="class", loc="best", fontsize=8)
    ax.set(xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), xlabel="x1", ylabel="x2",
           title=title or "decision boundary")
    return _save(fig, path)


