"""``fit``, ``evaluate``, ``predict``: a plain training loop that calls callbacks."""

from __future__ import annotations

import math
import sys
import time


from ..random import Generator, manual_seed
from ..serialization import load, save
from ._distributed import setup_distributed
from ._evaluate import _Accumulator, compute_metrics, evaluate
from ._finite import stop_at_nonfinite
from ._interrupt import SigintGuard
from ._setup import as_loader, loss_module, make_optimizer, needs_closure, split_batch
from .callbacks import LRScheduler, ProgressBar
from .checkpoint import FORMAT, capture, restore, rng_states, set_rng_states
from .history import History
from .metrics import get_metric
from .tasks import output_kind
from .threads import blas_threads

__all__ = ["fit"]


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
