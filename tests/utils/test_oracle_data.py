"""chainrule.utils.data against torch.utils.data (skipped where torch is absent)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader, TensorDataset, default_collate, random_split

Point = collections.namedtuple("Point", "x y")


def _same(ours, theirs, torch):
    """Recursively compare a chainrule batch with a torch batch: types, dtypes, values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), type(ours)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            _same(ours[k], theirs[k], torch)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, torch)
    else:
        assert ours == theirs


def _cases(lib):
    t = lambda a: lib.tensor(np.asarray(a))  # noqa: E731
    return [
        [1.5, 2.5],
        [1, 2, 3],
        [True, False],
        [np.float32(1.0), np.float32(2.0)],
        [np.int32(3), np.int32(4)],
        [np.arange(6.0).reshape(2, 3), np.ones((2, 3))],
        [np.arange(4, dtype=np.int16), np.arange(4, dtype=np.int16)],
        [np.zeros(2, np.float32), np.ones(2, np.float32)],
        [(t([1.0, 2.0]), 0), (t([3.0, 4.0]), 1)],
        [[1, 2.0], [3, 4.0]],
        [{"a": 1, "b": "x", "c": np.zeros(2)}, {"a": 2, "b": "y", "c": np.ones(2)}],
        [Point(1, 2.0), Point(3, 4.0)],
        ["a", "b"],
        [t(1), t(2)],
        [(t([[1, 2]]), {"k": [0.5, 1]}), (t([[3, 4]]), {"k": [1.5, 2]})],
    ]


def test_default_collate_matches_torch(torch):
    from torch.utils.data import default_collate as torch_collate

    for ours_in, theirs_in in zip(_cases(cr), _cases(torch)):
        _same(default_collate(ours_in), torch_collate(theirs_in), torch)


def test_default_collate_errors_match_torch(torch):
    from torch.utils.data import default_collate as torch_collate

    for bad, exc in [([object()], TypeError), ([[1, 2], [3]], RuntimeError),
                     ([np.array(["a"])], TypeError)]:
        with pytest.raises(exc):
            torch_collate(bad)
        with pytest.raises(exc):
            default_collate(bad)


@pytest.mark.filterwarnings("ignore:.*length of split")
@pytest.mark.parametrize("n", [1, 7, 10, 11, 100, 303])
def test_random_split_fraction_lengths_match_torch(torch, n):
    for fracs in ([0.5, 0.5], [0.8, 0.2], [0.34, 0.33, 0.33], [0.7, 0.15, 0.15],
                  [0.1] * 10, [1.0]):
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), fracs)]
        ours = [len(s) for s in random_split(range(n), fracs)]
        assert ours == theirs, (n, fracs)


def test_loader_batches_match_torch_unshuffled(torch):
    x = np.random.default_rng(0).standard_normal((13, 2, 3)).astype(np.float32)
    y = np.arange(13)
    for kw in (dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None)):
        ours = list(DataLoader(TensorDataset(cr.tensor(x), cr.tensor(y)), **kw))
        theirs = list(torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), **kw))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, torch)
