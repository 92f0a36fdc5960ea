"""One streaming pass over a CSV or Parquet dataset: schema, splits and preprocessing
statistics (the ``scan_table`` half of ``chainrule.data.stream``).

The pass reads the file in record batches (see :class:`Source`; every column as text for
CSV, so a late non-numeric value cannot break a typed reader) and keeps only
running aggregates: per column the count, mean and sum of squared deviations of the
numbers (Chan's parallel update), whether every value parsed as a number, and up to
``max_categories + 1`` distinct values; the distinct target values (up to 10,000); the row
counts. Memory is one record batch plus these aggregates, whatever the file size.

Rows follow ``load_csv``'s rules — missing target or feature: dropped; numeric column:
every value parses as a number; other columns: one-hot over their sorted categories
(more than ``max_categories`` looks like free text); the target's task inferred the same
way — with one difference: the train/validation/test split is decided per row by a hash
of ``(seed, row number)`` (not stratified), so any pass over the file can tell a row's
split without holding the file. Means and standard deviations come from training rows.
"""

from __future__ import annotations

import os

import numpy as np

from ._table import NA_VALUES, DataError, DataFileNotFoundError
from .preprocess import Preprocessor

MAX_TARGET_VALUES = 10_000
SPLITS = ("train", "val", "test")


def pyarrow_modules():
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
        import pyarrow.dataset as pds
    except ImportError as e:
        raise ImportError(f"chainrule.data.stream needs pyarrow: pip install pyarrow ({e})") \
            from None
    return pa, pc, pcsv, pds


class Source:
    """The files of a CSV or Parquet dataset and how to read them in bounded batches.

    ``pyarrow.dataset`` finds the files (a file, a directory, a list) and the schema, but
    its scanner reads CSV ahead without bound when the consumer is slower than the parser
    (measured: a 270 MiB arrow pool for a 200 MB file), so batches come from
    ``pyarrow.csv.open_csv`` (a bounded read-ahead, about 35 MiB, every column as text,
    null for the NA tokens) and ``pyarrow.parquet.ParquetFile.iter_batches`` (one row group
    at a time).
    """

    def __init__(self, files, fmt, block_size, names, types):
        self.files, self.format, self.block_size = files, fmt, block_size
        self.names, self.types = names, types

    def batches(self, columns):
        """Record batches of ``columns`` in file order, one at a time."""
        pa, _, pcsv, _ = pyarrow_modules()
        for path in self.files:
            if self.format == "parquet":
                import pyarrow.parquet as pq

                rows = max(1024, self.block_size // 64)
                yield from pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns)
                continue
            convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in self.names},
                                          include_columns=columns, null_values=list(NA_VALUES),
                                          strings_can_be_null=True,
                                          quoted_strings_can_be_null=True)
            read = pcsv.ReadOptions(block_size=self.block_size, use_threads=False)
            yield from pcsv.open_csv(path, read_options=read, convert_options=convert)


def open_dataset(source, fmt: str | None, block_size: int) -> tuple[Source, str]:
    """The :class:`Source` of ``source`` (a file, a directory or a list of files)."""
    _, _, pcsv, pds = pyarrow_modules()
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    for p in paths:
        if not os.path.exists(p):
            raise DataFileNotFoundError(f"data file not found: {p}")
    first = os.fspath(paths[0])
    if fmt is None:
        probe = first if os.path.isfile(first) else next(
            (os.path.join(d, f) for d, _, fs in os.walk(first) for f in sorted(fs)), first)
        fmt = "parquet" if probe.endswith((".parquet", ".pq")) else "csv"
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"stream: format must be 'csv' or 'parquet', got {fmt!r}")
    files = pds.dataset([os.fspath(p) for p in paths] if len(paths) > 1 else first,
                        format=fmt if fmt == "parquet" else pds.CsvFileFormat()).files
    if not files:
        raise DataError(f"no {fmt} files in {source}")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(files[0])
        names, types = schema.names, [str(t) for t in schema.types]
    else:
        names = pcsv.open_csv(files[0], read_options=pcsv.ReadOptions(
            block_size=min(block_size, 1 << 16))).schema.names
        types = ["string"] * len(names)
    return Source(files, fmt, block_size, names, types), fmt


def batches(dataset, columns):
    """Record batches in file order, one at a time (bounded memory)."""
    return dataset.batches(columns)


def as_text(col):
    """A column as trimmed text, nulls kept (numbers from Parquet become text too)."""
    pa, pc, _, _ = pyarrow_modules()
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = pc.cast(col, pa.string())
    return pc.utf8_trim_whitespace(col)


def missing_mask(col, na_values) -> np.ndarray:
    pa, pc, _, _ = pyarrow_modules()
    text = as_text(col)
    bad = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=pa.array(list(na_values))))
    return np.asarray(pc.fill_null(bad, True).to_numpy(zero_copy_only=False), bool)


