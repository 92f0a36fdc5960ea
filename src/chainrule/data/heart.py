"""The course's Heart data (ISLR's ``Heart.csv``): 303 patients, predict ``AHD`` (Yes/No).

chainrule ships the file (``chainrule/data/_files/Heart.csv``, see the README there for
its source and licence), so ``heart()`` works offline. ``heart(path=...)`` reads another
copy; ``heart(download=True)`` uses the cache (``$CHAINRULE_CACHE_DIR``, else
``$XDG_CACHE_HOME/chainrule``, else ``~/.cache/chainrule``), fetching the ISLR book's
public copy into it when it is not there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._table import DataError
from .builtin import cache_dir, resolve_dataset
from .tabular import CSVData, load_csv

__all__ = ["HEART_URL", "cache_dir", "heart"]

HEART_URL = "https://www.statlearning.com/s/Heart.csv"
_HEART_COLUMNS = ("age", "ChestPain", "Thal", "AHD")


def _download(url: str, dest: Path, timeout: float) -> None:
    """Fetch ``url`` into ``dest`` atomically (temporary file, fsync, rename)."""
    import urllib.error  # imported here: urllib.request (http, ssl, email) is slow to import
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URL
            body = resp.read()
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DataError(f"could not download Heart.csv from {url} ({reason}); download it "
                        "yourself and pass heart(path='.../Heart.csv')") from None
    head = body[:400].decode("utf-8", "replace")
    if not all(c in head for c in _HEART_COLUMNS):
        raise DataError(f"the file downloaded from {url} does not look like Heart.csv (its "
                        "header lacks age/ChestPain/Thal/AHD); pass heart(path=...)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".Heart.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def heart(path=None, download: bool = False, *, url: str = HEART_URL, timeout: float = 30.0,
          **kwargs) -> CSVData:
    """Load Heart.csv as standardized, stratified splits for predicting ``AHD``.

    The layout: a first unnamed row-index column (dropped), 13 features of which
    ``ChestPain`` and ``Thal`` are categorical (one-hot: 18 inputs), and the binary target
    ``AHD`` (classes ``['No', 'Yes']``). The 6 rows with ``NA`` in ``Ca`` or ``Thal`` are
    dropped and reported, leaving 297.

    Args:
        path: the CSV file; default: the copy shipped with chainrule.
        download: read the cached download instead, fetching it first when it is not
            there (needs network).
        url: where to download from.
        **kwargs: passed to ``load_csv`` (``val_split``, ``test_split``, ``seed``, ...).

    Example::

        ds = heart(val_split=0.1)     # the shipped copy, offline
        print(ds.report)
    """
    kwargs.setdefault("categorical", ["ChestPain", "Thal"])
    if path is not None:
        return load_csv(path, "AHD", **kwargs)
    if not download:
        return load_csv(resolve_dataset("heart"), "AHD", **kwargs)
    cached = cache_dir() / "Heart.csv"
    if not cached.exists():
        _download(url, cached, timeout)
    return load_csv(cached, "AHD", **kwargs)
