"""``DistributedSampler``: each process of a data-parallel job visits its own share of a
dataset (``torch.utils.data.distributed``)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that process ``rank`` of ``num_replicas`` visits in an epoch.

    PyTorch's partition: the epoch's order (a permutation seeded with ``seed + epoch`` when
    ``shuffle``, else ``0..n-1``) is padded by repeating its start to ``total_size`` (a
    multiple of ``num_replicas``) — or cut to it with ``drop_last`` — and process r takes
    positions ``r, r + R, r + 2R, ...``. Every process draws the same permutation, so the
    shares are disjoint and together cover every index (the padding repeats a few). Call
    ``set_epoch(e)`` at the start of each epoch, or every epoch reuses one order. (The
    permutation comes from ``chainrule.Generator``, so it is not PyTorch's; the structure —
    ``num_samples``, ``total_size``, padding, interleaving — is the same.)

    ``num_samples = ceil(n / R)`` (``ceil((n - R) / R)`` with ``drop_last`` when R does not
    divide n); ``total_size = num_samples * R``.

    Args:
        dataset: the dataset (its length is used).
        num_replicas: number of processes (default: ``distributed.get_world_size()``).
        rank: this process' rank (default: ``distributed.get_rank()``).
        shuffle: a new seeded permutation each epoch.
        seed: must be the same on every process.
        drop_last: cut the tail instead of padding it.

    Example::

        sampler = DistributedSampler(train_ds, shuffle=True, seed=0)
        loader = DataLoader(train_ds, batch_size=64, sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for xb, yb in loader:
                ...
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) \
                or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, "
                             f"got {num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = bool(shuffle)
        self.seed = int(seed)

    def _epoch_indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            from ...random import Generator

            g = Generator().manual_seed(self.seed + self.epoch)
            order = g.permutation(n).astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                order = np.concatenate([order, np.resize(order, pad)]) if n else order
        else:
            order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``seed + epoch`` from now on (call it before each epoch)."""
        self.epoch = int(epoch)
