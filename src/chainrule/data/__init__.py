"""chainrule's own datasets: CSV loading (``load_csv``), the course's Heart data, synthetic
generators, and optional bundled datasets.

    from chainrule import data
    ds = data.load_csv("Heart.csv", target="AHD")
    X, y = data.spirals(n_samples=300, n_classes=3, seed=0)
"""

from ._table import DataError, DataFileNotFoundError
from .preprocess import Preprocessor
from .tabular import CSVData, load_csv

__all__ = ["CSVData", "DataError", "DataFileNotFoundError", "Preprocessor", "load_csv"]
