"""Samplers (``torch.utils.data``): which dataset indices an epoch visits, in what order.

Every sampler draws its randomness from its ``generator`` (a ``chainrule.Generator``; the
global default generator when None) once per ``iter()``, so a seeded generator makes the whole
sequence of epochs reproducible while each epoch gets a fresh order. ``_epoch_indices()``
returns one epoch as a NumPy array; ``__iter__`` yields the same indices as Python ints (the
``DataLoader`` uses the array form to avoid per-sample Python work).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ...random import _gen
from ...tensor import Tensor

__all__ = [
    "BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _positive_int(value, name: str, cls: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{cls}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")
    return int(value)


def _bool(value, name: str, cls: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{cls}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def _epoch_indices(self) -> np.ndarray:
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices: a fresh permutation each epoch, or draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices independently (with replacement).
        num_samples: indices per epoch (default ``len(data_source)``); without replacement,
            more than ``len(data_source)`` chains several permutations.
        generator: ``chainrule.Generator`` for the draws (default: the global generator).

    Example::

        g = cr.Generator().manual_seed(0)
        list(RandomSampler(range(5), generator=g))   # e.g. [3, 0, 4, 1, 2]
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source = data_source
        self.replacement = _bool(replacement, "replacement", "RandomSampler")
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _epoch_indices(self) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        gen = _gen(self.generator)
        if n == 0:
            return np.zeros(0, np.int64)
        if self.replacement:
            return gen.integers(0, n, (k,)).astype(np.int64)
        parts = [gen.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(gen.permutation(n)[: k % n])
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order each epoch (no replacement)."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        perm = _gen(self.generator).permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)[perm]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0..len(weights)-1`` drawn with probability proportional to ``weights``.

    ``P(i) = w_i / sum_j w_j``. Without replacement each index appears at most once (drawn
    one after another in proportion to the remaining weights).

    Args:
        weights: non-negative weights, one per sample (need not sum to 1).
        num_samples: indices per epoch.
        replacement: draw with replacement (default True).
        generator: ``chainrule.Generator`` for the draws.

    Example::

        # oversample the rare class: weight each sample by 1 / count(its class)
        w = 1.0 / counts[labels]
        sampler = WeightedRandomSampler(w, num_samples=len(w))
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _bool(replacement, "replacement", "WeightedRandomSampler")
        w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError("WeightedRandomSampler: weights should be a 1d sequence but given "
                             f"weights have shape {tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw num_samples={self.num_samples} without "
                f"replacement from {np.count_nonzero(w)} samples with non-zero weight"
            )
        self.weights = Tensor._make(w, False, None, 0)
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        w = self.weights._data
        u = _gen(self.generator).random((self.num_samples if self.replacement else w.size,))
        if self.replacement:
            # inverse CDF: the first index whose cumulative weight exceeds u * total
            cdf = np.cumsum(w)
            idx = np.searchsorted(cdf, u * cdf[-1], side="right")
            return np.minimum(idx, w.size - 1).astype(np.int64)
        # Efraimidis-Spirakis: the k largest keys u_i^(1 / w_i) are a weighted draw
        # without replacement; log keys avoid underflow, zero weights get -inf.
        with np.errstate(divide="ignore"):
            keys = np.log(u) / w
        keys[w == 0] = -np.inf
        return np.argsort(-keys, kind="stable")[: self.num_samples].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices (a ``Sampler``, a list, a range ...).
        batch_size: indices per batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example::

        list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
        # [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _bool(drop_last, "drop_last", "BatchSampler")

    def _array_sampler(self) -> bool:
        """True when the sampler is a built-in one that can hand over a whole epoch as an array."""
        return type(self.sampler) in _ARRAY_SAMPLERS

    def _epoch_batches(self) -> list[np.ndarray]:
        """One epoch as a list of index arrays (the same indices ``__iter__`` yields)."""
        if self._array_sampler():
            idx = self.sampler._epoch_indices()
            bs = self.batch_size
            stop = (idx.size // bs) * bs if self.drop_last else idx.size
            return [idx[i:i + bs] for i in range(0, stop, bs)]
        return [np.asarray(b, dtype=np.int64) for b in self]

    def __iter__(self) -> Iterator[list]:
        if self._array_sampler():
            for b in self._epoch_batches():
                yield b.tolist()
            return
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_ARRAY_SAMPLERS = (SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler)
