"""chainrule's own datasets: CSV loading (``load_csv``, ``read_csv``), the course's Heart
data (shipped), synthetic generators, and optional bundled datasets.

    from chainrule import data
    ds = data.load_csv("Heart.csv", target="AHD")
    ds = data.heart()                                  # the shipped copy, offline
    X, y = data.spirals(n_samples=300, n_classes=3, seed=0)

For the command line (``chainrule train|evaluate|predict``):

* ``resolve_dataset(arg) -> Path``: a path as given, or a built-in name (``"heart"``);
  ``builtin_datasets()["heart"].target == "AHD"``.
* ``load_csv(path, target, task=, impute=, features=, drop=, max_categories=,
  encoding=, delimiter=, id_column=, val_split=, test_split=, seed=)`` -> ``CSVData``;
  ``ds.info["task_reason"]`` says why the task was chosen, ``ds.report`` prints it all.
* At evaluate/predict time: ``pre = Preprocessor.from_dict(config["preprocessing"])``;
  ``p = pre.prepare_csv(path, target=..., unknown="error"|"ignore", encoding=,
  delimiter=)`` -> ``Prepared`` with ``X``, ``valid`` (bool per row), ``reasons`` (why a
  row cannot be scored: missing value, non-finite number, unseen category, ...), ``y``,
  ``ids`` (the id column's cells) and ``rows`` (1-based data rows); ``p.summary()`` is a
  one-line count of the reasons. ``strict=True`` raises at the first invalid row instead.
* Every data problem is a one-line ``DataError`` (a ``ValueError``) naming the file, the
  column and the row.
"""

from ._table import NA_VALUES, Column, DataError, DataFileNotFoundError, Table
from .preprocess import IMPUTE, Prepared, Preprocessor
from ._csvread import read_csv, sniff_delimiter
from .tabular import CSVData, load_csv
from .heart import HEART_URL, cache_dir, heart
from .builtin import builtin_datasets, resolve_csv, resolve_dataset
from .synthetic import bars_images, blobs, circles, moons, sine_regression, spirals, xor
from .bundled import TrainTest, digits, mnist1d
from .stream import TableScan, TableStream, scan_table  # noqa: F401  (larger than memory)

__all__ = [
    "CSVData", "Column", "DataError", "DataFileNotFoundError", "HEART_URL", "IMPUTE",
    "NA_VALUES", "Prepared", "Preprocessor", "Table", "TrainTest", "bars_images", "blobs",
    "builtin_datasets", "cache_dir", "circles", "digits", "heart", "load_csv", "mnist1d",
    "moons", "read_csv", "resolve_csv", "resolve_dataset", "sine_regression", "sniff_delimiter", "spirals",
    "xor",
]
