"""``fit``, ``evaluate``, ``predict``: a plain training loop that calls callbacks."""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import Generator, manual_seed
from ..serialization import load, save
from ..tensor import Tensor
from ._distributed import setup_distributed
from ._finite import NonFiniteLossWarning, check_finite, stop_at_nonfinite
from ._interrupt import SigintGuard
from ._setup import as_loader, loss_module, make_optimizer, needs_closure, split_batch
from .callbacks import LRScheduler, ProgressBar
from .checkpoint import FORMAT, capture, restore, rng_states, set_rng_states
from .history import History
from .metrics import get_metric
from .tasks import convert, output_kind
from .threads import blas_threads

__all__ = ["evaluate", "fit", "predict"]


def _np(t) -> np.ndarray:
    return t.detach()._data if isinstance(t, Tensor) else np.asarray(t)


def compute_metrics(metrics, kind: str, outputs: np.ndarray, targets: np.ndarray,
                    prefix: str = "") -> dict:
    """``{prefix + name: value}``; a metric undefined on this data (e.g. ROC-AUC with one
    class present) gives ``nan``."""
    logs = {}
    for name, fn, want in metrics:
        try:
            value = fn(targets, outputs if want == "raw" else convert(outputs, kind, want))
        except ValueError:
            value = math.nan
        logs[prefix + name] = float(value)
    return logs


class _Accumulator:
    """Loss (weighted by batch size) and, when metrics need them, outputs and targets."""

    def __init__(self, keep: bool, state: dict | None = None):
        self.keep = keep
        self.loss_sum, self.count, self.outs, self.ys = 0.0, 0, [], []
        if state:
            self.loss_sum, self.count = float(state["loss_sum"]), int(state["count"])
            if state.get("outputs") is not None:
                self.outs, self.ys = [_np(state["outputs"])], [_np(state["targets"])]

    def add(self, loss: float, out, y) -> None:
        n = int(_np(y).shape[0])
        self.loss_sum += loss * n
        self.count += n
        if self.keep:
            self.outs.append(_np(out))
            self.ys.append(_np(y))

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else math.nan

    def arrays(self):
        return np.concatenate(self.outs), np.concatenate(self.ys)

    def state(self) -> dict:
        outs, ys = self.arrays() if self.keep and self.outs else (None, None)
        return {"loss_sum": self.loss_sum, "count": self.count, "outputs": outs, "targets": ys}


class _Run:
    """The state of one ``fit`` call; callbacks see it as ``callback.run``."""

    def __init__(self, model, optimizer, loss_fn, loader, epochs, callbacks, history):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.net = model  # what the steps call: DistributedDataParallel(model) when distributed
        self.loader, self.epochs, self.callbacks, self.history = loader, epochs, callbacks, history
        self.steps = len(loader) if hasattr(loader, "__len__") else None
        self.stop_training = False
        self.running_loss = math.nan
        self.closure = needs_closure(optimizer)
        self.generator = getattr(loader, "generator", None)
        self.position = (0, 0)  # (epoch, batches done in it)
        self.partial = None
        self.epoch_rng = None
        self.skip_nonfinite = True  # False under data-parallel training: all ranks step
        self.skipped = False

    def checkpoint_state(self) -> dict:
        """Everything ``fit(resume_from=...)`` needs to continue bit-for-bit."""
        return capture(self)

    def step(self, inputs, y):
        model, loss_fn, opt = self.net, self.loss_fn, self.optimizer
        if self.closure is None:
            opt.zero_grad()
            out = model(*inputs)
            loss = loss_fn(out, y)
            value = float(loss.item())
            if not math.isfinite(value) and self.skip_nonfinite:
                self.skipped = True  # the weights stay those of the last finite step
                return value, out
            loss.backward()
            opt.step()
            return value, out
        first = {}

        def closure():
            opt.zero_grad()
            out = model(*inputs)
            loss = loss_fn(out, y)
            if self.closure == "backward":
                loss.backward()
            first.setdefault("out", out)
            first.setdefault("loss", float(loss.item()))
            return loss

        opt.step(closure)
        return first["loss"], first["out"]


def _call(callbacks, hook, *args):
    for cb in callbacks:
        getattr(cb, hook)(*args)


