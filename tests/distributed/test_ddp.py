"""DistributedDataParallel, DataParallel and DistributedSampler."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.parallel import DataParallel, data_parallel
from chainrule.nn.parallel._reducer import assign_buckets
from chainrule.utils.data import DistributedSampler

from . import _mpi


def test_ddp_equals_single_process_training_and_its_features_on_two_processes():
    out = _mpi.check(_mpi.run(2, "ddp"))
    assert out.count("ok") == 2
    assert "max |ddp - single|" in out


def test_bucket_assignment_matches_torch(torch):
    import torch.distributed as td

    cases = [
        ([(200704,), (256,), (65536,), (256,), (2560,), (10,)], [torch.float32] * 6,
         [1024 * 1024, 25 * 1024 * 1024]),
        ([(200704,), (256,), (65536,), (256,), (2560,), (10,)], [torch.float32] * 6,
         [256 * 1024]),
        ([(10,), (10,), (70000,), (5,), (9,)],
         [torch.float32, torch.float64, torch.float32, torch.float32, torch.float64],
         [256 * 1024]),
    ]
    for shapes, dtypes, limits in cases:
        ts = [torch.zeros(s, dtype=d) for s, d in zip(shapes, dtypes)]
        want, _ = td._compute_bucket_assignment_by_size(ts, limits, [False] * len(ts))
        got = assign_buckets([t.numel() * t.element_size() for t in ts],
                             [str(t.dtype) for t in ts], range(len(ts)), limits, True)
        assert got == [list(b) for b in want]


def test_data_parallel_is_a_passthrough_with_torchs_state_dict_keys():
    lin = nn.Linear(3, 2)
    dp = nn.DataParallel(lin, device_ids=[0])
    assert isinstance(dp, DataParallel) and dp.module is lin and dp.device_ids == []
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(dp(x)._data, lin(x)._data)
    np.testing.assert_array_equal(data_parallel(lin, x)._data, lin(x)._data)
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    with pytest.raises(TypeError, match="nn.Module"):
        nn.DataParallel(lambda t: t)


def test_distributed_sampler_partition_and_padding():
    ds = list(range(10))
    parts = [list(DistributedSampler(ds, num_replicas=4, rank=k, shuffle=False))
             for k in range(4)]
    # total_size 12: indices 0..9 then 0, 1 again (padding repeats the start), interleaved
    assert parts == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    cut = [list(DistributedSampler(ds, num_replicas=4, rank=k, shuffle=False,
                                   drop_last=True)) for k in range(4)]
    assert cut == [[0, 4], [1, 5], [2, 6], [3, 7]]
    s = DistributedSampler(ds, num_replicas=3, rank=2, seed=5)
    assert (s.num_samples, s.total_size, len(s)) == (4, 12, 4)
    e0 = list(s)
    s.set_epoch(1)
    assert list(s) != e0 and sorted(set(e0)) == sorted(set(e0) & set(ds))
    full = []
    for k in range(3):
        t = DistributedSampler(ds, num_replicas=3, rank=k, seed=5)
        full += list(t)
    assert set(full) == set(ds) and len(full) == 12


def test_distributed_sampler_arguments_like_torch(torch):
    from torch.utils.data import DistributedSampler as TorchSampler

    for n, reps, drop in ((10, 4, False), (10, 4, True), (7, 3, False), (9, 3, True)):
        for k in range(reps):
            ours = DistributedSampler(list(range(n)), reps, k, shuffle=False, drop_last=drop)
            theirs = TorchSampler(list(range(n)), reps, k, shuffle=False, drop_last=drop)
            assert list(ours) == list(theirs)
            assert (ours.num_samples, ours.total_size) == (theirs.num_samples,
                                                           theirs.total_size)
    with pytest.raises(ValueError, match="Invalid rank 4"):
        DistributedSampler([1, 2], num_replicas=4, rank=4)
    with pytest.raises(ValueError, match="Default process group"):
        DistributedSampler([1, 2])


def test_ddp_rejects_gpu_arguments_and_needs_a_process_group():
    with pytest.raises(ValueError, match="device_ids"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(ValueError, match="Default process group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
