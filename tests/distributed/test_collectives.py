"""chainrule.distributed: the API without a job, and every collective on real processes."""

import re
from datetime import timedelta

import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import mpi

from . import _mpi


def test_every_collective_matches_numpy_on_three_processes():
    out = _mpi.check(_mpi.run(3, "collectives"))
    # each rank prints "ok <rank>"; the ranks' writes may interleave on the shared stdout
    assert sorted(re.findall(r"ok (\d)", out)) == ["0", "1", "2"]


def test_every_collective_matches_numpy_on_two_processes():
    out = _mpi.check(_mpi.run(2, "collectives"))
    assert out.count("ok") == 2


def test_uninitialized_calls_raise_torchs_error():
    assert dist.is_available() and not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(cr.ones(2)),
                 lambda: dist.barrier(), lambda: dist.new_group([0])):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    assert dist.group.WORLD is None and dist.GroupMember.NON_GROUP_MEMBER == -100


def test_only_the_mpi_backend_and_tensor_arguments():
    with pytest.raises(ValueError, match="runs on MPI"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
    assert dist.is_mpi_available() and dist.is_backend_available("mpi")
    assert not (dist.is_nccl_available() or dist.is_gloo_available())
    assert dist.Backend("MPI") == "mpi" and dist.ReduceOp.SUM.name == "SUM"


def test_timeouts_from_arguments_and_environment(monkeypatch):
    monkeypatch.delenv("CHAINRULE_DIST_TIMEOUT", raising=False)
    assert mpi.timeout_seconds(None) == 60.0
    assert mpi.timeout_seconds(timedelta(seconds=5)) == 5.0 and mpi.timeout_seconds(2) == 2.0
    monkeypatch.setenv("CHAINRULE_DIST_TIMEOUT", "7.5")
    assert mpi.timeout_seconds(None) == 7.5
    for bad in (0, -1, "x", True):
        with pytest.raises(ValueError, match="timeout"):
            mpi.timeout_seconds(bad)
    monkeypatch.setenv("CHAINRULE_DIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="CHAINRULE_DIST_TIMEOUT"):
        mpi.timeout_seconds(None)


def test_launcher_environment_detection(monkeypatch):
    for var in mpi.SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    assert mpi.launched_size() == 0
    monkeypatch.setenv("PMI_SIZE", "4")
    assert mpi.launched_size() == 4
