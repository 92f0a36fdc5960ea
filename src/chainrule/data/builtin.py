"""Datasets shipped inside the package, and resolving a dataset argument to a file.

``resolve_dataset("heart")`` is how the command line accepts ``chainrule train heart
--target AHD``: an existing path is used as given, otherwise a built-in name (case does not
matter, ``.csv`` may be added) names a file in ``chainrule/data/_files``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ._table import DataFileNotFoundError

__all__ = ["BUILTIN", "Builtin", "builtin_datasets", "resolve_csv", "resolve_dataset"]


@dataclass(frozen=True)
class Builtin:
    """A shipped CSV file: its name, file, default target and what it holds."""

    name: str
    file: str
    target: str
    description: str


BUILTIN = {
    "heart": Builtin("heart", "Heart.csv", "AHD",
                     "303 patients (UCI Cleveland heart disease data as distributed with "
                     "ISLR); predict AHD (Yes/No)"),
}


def cache_dir() -> Path:
    """Where chainrule keeps downloaded data files."""
    if os.environ.get("CHAINRULE_CACHE_DIR"):
        return Path(os.environ["CHAINRULE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "chainrule"


def builtin_datasets() -> dict[str, Builtin]:
    """The built-in datasets by name."""
    return dict(BUILTIN)


def _package_file(file: str) -> Path:
    ref = resources.files("chainrule.data").joinpath("_files", file)
    if isinstance(ref, Path):
        return ref
    # a zipped install: copy the file out once
    dest = cache_dir() / file
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(ref.read_bytes())
    return dest


def resolve_dataset(name_or_path) -> Path:
    """An existing file path as given, else the file of a built-in dataset (a directory
    never hides a built-in name: ``--out heart`` may exist beside ``train heart``).

    Args:
        name_or_path: a path (str or ``os.PathLike``) or a built-in name such as ``"heart"``
            (``"Heart"``, ``"heart.csv"`` work too).

    Raises:
        DataFileNotFoundError: neither a file nor a built-in name; the message lists the
            built-in names.

    Example::

        resolve_dataset("heart")        # .../chainrule/data/_files/Heart.csv
    """
    path = Path(os.fspath(name_or_path)).expanduser()
    if path.exists() and not path.is_dir():
        return path
    key = str(name_or_path).strip().lower()
    key = key[:-4] if key.endswith(".csv") else key
    if key in BUILTIN:     # a directory named like a dataset (a run dir "heart/") is no CSV
        return _package_file(BUILTIN[key].file)
    if path.exists() or os.path.lexists(path):
        return path        # a directory or a dangling link: read_csv says so
    names = ", ".join(sorted(BUILTIN))
    raise DataFileNotFoundError(f"CSV file not found: {path} (and {str(name_or_path)!r} is "
                                f"not a built-in dataset: {names})")


#: The same function under the name the command line first asked for.
resolve_csv = resolve_dataset
