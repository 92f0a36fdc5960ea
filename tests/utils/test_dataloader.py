"""DataLoader, samplers and datasets of chainrule.utils.data."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
    default_collate, random_split,
)


def _ds(n=23):
    x = cr.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = cr.tensor(np.arange(n))
    return TensorDataset(x, y)


def _epoch(loader):
    return np.concatenate([b[1].numpy() for b in loader])


class PlainDataset(Dataset):
    """Same samples as _ds but not a TensorDataset, so the generic path is used."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds[i]


def test_each_epoch_visits_every_index_once_and_reshuffles():
    loader = DataLoader(_ds(), batch_size=5, shuffle=True,
                        generator=cr.Generator().manual_seed(1))
    epochs = [_epoch(loader) for _ in range(4)]
    for e in epochs:
        assert sorted(e.tolist()) == list(range(23))
    assert len({tuple(e) for e in epochs}) == 4  # a new order every epoch
    again = DataLoader(_ds(), batch_size=5, shuffle=True,
                       generator=cr.Generator().manual_seed(1))
    for e in epochs:
        np.testing.assert_array_equal(_epoch(again), e)
    other = DataLoader(_ds(), batch_size=5, shuffle=True,
                       generator=cr.Generator().manual_seed(2))
    assert not np.array_equal(_epoch(other), epochs[0])


def test_global_seed_controls_shuffle_without_generator():
    cr.manual_seed(7)
    a = _epoch(DataLoader(_ds(), batch_size=4, shuffle=True))
    cr.manual_seed(7)
    b = _epoch(DataLoader(_ds(), batch_size=4, shuffle=True))
    np.testing.assert_array_equal(a, b)


def test_batches_shapes_len_and_drop_last():
    ds = _ds(23)
    loader = DataLoader(ds, batch_size=5)
    batches = list(loader)
    assert len(loader) == len(batches) == 5
    assert [b[0].shape[0] for b in batches] == [5, 5, 5, 5, 3]
    assert batches[0][0].shape == (5, 3) and batches[0][0].dtype == cr.float32
    assert batches[0][1].dtype == cr.int64
    np.testing.assert_array_equal(_epoch(loader), np.arange(23))
    dl = DataLoader(ds, batch_size=5, drop_last=True)
    assert len(dl) == 4 and [b[0].shape[0] for b in dl] == [5] * 4


def test_fast_path_matches_generic_path():
    ds = _ds(31)
    for kw in [dict(batch_size=4), dict(batch_size=6, shuffle=True, drop_last=True)]:
        fast = DataLoader(ds, generator=cr.Generator().manual_seed(3), **kw)
        slow = DataLoader(PlainDataset(ds), generator=cr.Generator().manual_seed(3), **kw)
        custom = DataLoader(ds, collate_fn=lambda s: default_collate(s),
                            generator=cr.Generator().manual_seed(3), **kw)
        for _ in range(2):
            for bf, bs, bc in zip(fast, slow, custom, strict=True):
                assert isinstance(bf, list) and isinstance(bs, list)
                for tf, ts, tc in zip(bf, bs, bc):
                    assert tf.dtype == ts.dtype == tc.dtype
                    np.testing.assert_array_equal(tf.numpy(), ts.numpy())
                    np.testing.assert_array_equal(tf.numpy(), tc.numpy())


def test_fast_path_through_random_split_subsets():
    ds = _ds(20)
    train, _ = random_split(ds, [15, 5], generator=cr.Generator().manual_seed(0))
    got = list(DataLoader(train, batch_size=4))
    want = list(DataLoader(PlainDataset(train), batch_size=4))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in got]), train.indices)


