"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches, like PyTorch's.

Fast path: when the dataset is a ``TensorDataset`` (or a ``Subset`` chain over one, as
``random_split`` makes) and the collate function is the default one, each batch is built by
indexing every underlying array once with the batch's whole index array, instead of fetching
and stacking samples one by one; the batches are identical to the generic path's.

``num_workers > 0`` is accepted for compatibility but loading always runs in the calling
process (NumPy indexing is fast, and chainrule avoids pickling datasets to worker processes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ...tensor import Tensor
from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info():
    """Always None: chainrule loads data in the main process."""
    return None


def _tensor_arrays(dataset):
    """(arrays, index map) when batches can be cut straight from arrays, else None."""
    index_map = None
    while isinstance(dataset, Subset):
        idx = np.asarray(dataset.indices, dtype=np.int64).reshape(-1)
        index_map = idx if index_map is None else idx[index_map]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    if any(t.requires_grad for t in dataset.tensors):
        return None
    return [t._data for t in dataset.tensors], index_map


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
        num_workers: accepted for compatibility; loading runs in this process.
        collate_fn: list of samples -> batch (default: ``default_collate``).
        pin_memory: accepted and ignored (CPU only).
        drop_last: drop the last incomplete batch.
        generator: ``chainrule.Generator`` for shuffling.

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

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or self.batch_size is not None

    def _collate(self, samples):
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        return default_collate(samples) if self._auto_collation else default_convert(samples)

    def __iter__(self) -> Iterator:
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
