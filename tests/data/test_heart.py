"""chainrule.data.heart: from a path, from the cache, and the download path (urllib mocked)."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from chainrule import data
from chainrule.data import DataError, DataFileNotFoundError

HEART = data.resolve_dataset("heart")   # the copy shipped inside the package


@pytest.fixture
def heart_bytes():
    return HEART.read_bytes()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _no_network(*args, **kwargs):
    raise AssertionError("urlopen must not be called")


def test_heart_from_path(heart_bytes):
    ds = data.heart(path=HEART, val_split=0.1)
    assert ds.target == "AHD" and ds.classes == ["No", "Yes"]
    assert ds.info["rows_kept"] == 297 and len(ds.feature_names) == 18
    assert set(ds.preprocessor.categories) == {"ChestPain", "Thal"}
    assert "dropped 6 rows" in ds.report


def test_heart_download_into_cache_then_reads_cache(heart_bytes, cache, monkeypatch):
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append((url, timeout))
        return io.BytesIO(heart_bytes)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = data.heart(download=True)
    assert calls == [(data.HEART_URL, 30.0)]
    assert (cache / "Heart.csv").read_bytes() == heart_bytes
    assert not [p for p in cache.iterdir() if p.name != "Heart.csv"]  # no temporary left
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    again = data.heart()
    np.testing.assert_array_equal(again.X_test.numpy(), ds.X_test.numpy())
    assert data.cache_dir() == cache


def test_heart_offline_from_the_package(cache, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    ds = data.heart()
    assert ds.info["rows_read"] == 303 and ds.info["rows_kept"] == 297
    assert not cache.exists()   # nothing downloaded, nothing cached
    np.testing.assert_array_equal(ds.X_test.numpy(), data.heart(path=HEART).X_test.numpy())
    with pytest.raises(DataFileNotFoundError, match="not found"):
        data.heart(path=cache / "missing.csv")


def test_heart_download_failures(cache, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError, match=r"could not download.*path="):
        data.heart(download=True)
    assert not (cache / "Heart.csv").exists()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(b"<html>"))
    with pytest.raises(DataError, match="does not look like Heart.csv"):
        data.heart(download=True)
    assert not (cache / "Heart.csv").exists()


def test_cache_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / "chainrule"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.cache_dir() == Path("~/.cache/chainrule").expanduser()