def as_numbers(col):
    """Float64 NumPy values of a column, or None when some value is not a number."""
    pa, pc, _, _ = pyarrow_modules()
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), float)
    try:
        return np.asarray(pc.cast(as_text(col), pa.float64()).to_numpy(zero_copy_only=False),
                          float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def split_of(rows: np.ndarray, seed: int, val: float, test: float) -> np.ndarray:
    """0 (train), 1 (val) or 2 (test) per row number, from a splitmix64 hash of
    ``(seed, row)``: the same rows land in the same split on every pass and process."""
    with np.errstate(over="ignore"):
        z = rows.astype(np.uint64) + np.uint64(seed * 0x9E3779B97F4A7C15 % (1 << 64))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.where(u < 1 - val - test, 0, np.where(u < 1 - test, 1, 2)).astype(np.int8)


class _Column:
    """Running aggregates of one feature column."""

    def __init__(self):
        self.numeric = True
        self.values: set = set()
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, text_values, numbers, train_mask, cap):
        if len(self.values) <= cap:
            self.values.update(text_values)
        if self.numeric and numbers is None:
            self.numeric = False
        if self.numeric:
            x = numbers[train_mask]
            if x.size:  # Chan et al.: merge (n, mean, M2) of this batch into the totals
                mean_b = float(x.mean())
                m2_b = float(((x - mean_b) ** 2).sum())
                n = self.n + x.size
                delta = mean_b - self.mean
                self.mean += delta * x.size / n
                self.m2 += m2_b + delta * delta * self.n * x.size / n
                self.n = n


def infer_task(name, values, task, max_classes, too_many):
    """``load_csv``'s target rules on the distinct target values: (task, classes)."""
    try:
        nums = np.array([float(v) for v in values])
        numeric = True
    except ValueError:
        numeric = False
    integer = numeric and bool(np.all(nums == np.round(nums)))
    if task in ("regression", "count") or (too_many and numeric and task == "auto"):
        if not numeric:
            raise DataError(f"target {name!r} is not numeric; task={task!r} needs numbers")
        if task == "count" or (task == "auto" and integer and nums.min() >= 0):
            return "count", None
        return "regression", None
    if too_many:
        raise DataError(f"target {name!r} has more than {MAX_TARGET_VALUES} distinct text "
                        "values: not classes")
    labels = sorted({int(v) if integer else float(v) for v in nums}) if numeric \
        else sorted(set(values))
    k = len(labels)
    if k < 2:
        raise DataError(f"target {name!r} has only one class ({labels[0]!r})")
    if task == "binary" and k != 2:
        raise DataError(f"target {name!r} has {k} classes, task='binary' needs exactly 2")
    if task in ("binary", "multiclass") or k == 2:
        return ("binary" if k == 2 and task != "multiclass" else "multiclass"), labels
    if not numeric or (integer and k <= max_classes):
        return "multiclass", labels
    return ("count" if integer and nums.min() >= 0 else "regression"), None


def scan(dataset, fmt, target, features, categorical, task, val_split, test_split, seed,
         max_classes, max_categories, na_values):
    """The one pass: returns (Preprocessor, info dict)."""
    names = dataset.names
    if target not in names:
        raise DataError(f"target column {target!r} not found; available columns: "
                        f"{', '.join(repr(c) for c in names)}")
    if features is None:
        features = [c for c in names if c != target and c not in ("", "Unnamed: 0")]
    absent = [f for f in features if f not in names]
    if absent or target in features or not features:
        raise DataError(f"bad feature columns {features} (absent: {absent}); available: "
                        f"{names}; the target cannot be a feature")
    cols = {f: _Column() for f in features}
    target_values: set = set()
    rows_read, kept = 0, np.zeros(3, np.int64)
    dropped = {}
    for batch in batches(dataset, features + [target]):
        n = batch.num_rows
        row_ids = np.arange(rows_read, rows_read + n)
        rows_read += n
        keep = np.ones(n, bool)
        for name in [target] + features:
            miss = missing_mask(batch.column(name), na_values)
            lost = int((miss & keep).sum())
            if lost:
                dropped[name] = dropped.get(name, 0) + lost
            keep &= ~miss
        split = split_of(row_ids, seed, val_split, test_split)[keep]
        kept += np.bincount(split, minlength=3)
        train = split == 0
        for name in features:
            col = batch.column(name).filter(keep)
            text = as_text(col).unique().to_pylist()
            cols[name].add(text, None if name in categorical else as_numbers(col), train,
                           max_categories)
        if len(target_values) <= MAX_TARGET_VALUES:
            target_values.update(as_text(batch.column(target).filter(keep)).unique()
                                 .to_pylist())
    if kept.sum() < 2:
        raise DataError(f"only {int(kept.sum())} row(s) left after dropping rows with missing "
                        "values")
    too_many = len(target_values) > MAX_TARGET_VALUES
    task, classes = infer_task(target, sorted(target_values), task, max_classes, too_many)
    cat_spec = {}
    for name, c in cols.items():
        if not c.numeric or name in categorical:
            if len(c.values) > max_categories and name not in categorical:
                raise DataError(f"column {name!r} looks like free text (more than "
                                f"{max_categories} distinct values); leave it out with "
                                "features=[...] or raise max_categories")
            cat_spec[name] = sorted(c.values)
    pre = Preprocessor(features, cat_spec, target=target, task=task, classes=classes,
                       na_values=na_values)
    for name in pre.numeric:
        c = cols[name]
        if c.n == 0:
            raise DataError(f"column {name!r} has no values in the training rows")
        std = float(np.sqrt(c.m2 / c.n))
        pre.mean[name], pre.std[name] = c.mean, std if std > 0 else 1.0
    pre.fitted = True
    info = {"format": fmt, "rows_read": rows_read, "rows_kept": int(kept.sum()),
            "rows_dropped": dropped, "splits": dict(zip(SPLITS, map(int, kept))),
            "seed": seed, "val_split": val_split, "test_split": test_split,
            "split_rule": "splitmix64(seed, row number)", "task": task, "classes": classes,
            "schema": [list(nt) for nt in zip(dataset.names, dataset.types)],
            "files": len(dataset.files)}
    return pre, info
