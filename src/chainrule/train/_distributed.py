"""Data-parallel ``fit``: what the training loop calls when it runs on N processes.

``fit(..., distributed=None)`` trains data-parallel when the process was started by an MPI
launcher with more than one process (``mpiexec -n N``, ``srun``, ``chainrule train
--nproc N``); ``distributed=True`` forces it (a plain run is then a job of one process),
``False`` never. Then:

* the process group is initialised (if the script has not done it) and the model is
  wrapped in ``DistributedDataParallel`` for the training steps (rank 0's weights are
  broadcast); the optimizer, checkpoints and evaluation use the model itself;
* **``batch_size`` is the global batch**: every process draws the same shuffled order (the
  shuffling generator is seeded alike) and takes rows ``r, r + N, ...`` of each batch's
  first ``N * (size // N)`` rows, so each process computes ``batch_size // N`` rows and the
  averaged gradient is the single-process gradient of the ``N * (batch_size // N)`` rows
  (a batch smaller than N, the tail of an epoch, is skipped). Training therefore matches
  single-process training, and a checkpoint resumes with any number of processes;
* a loader over a ``DistributedSampler`` or an ``IterableDataset`` (e.g. a
  ``chainrule.data.TableStream``, which shards itself) is used as it is, with
  ``set_epoch(epoch)`` called at each epoch;
* after each batch the processes agree (one small allreduce) on Ctrl-C and
  ``stop_training``, so they all stop at the same batch; the epoch's loss sum, row count and
  the outputs metrics need are reduced over all processes, so every process logs the same
  numbers and callbacks (early stopping, schedulers) decide alike;
* only rank 0 prints progress and writes checkpoints (atomically); validation runs on
  every process on the whole validation set (identical results, no communication); the
  global random generator is seeded ``seed + rank`` so dropout masks differ by process.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import distributed as dist
from ..distributed import mpi
from ..random import manual_seed
from ..tensor import Tensor
from ..utils.data import BatchSampler, DataLoader, IterableDataset, Sampler
from ..utils.data.distributed import DistributedSampler

__all__ = ["DistributedFit", "setup_distributed"]


def wanted(distributed) -> bool:
    if distributed is None:
        if dist.is_initialized():
            return dist.get_world_size() > 1
        return mpi.launched_size() > 1
    return bool(distributed)


def setup_distributed(distributed, model, seed):
    """A :class:`DistributedFit` when training data-parallel, else None."""
    if not wanted(distributed):
        return None
    return DistributedFit(model, seed)


class _RankBatches(Sampler):
    """This rank's rows of every global batch of ``base`` (a batch sampler)."""

    def __init__(self, base, rank: int, size: int):
        self.base, self.rank, self.size = base, rank, size

    def __iter__(self):
        batches = self.base._epoch_batches() if isinstance(self.base, BatchSampler) \
            else self.base
        for b in batches:
            b = np.asarray(b, dtype=np.int64)
            usable = b.size // self.size * self.size
            if usable:
                yield b[:usable][self.rank::self.size]

    def __len__(self) -> int:
        if isinstance(self.base, BatchSampler) and hasattr(self.base.sampler, "__len__"):
            n, bs = len(self.base.sampler), self.base.batch_size
            last = 0 if self.base.drop_last else n % bs
            return n // bs + (1 if last >= self.size else 0)
        return len(self.base)


class _EpochLoader:
    """A loader whose sampler or dataset hears ``set_epoch(epoch)`` before each epoch."""

    def __init__(self, loader, target, fit):
        self.loader, self.target, self.fit = loader, target, fit
        self.generator = getattr(loader, "generator", None)

    def __iter__(self):
        run = self.fit.run
        self.target.set_epoch(run.position[0] if run is not None else 0)
        return iter(self.loader)

    def __len__(self) -> int:
        return len(self.loader)


class DistributedFit:
    """The data-parallel side of one ``fit`` call (a callback without state)."""

    order = 1

    def __init__(self, model, seed):
        if not dist.is_initialized():
            dist.init_process_group("mpi")
        from ..nn.parallel import DistributedDataParallel

        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        self.ddp = DistributedDataParallel(model)
        self.run = None
        if seed is not None and self.rank:
            manual_seed(seed + self.rank)

    # -- the loader -----------------------------------------------------------------------
    def loader(self, loader):
        """Each rank's part of ``loader`` (see the module doc)."""
        if not isinstance(loader, DataLoader):
            return loader
        if isinstance(loader.dataset, IterableDataset):
            target = loader.dataset if hasattr(loader.dataset, "set_epoch") else None
            return loader if target is None else _EpochLoader(loader, target, self)
        if isinstance(loader.sampler, DistributedSampler):
            return _EpochLoader(loader, loader.sampler, self)
        if loader.batch_sampler is None:
            raise ValueError("fit(distributed=True): the DataLoader needs batches "
                             "(batch_size or batch_sampler)")
        bs = getattr(loader.batch_sampler, "batch_size", None)
        if bs is not None and bs < self.size:
            raise ValueError(f"fit: batch_size {bs} is smaller than the {self.size} processes; "
                             f"use a batch size of at least {self.size} (it is the global "
                             "batch, split over the processes)")
        if bs is not None and bs % self.size and self.is_main:
            warnings.warn(f"fit: batch_size {bs} is not a multiple of {self.size} processes: "
                          f"each process takes {bs // self.size} rows per step "
                          f"({bs // self.size * self.size} in all)", stacklevel=3)
        return DataLoader(loader.dataset,
                          batch_sampler=_RankBatches(loader.batch_sampler, self.rank, self.size),
                          collate_fn=loader.collate_fn, generator=loader.generator)

    # -- agreement and reductions -----------------------------------------------------------
    def agree(self, sigint, run) -> None:
        """All ranks stop at the same batch: Ctrl-C or ``stop_training`` on any rank."""
        flags = Tensor._make(np.array([bool(sigint.flag), bool(run.stop_training)]), False,
                             None, 0)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        sigint.flag, run.stop_training = bool(flags._data[0]), bool(flags._data[1])

    def reduce(self, acc) -> None:
        """Replace the epoch accumulator's local sums (and outputs) by all ranks'."""
        totals = Tensor._make(np.array([acc.loss_sum, float(acc.count)]), False, None, 0)
        dist.all_reduce(totals)
        acc.loss_sum, acc.count = float(totals._data[0]), int(round(totals._data[1]))
        if acc.keep and acc.outs:
            outs, ys = acc.arrays()
            acc.outs, acc.ys = [_gather_rows(outs)], [_gather_rows(ys)]

    # -- callback hooks -------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.run.net = self.ddp

    def on_train_end(self, logs=None):
        self.run.net = self.run.model
        self.ddp.reducer.remove()

    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


def _gather_rows(a: np.ndarray) -> np.ndarray:
    """Every rank's rows of ``a`` (same trailing shape and dtype), rank by rank."""
    n = dist.get_world_size()
    sizes = [None] * n
    dist.all_gather_object(sizes, int(a.shape[0]))
    m = max(sizes)
    padded = np.zeros((m,) + a.shape[1:], a.dtype)
    padded[:a.shape[0]] = a
    out = np.empty((n * m,) + a.shape[1:], a.dtype)
    dist.all_gather_into_tensor(Tensor._make(out, False, None, 0),
                                Tensor._make(padded, False, None, 0))
    return np.concatenate([out[r * m:r * m + sizes[r]] for r in range(n)])
