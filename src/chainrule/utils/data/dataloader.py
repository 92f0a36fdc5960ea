"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches, like PyTorch's.

Fast path: when the dataset is a ``TensorDataset`` (or a ``Subset`` chain over one, as
``random_split`` makes) and the collate function is the default one, each batch is built by
indexing every underlying array once with the batch's whole index array, instead of fetching
and stacking samples one by one; the batches are identical to the generic path's. Keep
``num_workers=0`` for such data: a worker process only adds the cost of moving each batch.

``num_workers > 0`` loads in worker processes, as PyTorch does (``_worker_iter`` and
``_worker``): it pays off when ``__getitem__`` is expensive (decoding, augmentation, I/O).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from ...tensor import Tensor
from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, _tensor_arrays
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

from ._worker import get_worker_info

__all__ = ["DataLoader", "get_worker_info"]


def _max_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_context(ctx, num_workers: int):
    """``multiprocessing_context`` as torch validates it: None, a start method's name, or a
    context object; only with ``num_workers > 0``."""
    if ctx is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(ctx, str):
        methods = multiprocessing.get_all_start_methods()
        if ctx not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got multiprocessing_context={ctx!r}")
        return multiprocessing.get_context(ctx)
    if not isinstance(ctx, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got "
                        f"multiprocessing_context={ctx}")
    return ctx


class DataLoader:
    """Batches of samples from ``dataset``, reshuffled every epoch when ``shuffle=True``.

    Each ``iter(loader)`` is one epoch. With ``shuffle=True`` each epoch draws one fresh
    permutation from ``generator`` (a seeded ``chainrule.Generator`` makes the sequence of
    epochs reproducible); with ``generator=None`` it draws from the global generator, which
    ``chainrule.manual_seed`` seeds.

    Args:
        dataset: a map-style ``Dataset`` (anything with ``__getitem__`` and ``__len__``) or an
            ``IterableDataset``.
        batch_size: samples per batch (None: no batching, samples are only converted).
        shuffle: visit the samples in a new random order each epoch.
        sampler: the indices to visit (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler``, ``drop_last``).
        num_workers: worker processes that load batches (0: load in this process). The
            sampler stays here; whole batches are fetched and collated by the workers and
            come back through shared memory, in order.
        collate_fn: list of samples -> batch (default: ``default_collate``).
        pin_memory: accepted; a no-op on CPU (warns, as torch does without an accelerator).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: forever); then a
            RuntimeError.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: start method name or context (default: the one set with
            ``multiprocessing.set_start_method``, else ``"fork"`` on Linux);
            ``"spawn"``/``"forkserver"`` send the dataset by multiprocessing's pickling.
        generator: ``chainrule.Generator`` for shuffling, and for the workers' base seed:
            worker ``i`` seeds Python's ``random``, NumPy's global generator and chainrule's
            with ``base_seed + i`` (see ``get_worker_info``).
        prefetch_factor: batches each worker loads ahead (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        in_order: yield batches in sampler order (False: as soon as any is ready).

    Shape: with a ``TensorDataset`` of tensors ``(N, *)``, each batch is a list of tensors
    ``(B, *)`` with ``B = batch_size`` (the last one smaller unless ``drop_last``).

    Example::

        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True,
                            generator=cr.Generator().manual_seed(0))
        for xb, yb in loader:
            ...
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | None = None,
                 batch_sampler: Sampler | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             f"num_workers=0 to disable multiprocessing (got {num_workers!r})")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative (got {timeout})")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified with "
                             "num_workers > 0; leave it as None")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, "
                             f"got batch_size={batch_size!r}")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "sampler option")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "batch_sampler option")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._iterator = None
        self._epochs = 0  # iterators made with workers: part of each workers' base seed
        if num_workers > _max_workers():
            warnings.warn(
                f"This DataLoader will create {num_workers} worker processes in total. Our "
                f"suggested max number of worker in current system is {_max_workers()}, which "
                "is smaller than what this DataLoader is going to create. Please be aware "
                "that excessive worker creation might get DataLoader running slow or even "
                "freeze, lower the worker number to avoid potential slowness/freeze if "
                "necessary.", UserWarning, stacklevel=2)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or self.batch_size is not None

    def _collate(self, samples):
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        return default_collate(samples) if self._auto_collation else default_convert(samples)

    def __iter__(self) -> Iterator:
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=2)
        if self.num_workers > 0:
            return self._worker_iter()
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        if self._auto_collation:
            fast = None
            if self.collate_fn is None or self.collate_fn is default_collate:
                fast = _tensor_arrays(self.dataset)
            if fast is not None:
                return self._iter_fast(*fast)
            return self._iter_batches()
        return (self._collate(self.dataset[i]) for i in self.sampler)

    def _worker_iter(self):
        from ._worker_iter import WorkerIter

        if not self.persistent_workers:
            return WorkerIter(self)
        it = self._iterator
        if it is None or it._closed:
            it = self._iterator = WorkerIter(self)
        else:
            it._reset()
        return it

    def _batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._epoch_batches()
        return (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)

    def _iter_fast(self, arrays, index_map):
        for idx in self._batches():
            if index_map is not None:
                idx = index_map[idx]
            yield [Tensor._make(a[idx], False, None, 0) for a in arrays]

    def _iter_batches(self):
        getitems = getattr(self.dataset, "__getitems__", None)
        for idx in self.batch_sampler:
            if callable(getitems):
                samples = getitems(list(idx))
            else:
                samples = [self.dataset[i] for i in idx]
            yield self._collate(samples)

    def _iter_stream(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self._collate(sample)
            return
        batch = []
        for sample in it:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self._collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield self._collate(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {self._len_str()}, "
                f"batch_size={self.batch_size}, drop_last={self.drop_last})")

    def _len_str(self) -> str:
        try:
            return f"{len(self.dataset)} samples"
        except TypeError:
            return "unknown length"
