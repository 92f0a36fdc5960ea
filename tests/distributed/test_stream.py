"""chainrule.data.stream: one-pass statistics, bounded-memory epochs, shards, Parquet."""

import csv
import tracemalloc

import numpy as np
import pytest

from chainrule.data import DataError, TableStream, scan_table
from chainrule.data import _stream_scan as S
from chainrule.utils.data import DataLoader


def _write(path, n, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.integers(0, 5, n)
    colour = np.array(["red", "green", "blue"])[rng.integers(0, 3, n)]
    y = (a + (colour == "red") > 0.5).astype(int)
    with open(path, "w") as f:
        f.write("a,b,colour,y\n")
        for i in range(n):
            a_txt = "NA" if i == 7 else f"{a[i]:.6f}"
            f.write(f"{a_txt},{b[i]},{colour[i]},{'yes' if y[i] else 'no'}\n")
    return path


@pytest.fixture
def table(tmp_path):
    return _write(tmp_path / "t.csv", 3000)


def _reference(path, seed, val, test):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    split = S.split_of(np.arange(len(rows)), seed, val, test)
    keep = [i for i, r in enumerate(rows) if r["a"] != "NA"]
    train = [i for i in keep if split[i] == 0]
    a = np.array([float(rows[i]["a"]) for i in train])
    return rows, split, keep, a


def test_one_pass_statistics_equal_the_whole_file_computation(table):
    scan = scan_table(table, "y", val_split=0.1, test_split=0.2, seed=3, block_size=4096)
    rows, split, keep, a = _reference(table, 3, 0.1, 0.2)
    pre = scan.preprocessor
    assert scan.task == "binary" and scan.classes == ["no", "yes"]
    assert pre.categories == {"colour": ["blue", "green", "red"]}
    np.testing.assert_allclose([pre.mean["a"], pre.std["a"]], [a.mean(), a.std()], rtol=1e-12)
    assert scan.info["rows_read"] == 3000 and scan.info["rows_dropped"] == {"a": 1}
    assert scan.info["splits"] == {k: int(sum(split[i] == s for i in keep))
                                   for s, k in enumerate(("train", "val", "test"))}
    assert scan.to_dict()["schema"][0] == ["a", "string"]


def test_every_training_row_once_per_epoch_shuffled_and_reproducible(table):
    scan = scan_table(table, "y", test_split=0.2, block_size=4096)
    stream = scan.stream("train", batch_size=64, shuffle=True, seed=1, buffer_rows=200)
    epoch0 = np.concatenate([x._data for x, _ in stream])
    assert len(list(stream)) == len(stream) == -(-scan.info["splits"]["train"] // 64)
    ordered = np.concatenate([x._data for x, _ in scan.stream("train", shuffle=False)])
    assert epoch0.shape == ordered.shape
    key = lambda X: X[np.lexsort(X.T)]  # noqa: E731
    np.testing.assert_array_equal(key(epoch0), key(ordered))  # same rows, once each
    assert not np.array_equal(epoch0, ordered)
    again = np.concatenate([x._data for x, _ in stream])
    np.testing.assert_array_equal(again, epoch0)  # same seed and epoch: same order
    stream.set_epoch(1)
    assert not np.array_equal(np.concatenate([x._data for x, _ in stream]), epoch0)


def test_shards_are_disjoint_equal_sized_and_cover_the_split(table):
    scan = scan_table(table, "y", test_split=0.0, block_size=4096)
    n = scan.info["splits"]["train"]
    parts = []
    for k in range(3):
        s = scan.stream("train", batch_size=50, shuffle=False, num_shards=3, shard=k)
        X = np.concatenate([x._data for x, _ in s])
        assert X.shape[0] == s.shard_rows() == -(-n // 3)  # padded to ceil(n / 3)
        assert sum(1 for _ in s) == len(s)
        parts.append(X)
    whole = np.concatenate([x._data for x, _ in scan.stream("train", shuffle=False)])
    for k in range(3):
        np.testing.assert_array_equal(parts[k][:len(range(k, n, 3))], whole[k::3])
    cut = scan.stream("train", batch_size=50, shuffle=False, num_shards=3, shard=0,
                      drop_last=True)
    assert sum(x.shape[0] for x, _ in cut) == (n // 3) // 50 * 50


def test_dataloader_worker_sharding(table, monkeypatch):
    from chainrule.data import stream as stream_mod

    class Info:
        num_workers, id = 2, 1
    monkeypatch.setattr(stream_mod, "get_worker_info", lambda: Info())
    scan = scan_table(table, "y", test_split=0.0)
    s = scan.stream("train", batch_size=100, shuffle=False)
    assert s._shards() == (2, 1)
    batches = list(DataLoader(s, batch_size=None))
    assert sum(b[0].shape[0] for b in batches) == -(-scan.info["splits"]["train"] // 2)


def test_parquet_gives_the_same_scan_and_batches(table, tmp_path):
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    pq.write_table(pcsv.read_csv(table), tmp_path / "t.parquet", row_group_size=500)
    a = scan_table(table, "y", test_split=0.2)
    b = scan_table(tmp_path / "t.parquet", "y", test_split=0.2)
    assert b.format == "parquet" and b.info["splits"] == a.info["splits"]
    np.testing.assert_allclose(b.preprocessor.mean["a"], a.preprocessor.mean["a"], rtol=1e-6)
    xa, ya = a.load("test")
    xb, yb = b.load("test")
    np.testing.assert_allclose(xa._data, xb._data, rtol=1e-5)
    np.testing.assert_array_equal(ya._data, yb._data)
    both = a.load(["train", "test"], max_rows=100)  # several splits in one pass
    np.testing.assert_array_equal(both["test"][0]._data, xa._data[:100])
    assert both["train"][0].shape == (100, a.n_features)


def test_memory_stays_bounded_by_the_buffer(tmp_path):
    path = _write(tmp_path / "big.csv", 40000)
    scan = scan_table(path, "y", test_split=0.0, block_size=1 << 14)
    whole = scan.info["splits"]["train"] * scan.n_features * 4
    stream = scan.stream("train", batch_size=128, buffer_rows=512, seed=0)
    tracemalloc.start()
    rows = sum(x.shape[0] for x, _ in stream)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rows >= scan.info["splits"]["train"]
    assert peak < whole / 4, (peak, whole)


def test_clear_errors(table, tmp_path):
    with pytest.raises(DataError, match="target column 'nope' not found"):
        scan_table(table, "nope")
    with pytest.raises(DataError, match="not found"):
        scan_table(tmp_path / "missing.csv", "y")
    scan = scan_table(table, "y")
    with pytest.raises(ValueError, match="split"):
        TableStream(scan, "dev")
