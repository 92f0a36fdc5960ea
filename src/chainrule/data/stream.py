"""Data larger than memory: CSV and Parquet streamed in record batches through pyarrow.

    from chainrule.data import scan_table
    scan = scan_table("big.csv", target="y", val_split=0.1)   # one pass: schema + statistics
    train = scan.stream("train", batch_size=256, shuffle=True, seed=0)   # an IterableDataset
    for epoch in range(10):
        train.set_epoch(epoch)
        for X, y in train:            # float32 (B, F) and the encoded target
            ...
    X_val, y_val = scan.load("val", max_rows=50_000)         # a bounded in-memory sample

``scan_table`` makes one pass (see ``_stream_scan``): the schema, each row's split, the
categories, means and standard deviations — a fitted ``Preprocessor`` that is saved with a
run like ``load_csv``'s. ``TableStream`` then re-reads the file each epoch:

* **Bounded memory**: one record batch (``block_size`` bytes of text for CSV), a shuffle
  buffer of ``buffer_rows`` rows, and the batch being built.
* **Shuffled within a buffer**: each record batch goes into a buffer of ``buffer_rows``
  rows; as many rows as came in leave it, chosen uniformly at random among those held
  (their places are refilled from the end, so the buffer is allocated once), and at the
  end of the epoch the rest leave in random order. The choices are drawn from ``seed``,
  the epoch (``set_epoch``) and the shard: reproducible.
* **Sharded by rank and DataLoader worker**: with R ranks (``chainrule.distributed``) and
  W workers (``utils.data.get_worker_info()``) there are S = R * W shards and shard
  ``rank * W + worker`` takes the split's rows ``j`` with ``j % S`` equal to it. Every
  shard parses the whole file (CSV has no random access) and keeps its rows.
* **Exact epoch boundaries**: every shard yields ``ceil(n / S)`` rows per epoch (a shard one
  row short repeats its first row, as ``DistributedSampler`` pads), or ``floor(n / S)``
  with ``drop_last``; so every rank runs the same number of batches — data-parallel
  training needs it — and ``len(stream)`` is exact.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from ..utils.data import IterableDataset, get_worker_info
from . import _stream_scan as S
from ._table import NA_VALUES, DataError

__all__ = ["TableScan", "TableStream", "scan_table"]


def _shard_default():
    """(number of shards, this shard) from the process group and the DataLoader worker."""
    from .. import distributed as dist

    ranks, rank = (dist.get_world_size(), dist.get_rank()) if dist.is_initialized() else (1, 0)
    info = get_worker_info()
    workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
    return ranks * workers, rank * workers + worker


class TableScan:
    """What ``scan_table`` learned: ``preprocessor`` (fitted), ``task``, ``classes``,
    ``info`` (rows read/kept/dropped, split sizes, schema). ``to_dict()`` is JSON."""

    def __init__(self, source, fmt, block_size, pre, info):
        self.source, self.format, self.block_size = source, fmt, block_size
        self.preprocessor, self.info = pre, info
        self.target, self.task, self.classes = pre.target, pre.task, pre.classes
        self.n_features = len(pre.feature_names)

    def stream(self, split: str = "train", **kwargs) -> TableStream:
        """A :class:`TableStream` over the rows of ``split``."""
        return TableStream(self, split, **kwargs)

    def load(self, split, max_rows: int | None = None):
        """The first ``max_rows`` rows of ``split`` in file order as ``(X, y)`` tensors; a
        list of splits gives a dict of them, read in one pass (arrays allocated once)."""
        names = [split] if isinstance(split, str) else list(split)
        stream = TableStream(self, names[0], shuffle=False, num_shards=1, shard=0)
        sizes = {k: self.info["splits"][k] if max_rows is None
                 else min(max_rows, self.info["splits"][k]) for k in names}
        arrays = {k: (np.empty((n, self.n_features), np.float32),
                      np.empty(n, stream._y_dtype()), [0]) for k, n in sizes.items()}
        for k, X, y in stream._rows(names):
            Xs, ys, filled = arrays[k]
            m = min(X.shape[0], sizes[k] - filled[0])
            Xs[filled[0]:filled[0] + m], ys[filled[0]:filled[0] + m] = X[:m], y[:m]
            filled[0] += m
            if all(a[2][0] >= sizes[j] for j, a in arrays.items()):
                break
        out = {k: (Tensor._make(Xs[:f[0]], False, None, 0), Tensor._make(ys[:f[0]], False,
                                                                        None, 0))
               for k, (Xs, ys, f) in arrays.items()}
        return out[split] if isinstance(split, str) else out

    def to_dict(self) -> dict:
        return {"format": self.format, "target": self.target, **self.info}

    def __repr__(self) -> str:
        i = self.info
        return (f"TableScan({i['rows_read']} rows, {self.n_features} features, task="
                f"{self.task!r}, splits={i['splits']})")


def scan_table(source, target: str, *, features=None, categorical=(), task: str = "auto",
               val_split: float = 0.0, test_split: float = 0.2, seed: int = 0,
               max_classes: int = 10, max_categories: int = 50, format: str | None = None,
               block_size: int = 1 << 20, na_values=NA_VALUES) -> TableScan:
    """One streaming pass over a CSV/Parquet file (or directory / list of files): schema,
    splits, categories and training-row statistics, in memory bounded by ``block_size``.

    Args: as ``load_csv`` (``target``, ``features``, ``categorical``, ``task``,
        ``val_split``, ``test_split``, ``seed``, ``max_classes``, ``max_categories``);
        ``format``: ``"csv"`` or ``"parquet"`` (default: from the file name);
        ``block_size``: bytes of CSV text per record batch.

    Example::

        scan = scan_table("big.parquet", target="label", test_split=0.1)
        scan.preprocessor.to_dict()     # saved with a run
    """
    for name, v in (("val_split", val_split), ("test_split", test_split)):
        if not 0 <= v < 1:
            raise ValueError(f"scan_table: {name} must be a fraction in [0, 1), got {v}")
    if val_split + test_split >= 1:
        raise ValueError("scan_table: val_split + test_split must stay below 1")
    dataset, fmt = S.open_dataset(source, format, int(block_size))
    pre, info = S.scan(dataset, fmt, target, None if features is None else list(features),
                       set(categorical or ()), task, val_split, test_split, seed, max_classes,
                       max_categories, tuple(na_values))
    return TableScan(source, fmt, int(block_size), pre, info)


class TableStream(IterableDataset):
    """Batches ``(X, y)`` of one split of a scanned table, streamed each epoch (see the module
    doc). Use directly, or through ``DataLoader(stream, batch_size=None)``.

    Args:
        scan: a :class:`TableScan`.
        split: ``"train"``, ``"val"`` or ``"test"``.
        batch_size: rows per batch (the last one smaller unless ``drop_last``).
        shuffle: shuffle within a buffer of ``buffer_rows`` rows.
        seed: shuffling seed (the same on every rank).
        buffer_rows: shuffle buffer size (memory: ``buffer_rows * (4 F + 8)`` bytes and one
            record batch).
        drop_last: drop a final partial batch, and cut shards to ``floor(n / S)`` rows.
        num_shards, shard: override the rank/worker sharding.
        transform: ``fn(X, y) -> batch`` applied to each batch of tensors.

    Shape: ``X`` float32 ``(B, F)``; ``y`` int64 ``(B,)`` class indices or float32 ``(B,)``.
    """

    def __init__(self, scan: TableScan, split: str = "train", *, batch_size: int = 256,
                 shuffle: bool = True, seed: int = 0, buffer_rows: int = 65536,
                 drop_last: bool = False, num_shards: int | None = None,
                 shard: int | None = None, transform=None):
        if split not in S.SPLITS:
            raise ValueError(f"TableStream: split must be one of {S.SPLITS}, got {split!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"TableStream: batch_size must be a positive int, got {batch_size!r}")
        self.scan, self.split, self.batch_size = scan, split, batch_size
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.buffer_rows = max(int(buffer_rows), batch_size)
        self.num_shards, self.shard, self.transform = num_shards, shard, transform
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Shuffle with the permutations of epoch ``epoch`` (call before each epoch)."""
        self.epoch = int(epoch)

    def _shards(self):
        if self.num_shards is not None:
            return int(self.num_shards), int(self.shard or 0)
        return _shard_default()

    def shard_rows(self) -> int:
        """Rows this shard yields per epoch."""
        n = self.scan.info["splits"][self.split]
        shards, _ = self._shards()
        return n // shards if self.drop_last else math.ceil(n / shards)

    def __len__(self) -> int:
        m = self.shard_rows()
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)

    def _y_dtype(self):
        return np.int64 if self.scan.classes is not None else np.float32

    def _encode(self, batch, keep):
        pre = self.scan.preprocessor
        n = int(keep.sum())
        X = np.empty((n, len(pre.feature_names)), np.float32)
        j = 0
        for name in pre.features:
            col = batch.column(name).filter(keep)
            if name in pre.categories:
                cats = pre.categories[name]
                idx = _index_in(S.as_text(col), cats)
                block = np.zeros((n, len(cats)), np.float32)
                ok = idx >= 0
                block[np.flatnonzero(ok), idx[ok]] = 1.0
                X[:, j:j + len(cats)] = block
                j += len(cats)
            else:
                x = S.as_numbers(col)
                if x is None:
                    raise DataError(f"column {name!r} has a non-number value in a later pass "
                                    "(the file changed since scan_table?)")
                X[:, j] = (x - pre.mean[name]) / pre.std[name]
                j += 1
        return X, self._target(batch.column(pre.target).filter(keep))

    def _target(self, col):
        classes = self.scan.classes
        if classes is None:
            return S.as_numbers(col).astype(np.float32)
        if all(isinstance(c, (int, float)) for c in classes):
            values = S.as_numbers(col)
            if values is not None:
                idx = np.searchsorted(np.array(classes, float), values)
                idx = np.minimum(idx, len(classes) - 1)
                if np.array_equal(np.array(classes, float)[idx], values):
                    return idx.astype(np.int64)
        idx = _index_in(S.as_text(col), [str(c) for c in classes])
        if (idx < 0).any():
            raise DataError(f"target {self.scan.target!r}: a value that is not one of the "
                            f"classes {classes}")
        return idx.astype(np.int64)

    def _rows(self, splits=None):
        """(X, y) arrays of this split's rows in file order, whole record batches; with
        ``splits`` (a list), ``(split, X, y)`` for each of them."""
        scan = self.scan
        pre = scan.preprocessor
        dataset, _ = S.open_dataset(scan.source, scan.format, scan.block_size)
        wanted = [self.split] if splits is None else list(splits)
        codes = [S.SPLITS.index(k) for k in wanted]
        info = scan.info
        start = 0
        for batch in S.batches(dataset, pre.features + [pre.target]):
            n = batch.num_rows
            keep = np.ones(n, bool)
            for name in [pre.target] + pre.features:
                keep &= ~S.missing_mask(batch.column(name), pre.na_values)
            split = S.split_of(np.arange(start, start + n), info["seed"], info["val_split"],
                               info["test_split"])
            start += n
            for name, code in zip(wanted, codes):
                mine = keep & (split == code)
                if mine.any():
                    X, y = self._encode(batch, mine)
                    yield (X, y) if splits is None else (name, X, y)

    def __iter__(self):
        shards, me = self._shards()
        quota = self.shard_rows()
        rng = np.random.default_rng([self.seed, self.epoch, me])
        buf = _ShuffleBuffer(min(self.buffer_rows, quota) if self.shuffle else 0, rng)
        out = _Batcher(self.batch_size)
        seen = taken = 0
        first = None
        for X, y in self._rows():
            pick = (np.arange(seen, seen + X.shape[0]) % shards) == me
            seen += X.shape[0]
            if not pick.all():
                X, y = X[pick], y[pick]
            if X.shape[0] == 0:
                continue
            if first is None:
                first = (X[:1].copy(), y[:1].copy())
            take = min(X.shape[0], quota - taken)
            if take <= 0:
                break
            taken += take
            out.add(buf.push(X[:take], y[:take]))
            yield from self._emit(out.full())
        if first is None and quota > 0:
            raise DataError(f"TableStream: shard {me} of {shards} got no {self.split} rows "
                            f"(the split has {self.scan.info['splits'][self.split]}); use "
                            "fewer processes or workers")
        if quota > taken:  # pad a shard one row short with its first row
            out.add(buf.push(np.repeat(first[0], quota - taken, 0),
                             np.repeat(first[1], quota - taken, 0)))
        for part in buf.drain(self.batch_size):
            out.add(part)
            yield from self._emit(out.full())
        yield from self._emit(out.rest(self.drop_last))

    def _emit(self, batches):
        for X, y in batches:
            xb = Tensor._make(X, False, None, 0)
            yb = Tensor._make(y, False, None, 0)
            yield (xb, yb) if self.transform is None else self.transform(xb, yb)


