"""chainrule's own datasets: CSV loading (``load_csv``), the course's Heart data, synthetic
generators, and optional bundled datasets.

    from chainrule import data
    ds = data.load_csv("Heart.csv", target="AHD")
    X, y = data.spirals(n_samples=300, n_classes=3, seed=0)
"""

from ._table import DataError, DataFileNotFoundError
from .preprocess import Preprocessor
from .tabular import CSVData, load_csv
from .heart import HEART_URL, cache_dir, heart
from .synthetic import bars_images, blobs, circles, moons, sine_regression, spirals, xor
from .bundled import TrainTest, digits, mnist1d
from .stream import TableScan, TableStream, scan_table  # noqa: F401  (larger than memory)

__all__ = [
    "CSVData", "DataError", "DataFileNotFoundError", "HEART_URL", "Preprocessor", "TrainTest",
    "bars_images", "blobs", "cache_dir", "circles", "digits", "heart", "load_csv", "mnist1d",
    "moons", "sine_regression", "spirals", "xor",
]
