"""The CLI's default recipe: choose capacity and regularisation on the validation split.

``chainrule train`` trains a short, fixed list of candidates, simplest first — a linear
model (no hidden layer), then MLPs of growing width and depth with their own weight decay,
dropout and learning rate — each with early stopping on the validation loss, and keeps one
by the **one-standard-error rule** (Breiman et al. 1984; Hastie, Tibshirani & Friedman,
*The Elements of Statistical Learning*, 7.10): among the candidates whose mean validation
loss is within one standard error of the best candidate's, the simplest. The standard error
is that of the best candidate's mean per-row validation loss, ``std / sqrt(n_val)``.
On a small table, where a linear model is as good as any, the linear model is kept unless an
MLP is clearly better on rows it did not train on.

The search is **bounded by work, not by wall-clock time**, so that a run (and a resumed run)
is reproducible bit for bit: each candidate may take at most ``steps`` optimizer steps
(:func:`plan`: epochs are cut to fit), batch sizes grow with the number of rows, and
candidates that the data are too small for are not tried (see :func:`candidates`).
Options the user sets (``--hidden``, ``--weight-decay``, ``--dropout``, ``--lr``) are
fixed in every candidate; identical candidates are tried once, so setting all four trains
exactly one model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Candidate", "candidates", "choose", "plan"]

#: optimizer steps each candidate may take (a 64-64 MLP step is ~0.6 ms on one core)
STEPS_PER_CANDIDATE = 6000
MAX_BATCH = 512


@dataclass(frozen=True)
class Candidate:
    """One model of the search: hidden sizes (``()``: linear), dropout, weight decay and
    Adam's learning rate (before the batch-size scaling of :func:`plan`)."""

    hidden: tuple = ()
    dropout: float = 0.0
    weight_decay: float = 0.0
    lr: float = 1e-3

    @property
    def label(self) -> str:
        shape = "linear" if not self.hidden else "mlp " + "-".join(map(str, self.hidden))
        return (f"{shape} (dropout {self.dropout:g}, weight decay {self.weight_decay:g}, "
                f"lr {self.lr:g})")

    def n_params(self, n_inputs: int, n_outputs: int) -> int:
        n, total = n_inputs, 0
        for h in self.hidden:
            total += (n + 1) * h
            n = h
        return total + (n + 1) * n_outputs

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Candidate:
        return cls(tuple(int(h) for h in d["hidden"]), float(d["dropout"]),
                   float(d["weight_decay"]), float(d["lr"]))


#: the search grid, simplest first, with the training rows ``[min, max)`` it is tried for:
#: small tables get a strongly regularised 64-64 MLP, large ones (where heavy dropout and
#: weight decay only cost accuracy) a wider, lightly regularised 128-128 one instead
GRID = (
    (Candidate((), 0.0, 1e-4, 1e-2), 0, None),
    (Candidate((32,), 0.1, 1e-3, 3e-3), 0, None),
    (Candidate((64, 64), 0.2, 1e-2, 1e-3), 0, 2000),
    (Candidate((128, 128), 0.1, 1e-4, 1e-3), 2000, None),
)


def candidates(n_train: int, fixed: dict | None = None) -> list[Candidate]:
    """The candidates to train for ``n_train`` training rows, simplest first, with the
    user's ``fixed`` values (keys ``hidden``, ``dropout``, ``weight_decay``, ``lr``; None:
    searched) applied to all and duplicates removed."""
    fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
    if "hidden" in fixed:
        fixed["hidden"] = tuple(fixed["hidden"])
    out = []
    for cand, lo, hi in GRID:
        if (n_train < lo or (hi is not None and n_train >= hi)) and out:
            continue
        c = Candidate(**{**asdict(cand), **fixed})
        if not c.hidden and "dropout" not in fixed:
            c = Candidate(c.hidden, 0.0, c.weight_decay, c.lr)
        if c not in out:
            out.append(c)
    return out


def plan(n_train: int, *, epochs: int | None = None, batch_size: int | None = None,
         patience: int | None = None) -> dict:
    """Batch size, most epochs and early-stopping patience for ``n_train`` rows: batch 32
    up to 4,096 rows, then ``n_train / 128`` rounded to a power of two (at most 512); at
    most 300 epochs and :data:`STEPS_PER_CANDIDATE` steps; patience 20 epochs, fewer when
    epochs are cut (a fifth of them, at least 5). Given values are kept. The learning rate
    is scaled by ``sqrt(batch / 32)`` for batches above 32."""
    if batch_size is None:
        batch_size = 32 if n_train <= 4096 else int(
            min(MAX_BATCH, 2 ** round(math.log2(n_train / 128))))
    steps = max(1, math.ceil(n_train / batch_size))
    if epochs is None:
        epochs = int(max(10, min(300, STEPS_PER_CANDIDATE // steps)))
    if patience is None:
        patience = int(min(20, max(5, epochs // 5)))
    return {"batch_size": int(batch_size), "epochs": int(epochs), "patience": int(patience),
            "lr_scale": math.sqrt(batch_size / 32) if batch_size > 32 else 1.0}


def choose(results: list[dict]) -> tuple[int, str]:
    """The index of the candidate kept by the one-standard-error rule and why.

    ``results[i]`` has ``val_loss`` (mean per-row validation loss; NaN or inf for a failed
    candidate) and ``val_se`` (its standard error); they are in order of complexity."""
    ok = [i for i, r in enumerate(results) if math.isfinite(r["val_loss"])]
    if not ok:
        raise ValueError("every candidate's validation loss is NaN or infinite (the training "
                         "diverged); lower the learning rate (--lr) and check the data")
    best = min(ok, key=lambda i: results[i]["val_loss"])
    limit = results[best]["val_loss"] + results[best]["val_se"]
    pick = next(i for i in ok if results[i]["val_loss"] <= limit)
    if len(results) == 1:
        return pick, "the only candidate"
    b = results[best]
    if pick == best == 0:
        return pick, (f"the simplest candidate has the lowest validation loss "
                      f"({b['val_loss']:.4g}, standard error {b['val_se']:.2g})")
    if pick == best:
        return pick, (f"lowest validation loss {b['val_loss']:.4g} (standard error "
                      f"{b['val_se']:.2g}); every simpler candidate is more than one standard "
                      "error worse")
    return pick, (f"simplest candidate within one standard error of the best (validation "
                  f"loss {results[pick]['val_loss']:.4g} vs the best {b['val_loss']:.4g} "
                  f"+ {b['val_se']:.2g})")


def mean_and_se(losses: np.ndarray) -> tuple[float, float]:
    """Mean of per-row losses and its standard error (NaN/inf when any row is)."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0:
        return math.nan, math.nan
    mean = float(losses.mean())
    if not math.isfinite(mean):
        return mean, math.inf
    se = float(losses.std(ddof=1) / math.sqrt(losses.size)) if losses.size > 1 else 0.0
    return mean, se