class _ShuffleBuffer:
    """Holds at most ``rows`` rows (plus one incoming record batch) in arrays allocated once;
    ``push`` returns the rows that leave it: a uniformly random choice of the rows held
    (the holes are filled with the last rows, so memory never grows), or — with ``rows=0``
    (no shuffling) — the rows pushed, in order."""

    def __init__(self, rows: int, rng):
        self.rows, self.rng = rows, rng
        self.X = self.y = None
        self.n = 0

    def push(self, X, y):
        m = X.shape[0]
        if self.rows == 0:
            return X, y
        if self.X is None or self.n + m > self.X.shape[0]:
            cap = max(self.n + m, self.rows + 2 * m)
            X2, y2 = np.empty((cap,) + X.shape[1:], X.dtype), np.empty((cap,) + y.shape[1:],
                                                                        y.dtype)
            if self.n:
                X2[:self.n], y2[:self.n] = self.X[:self.n], self.y[:self.n]
            self.X, self.y = X2, y2
        self.X[self.n:self.n + m], self.y[self.n:self.n + m] = X, y
        self.n += m
        k = self.n - self.rows
        return self._take(k) if k > 0 else None

    def _take(self, k: int):
        n = self.n
        idx = self.rng.choice(n, size=k, replace=False)
        leaving = (self.X[idx], self.y[idx])
        gone = np.zeros(n, bool)
        gone[idx] = True
        holes = np.flatnonzero(gone[:n - k])
        movers = np.flatnonzero(~gone[n - k:]) + (n - k)
        self.X[holes], self.y[holes] = self.X[movers], self.y[movers]
        self.n = n - k
        return leaving

    def drain(self, block: int):
        """The rows still held, in random order, ``block`` rows at a time."""
        if self.n:
            order = self.rng.permutation(self.n)
            for i in range(0, self.n, block):
                j = order[i:i + block]
                yield self.X[j], self.y[j]
        self.X = self.y = None
        self.n = 0