def test_batch_sampler_argument():
    ds = _ds(10)
    order = [[9, 0], [3, 4, 5], [1]]
    loader = DataLoader(ds, batch_sampler=order)
    assert len(loader) == 3
    assert [b[1].tolist() for b in loader] == order
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    bs = BatchSampler(range(7), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=order, batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_num_workers_runs_in_process():
    ds = _ds(12)
    a = _epoch(DataLoader(ds, batch_size=5, num_workers=2))
    np.testing.assert_array_equal(a, np.arange(12))


def test_samplers():
    g = cr.Generator().manual_seed(0)
    rs = RandomSampler(range(10), generator=g)
    e1, e2 = list(rs), list(rs)
    assert sorted(e1) == sorted(e2) == list(range(10)) and e1 != e2
    rs = RandomSampler(range(4), num_samples=10, generator=g)
    draws = list(rs)
    assert len(rs) == len(draws) == 10
    assert sorted(draws[:4]) == sorted(draws[4:8]) == [0, 1, 2, 3]  # whole permutations first
    rr = list(RandomSampler(range(3), replacement=True, num_samples=300, generator=g))
    assert set(rr) == {0, 1, 2}
    sub = list(SubsetRandomSampler([5, 7, 9, 11], generator=g))
    assert sorted(sub) == [5, 7, 9, 11]
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)


def test_weighted_random_sampler_frequencies():
    w = np.array([1.0, 3.0, 0.0, 6.0])
    s = WeightedRandomSampler(w, num_samples=20000, generator=cr.Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=4) / 20000
    np.testing.assert_allclose(counts, w / w.sum(), atol=0.015)
    assert counts[2] == 0
    no_rep = list(WeightedRandomSampler(cr.tensor(w), 3, replacement=False,
                                        generator=cr.Generator().manual_seed(1)))
    assert sorted(no_rep) == [0, 1, 3]  # each non-zero index once, the zero-weight one never
    # without replacement the first draw follows w / sum(w)
    g = cr.Generator().manual_seed(2)
    firsts = [list(WeightedRandomSampler(w, 1, replacement=False, generator=g))[0]
              for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 4000, w / w.sum(), atol=0.03)
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler(np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(w, 4, replacement=False)


def test_random_split_lengths_and_fractions():
    ds = _ds(10)
    parts = random_split(ds, [3, 7], generator=cr.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    # floor(10 * f) = [3, 3, 3], the remainder 1 goes to the first split
    assert [len(p) for p in random_split(ds, [0.34, 0.33, 0.33])] == [4, 3, 3]
    assert [len(p) for p in random_split(range(7), [0.5, 0.5])] == [4, 3]
    a = random_split(ds, [0.5, 0.5], generator=cr.Generator().manual_seed(4))
    b = random_split(ds, [0.5, 0.5], generator=cr.Generator().manual_seed(4))
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 3])


def test_concat_subset_and_add():
    a, b = _ds(3), _ds(4)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7
    assert c[3][1].item() == 0 and c[-1][1].item() == 3 and c[2][1].item() == 2
    with pytest.raises(IndexError):
        c[7]
    s = Subset(b, [3, 1])
    assert len(s) == 2 and s[0][1].item() == 3
    np.testing.assert_array_equal(_epoch(DataLoader(c, batch_size=3)), [0, 1, 2, 0, 1, 2, 3])


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    loader = DataLoader(Stream(), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    assert len(DataLoader(Stream(), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        TensorDataset(cr.zeros(3, 2), cr.zeros(4))


def test_fast_path_never_fetches_single_samples(monkeypatch):
    ds = _ds(17)

    def no_per_sample(self, index):
        raise AssertionError("per-sample __getitem__ used")

    monkeypatch.setattr(TensorDataset, "__getitem__", no_per_sample)
    got = _epoch(DataLoader(ds, batch_size=4, shuffle=True))
    assert sorted(got.tolist()) == list(range(17))
    sub = Subset(ds, [3, 5, 7])
    assert _epoch(DataLoader(sub, batch_size=2)).tolist() == [3, 5, 7]


def test_tensors_requiring_grad_keep_their_graph():
    x = cr.randn(6, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(x), batch_size=6)))[0]
    batch.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((6, 2), np.float32))