def fit(model, train, *, loss, optimizer, epochs: int, batch_size: int | None = 32, val=None,
        metrics=(), callbacks=(), seed: int | None = None, verbose: int = 1,
        shuffle: bool = True, scheduler=None, lr: float | None = None, checkpoint=None,
        resume_from=None, val_batch_size: int = 1024, distributed: bool | None = None,
        threads="auto") -> History:
    """Train ``model`` for ``epochs`` passes over ``train``: per batch
    ``zero_grad; loss(model(x), y).backward(); optimizer.step()`` (closure optimizers such
    as LBFGS, BFGS and Newton get a closure), then per epoch the validation loss/metrics.

    Args:
        model: an ``nn.Module`` (put in train mode for training, eval mode for validation).
        train, val: a ``Dataset``, a ``DataLoader`` or an ``(X, y)`` tuple of tensors (the
            last element of a batch is the target, the others are the model's inputs).
        loss: a loss module / callable ``loss(output, target)`` (or ``"mse"``, ``"bce"``,
            ``"cross_entropy"``, ``"poisson"``).
        optimizer: an optimizer, or a name (``"adam"``, ``"sgd"``, ``"lbfgs"``, ...) made
            with ``lr`` over ``model.parameters()``.
        epochs: the total number of epochs (a resumed run continues up to it).
        batch_size: batch size (None: full batch); ignored when ``train`` is a DataLoader.
        metrics: names from ``chainrule.train.metrics.METRICS`` or ``fn(y_true, outputs)``.
        callbacks: ``Callback`` objects (see ``chainrule.train.callbacks``).
        seed: seeds the global generator (dropout, ...) and the shuffling generator.
        verbose: 0 silent; 1 progress bars on a terminal, else a line per epoch; 2 lines.
        scheduler: a learning-rate scheduler stepped once per epoch.
        checkpoint: a path: the full training state is written there (atomically) after
            every epoch and when Ctrl-C stops training. Default None: nothing is written.
        resume_from: a checkpoint path (``checkpoint=`` or ``ModelCheckpoint``): restores the
            model, optimizer, epoch, history, scheduler, callbacks and random states.
        distributed: train data-parallel over the MPI job's processes (default None: when
            launched by ``mpiexec`` with more than one process). ``batch_size`` is then the
            global batch; only rank 0 prints and writes checkpoints; metrics are reduced over
            all processes (see ``chainrule.train._distributed``).
        threads: NumPy BLAS threads while training: ``"auto"`` (default) uses one thread for
            models under ~200 MFLOP per step, where a second thread never helps and
            oversubscribes a busy machine (see ``chainrule.train.threads``), unless
            ``chainrule.set_num_threads`` was called; an int; or None to leave BLAS alone.

    Returns: a :class:`History`. Ctrl-C (SIGINT) during ``fit`` finishes the current batch,
    writes ``checkpoint`` (if given) and returns the history so far (``interrupted=True``);
    a second Ctrl-C raises ``KeyboardInterrupt``.

    Example::

        h = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer="adam", lr=1e-2,
                epochs=20, val=(Xv, yv), metrics=["accuracy"], seed=0)
        h.history["val_accuracy"][-1]
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    loss_fn = loss_module(loss)
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, model.parameters(), lr)
    elif lr is not None:
        raise ValueError("fit: lr= is only used with an optimizer name; set the learning rate "
                         "on the optimizer instance")
    if not hasattr(optimizer, "step"):
        raise TypeError(f"fit: optimizer must be an optimizer or a name, got "
                        f"{type(optimizer).__name__}")
    gen = None
    if seed is not None:
        manual_seed(seed)
        gen = Generator().manual_seed(seed)
    loader = as_loader(train, batch_size, shuffle, gen, "train")
    val_loader = None if val is None else as_loader(val, val_batch_size, False, None, "val")
    metric_specs = [get_metric(m) for m in metrics]
    kind = output_kind(loss_fn)
    cbs = list(callbacks)
    ctx = setup_distributed(distributed, model, seed)  # None unless data-parallel
    if ctx is not None:
        loader, verbose = ctx.loader(loader), (verbose if ctx.is_main else 0)
        cbs.append(ctx)
    if scheduler is not None:
        cbs.append(LRScheduler(scheduler))
    if verbose:
        cbs.append(ProgressBar(bars=None if verbose == 1 else False))
    cbs.sort(key=lambda c: getattr(c, "order", 50))
    history = History()
    run = _Run(model, optimizer, loss_fn, loader, epochs, cbs, history)
    run.skip_nonfinite = ctx is None
    for cb in cbs:
        cb.run = run
    resume = None
    if resume_from is not None:
        resume = load(resume_from)
        if not isinstance(resume, dict) or resume.get("format") != FORMAT:
            raise ValueError(f"fit: {resume_from!r} is not a training checkpoint (write one "
                             "with fit(checkpoint=...) or ModelCheckpoint)")
        restore(run, resume)
    start_epoch, start_batch = run.position
    bs = getattr(loader, "batch_size", None) or batch_size or 1
    guard = SigintGuard()  # shares an enclosing guard (e.g. chainrule train's) if any
    with guard as sigint, blas_threads(threads, model, bs):
        _call(cbs, "on_train_begin", {})
        model.train()
        for epoch in range(start_epoch, epochs):
            resuming = resume is not None and epoch == start_epoch and start_batch > 0
            if ctx is not None:  # every rank decides on the same flags (no rank left waiting)
                ctx.agree(sigint, run)
            if sigint.flag and not resuming:  # Ctrl-C before this epoch started
                run.position, run.partial = (epoch, 0), None
                _interrupted(run, checkpoint if ctx is None or ctx.is_main else None,
                             epoch, 0, verbose and guard.owner)
                break
            _call(cbs, "on_epoch_begin", epoch, {})
            t0 = time.perf_counter()
            acc = _Accumulator(bool(metric_specs))
            b = 0
            if resuming:
                acc = _Accumulator(bool(metric_specs), resume["partial"])
                run.epoch_rng = resume["epoch_rng"]
                set_rng_states(run, run.epoch_rng)
                it = iter(loader)
                for _ in range(start_batch):  # the first next() draws the epoch's order
                    next(it)
                set_rng_states(run, resume["rng"])
                b = start_batch
            else:
                run.epoch_rng = rng_states(run)
                it = iter(loader)
            for batch in it:
                if sigint.flag and ctx is None:  # (data-parallel: decided after each batch)
                    break
                _call(cbs, "on_batch_begin", b, {})
                inputs, y = split_batch(batch)
                value, out = run.step(inputs, y)
                if history.initial_loss is None:
                    history.initial_loss = value
                if not math.isfinite(value):
                    stop_at_nonfinite(run, epoch, b, value, inputs, y)
                acc.add(value, out, y)
                run.running_loss = acc.loss
                b += 1
                _call(cbs, "on_batch_end", b - 1, {"loss": value, "size": int(y.shape[0])})
                if ctx is not None:
                    ctx.agree(sigint, run)
                if sigint.flag or run.stop_training:
                    break
            if ctx is not None:
                ctx.reduce(acc)
            if sigint.flag:
                run.position, run.partial = (epoch, b), acc.state()
                _interrupted(run, checkpoint if ctx is None or ctx.is_main else None,
                             epoch, b, verbose and guard.owner)
                break
            logs = {"loss": acc.loss}
            if metric_specs:
                logs.update(compute_metrics(metric_specs, kind, *acc.arrays()))
            if val_loader is not None:
                vl = evaluate(model, val_loader, loss=loss_fn, metrics=metric_specs,
                              _kind=kind)
                logs.update({"val_" + k: v for k, v in vl.items()})
                model.train()
            logs["lr"] = float(optimizer.param_groups[0]["lr"])
            logs["time"] = time.perf_counter() - t0
            history.append(epoch, logs)
            run.position, run.partial = (epoch + 1, 0), None
            _call(cbs, "on_epoch_end", epoch, logs)
            if checkpoint is not None and (ctx is None or ctx.is_main):
                save(capture(run), checkpoint)
            if run.stop_training:
                break
        _call(cbs, "on_train_end", history.last())
    return history


def _interrupted(run, checkpoint, epoch: int, batch: int, report: bool) -> None:
    """Ctrl-C: mark the history, write the checkpoint (if any) and, when ``fit`` owns the
    SIGINT handler, say so on stderr (an enclosing command reports it otherwise)."""
    run.history.interrupted = True
    if checkpoint is not None:
        save(capture(run), checkpoint)
        run.history.checkpoint = str(checkpoint)
    if report:
        where = (f"training state saved to {checkpoint} (resume with "
                 f"fit(..., resume_from={str(checkpoint)!r}))"
                 if checkpoint is not None else "no checkpoint written (pass "
                 "checkpoint=PATH to fit to save one)")
        print(f"\nchainrule.train: interrupted at epoch {epoch + 1}, batch {batch}; {where}",
              file=sys.stderr)


def _batches(model, data, batch_size):
    if isinstance(data, Tensor):
        for i in range(0, data.shape[0], batch_size):
            yield (data[i:i + batch_size],), None
        return
    for batch in as_loader(data, batch_size, False, None, "data"):
        yield split_batch(batch)


def evaluate(model, data, loss=None, metrics=(), batch_size: int = 1024, *, output=None,
             _kind=None) -> dict:
    """The mean loss and ``metrics`` of ``model`` on ``data`` (eval mode, no_grad).

    Args:
        data: a ``Dataset``, ``DataLoader`` or ``(X, y)`` tuple of tensors.
        loss: the loss (needed for ``"loss"``; also tells how to read the outputs).
        metrics: names or callables, as in ``fit``.
        output: how to read outputs when ``loss`` does not say: ``"logit"``, ``"prob"``,
            ``"multi"``, ``"log_rate"`` or ``"value"``.

    Returns: ``{"loss": ..., "accuracy": ..., ...}``.

    Example::

        evaluate(model, (X_test, y_test), loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    """
    if isinstance(data, Tensor):
        raise TypeError("evaluate: data must be (X, y), a Dataset or a DataLoader, got a single "
                        "tensor (use predict(model, X) for outputs)")
    specs = [m if isinstance(m, tuple) else get_metric(m) for m in metrics]
    loss_fn = None if loss is None else loss_module(loss)
    kind = _kind or output or (output_kind(loss_fn) if loss_fn is not None else None)
    was = model.training
    model.eval()
    acc = _Accumulator(True)
    try:
        with no_grad():
            for inputs, y in _batches(model, data, batch_size):
                out = model(*inputs)
                acc.add(float(loss_fn(out, y).item()) if loss_fn is not None else 0.0, out, y)
    finally:
        model.train(was)
    outs, ys = acc.arrays()
    if kind is None:
        kind = "multi" if outs.ndim == 2 and outs.shape[1] > 1 else "value"
    logs = {"loss": acc.loss} if loss_fn is not None else {}
    bad = ~np.isfinite(outs.reshape(len(outs), -1)).all(axis=1) \
        if outs.dtype.kind in "fc" and len(outs) else np.zeros(0, bool)
    if bad.any():  # a NaN output read as class 0 would still count as a prediction
        warnings.warn(f"evaluate: the model's output is not finite for {int(bad.sum())} of "
                      f"{len(bad)} rows; the metrics are nan", NonFiniteLossWarning,
                      stacklevel=2)
        logs.update({name: math.nan for name, _, _ in specs})
        return logs
    logs.update(compute_metrics(specs, kind, outs, ys))
    return logs


def predict(model, X, batch_size: int = 1024) -> Tensor:
    """``model(X)`` in eval mode under no_grad, computed ``batch_size`` rows at a time.

    Shape: ``X (N, *)`` -> the model's output ``(N, *)``.

    Example::

        logits = predict(model, X_test)
    """
    if not isinstance(X, Tensor):
        X = Tensor._make(np.ascontiguousarray(np.asarray(X, dtype=np.float32)), False, None, 0)
    check_finite([X], "predict", ["X"])
    was = model.training
    model.eval()
    try:
        with no_grad():
            outs = [_np(model(*inputs)) for inputs, _ in _batches(model, X, batch_size)]
    finally:
        model.train(was)
    if not outs:
        raise ValueError("predict: X has no rows")
    out = np.concatenate(outs)
    if out.dtype.kind in "fc" and not np.isfinite(out).all():
        rows = int((~np.isfinite(out.reshape(len(out), -1))).any(axis=1).sum())
        warnings.warn(f"predict: the model's output is not finite for {rows} of {len(out)} "
                      "rows (its weights may be NaN: did training diverge?)",
                      NonFiniteLossWarning, stacklevel=2)
    return Tensor._make(out, False, None, 0)