class _Batcher:
    """Cuts the rows it is given into batches of exactly ``size`` rows."""

    def __init__(self, size: int):
        self.size, self.parts, self.n = size, [], 0

    def add(self, part) -> None:
        if part is not None and part[0].shape[0]:
            self.parts.append(part)
            self.n += part[0].shape[0]

    def full(self):
        if self.n < self.size:
            return
        X = np.concatenate([p[0] for p in self.parts]) if len(self.parts) > 1 \
            else self.parts[0][0]
        y = np.concatenate([p[1] for p in self.parts]) if len(self.parts) > 1 \
            else self.parts[0][1]
        cut = self.n // self.size * self.size
        for i in range(0, cut, self.size):
            yield np.ascontiguousarray(X[i:i + self.size]), np.ascontiguousarray(y[i:i + self.size])
        self.parts = [(X[cut:], y[cut:])] if cut < self.n else []
        self.n -= cut

    def rest(self, drop_last: bool):
        yield from self.full()
        if self.n and not drop_last:
            X = np.concatenate([p[0] for p in self.parts])
            y = np.concatenate([p[1] for p in self.parts])
            yield X, y
        self.parts, self.n = [], 0


def _index_in(text_col, values) -> np.ndarray:
    """Position of each value in ``values`` (-1 when absent or null)."""
    pa, pc, _, _ = S.pyarrow_modules()
    idx = pc.index_in(text_col, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), np.int64)
