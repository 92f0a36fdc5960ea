"""chainrule.multiprocessing: shared-memory tensors, hogwild training, queues and spawn."""

from __future__ import annotations

import os
import pickle
import signal
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import chainrule as cr
import chainrule.multiprocessing as mp
from chainrule import nn

fork = mp.get_context("fork")


def test_torch_multiprocessing_surface():
    for name in ("Process", "Queue", "get_context", "set_start_method", "get_start_method",
                 "cpu_count", "spawn", "start_processes", "ProcessContext",
                 "ProcessRaisedException", "ProcessExitedException", "get_sharing_strategy",
                 "set_sharing_strategy", "get_all_sharing_strategies", "Pool", "Event"):
        assert hasattr(mp, name), name
    assert mp.cpu_count() >= 1
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="sharing strategy"):
        mp.set_sharing_strategy("carrier-pigeon")


def test_share_memory_keeps_values_and_is_idempotent():
    t = cr.arange(12, dtype=cr.float32).reshape(3, 4)
    assert not t.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared()
    np.testing.assert_array_equal(t.numpy(), np.arange(12, dtype=np.float32).reshape(3, 4))
    arr = t._data
    t.share_memory_()
    assert t._data is arr  # already shared: not moved again
    assert t[1].is_shared() and t.T.is_shared()  # views of shared memory are shared
    assert not (t + 1).is_shared()
    empty = cr.zeros(0).share_memory_()
    assert empty.is_shared() and empty.shape == (0,)


def _add_one(t):
    t.add_(1)


def test_update_in_child_is_visible_in_parent():
    w = cr.zeros(4).share_memory_()
    p = fork.Process(target=_add_one, args=(w,))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    np.testing.assert_array_equal(w.numpy(), np.ones(4, np.float32))
    private = cr.zeros(4)  # not shared: the child's change stays in the child
    p = fork.Process(target=_add_one, args=(private,))
    p.start()
    p.join(30)
    np.testing.assert_array_equal(private.numpy(), np.zeros(4, np.float32))


def test_module_share_memory_packs_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert model.share_memory() is model
    for p in model.parameters():
        assert p.is_shared() and isinstance(p, nn.Parameter) and p.requires_grad
    for b in model.buffers():
        assert b.is_shared()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    # one block for the whole module (one descriptor, not one per tensor)
    from chainrule.multiprocessing import _shm

    blocks = {_shm.block_of(p._data).addr for p in model.parameters()}
    assert len(blocks) == 1


def _hogwild_worker(rank, model, X, y, steps, counts):
    g = cr.Generator().manual_seed(100 + rank)
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        idx = cr.tensor(g.integers(0, X.shape[0], (16,)))
        opt.zero_grad()
        loss_fn(model(X[idx]), y[idx]).backward()
        opt.step()
        counts[rank] += 1


def test_hogwild_two_processes_train_one_shared_model():
    cr.manual_seed(0)
    X = cr.randn(256, 5)
    y = X @ cr.tensor([[1.0], [-2.0], [0.5], [3.0], [-1.0]]) + 0.01 * cr.randn(256, 1)
    model = nn.Linear(5, 1)
    model.share_memory()
    counts = cr.zeros(2, dtype=cr.int64).share_memory_()
    loss0 = nn.MSELoss()(model(X), y).item()
    procs = [fork.Process(target=_hogwild_worker, args=(r, model, X, y, 150, counts))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert counts.tolist() == [150, 150]  # both processes stepped the one shared model
    loss1 = nn.MSELoss()(model(X), y).item()
    assert loss1 < 0.01 * loss0, (loss0, loss1)


def _scale_from_queue(q, done):
    t = q.get(timeout=30)
    t.mul_(3)
    done.put(cr.full((2,), 7.0))


def test_queue_moves_tensors_to_shared_memory():
    q, done = fork.Queue(), fork.Queue()
    t = cr.ones(4)
    p = fork.Process(target=_scale_from_queue, args=(q, done))
    p.start()
    q.put(t)
    back = done.get(timeout=30)
    p.join(30)
    assert t.is_shared()  # put() moved it to shared memory (as torch does)
    np.testing.assert_array_equal(t.numpy(), np.full(4, 3, np.float32))
    np.testing.assert_array_equal(back.numpy(), [7.0, 7.0])
    assert back.is_shared()


def test_reduction_round_trip_keeps_layout_kind_and_grad_flag():
    base = cr.arange(24, dtype=cr.float64).reshape(4, 6)
    view = base[1:, ::2]
    w = nn.Parameter(cr.randn(2, 3))
    out = ForkingPickler.loads(ForkingPickler.dumps((view, w, cr.ones(2, requires_grad=True))))
    v2, w2, r2 = out
    np.testing.assert_array_equal(v2.numpy(), view.numpy())
    assert v2.dtype == cr.float64
    assert isinstance(w2, nn.Parameter) and w2.requires_grad
    assert r2.requires_grad and r2.is_leaf
    v2.zero_()  # same memory as the sender's
    assert view.sum().item() == 0 and base.sum().item() == 276  # base keeps private memory


def test_sparse_tensors_cross_as_shared_memory():
    s = cr.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    back = ForkingPickler.loads(ForkingPickler.dumps(s))
    assert back.is_sparse and back.is_coalesced() and back.shape == (2, 2)
    np.testing.assert_array_equal(back.to_dense().numpy(), [[0.0, 2.0], [3.0, 0.0]])
    assert back._values().is_shared()


def test_non_leaf_requiring_grad_and_plain_pickle_are_refused():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf"):
        ForkingPickler.dumps(x * 2)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(cr.ones(2))


def _fill_rank(i, t):
    t[i] = i + 1


def _fail_in_one(i):
    if i == 1:
        raise ValueError("bad value in process 1")


def _killed(i):
    os.kill(os.getpid(), signal.SIGKILL)


def _exit_code(i):
    raise SystemExit(3)


def test_start_processes_runs_and_reports_failures():
    t = cr.zeros(3).share_memory_()
    assert mp.start_processes(_fill_rank, args=(t,), nprocs=3, start_method="fork") is None
    assert t.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(mp.ProcessRaisedException, match="bad value in process 1") as err:
        mp.start_processes(_fail_in_one, nprocs=2, start_method="fork")
    assert err.value.error_index == 1
    assert "-- Process 1 terminated with the following error:" in str(err.value)
    assert "Traceback (most recent call last)" in str(err.value)
    with pytest.raises(mp.ProcessExitedException, match="terminated with signal SIGKILL"):
        mp.start_processes(_killed, nprocs=1, start_method="fork")
    with pytest.raises(mp.ProcessExitedException, match="exit code 3") as err:
        mp.start_processes(_exit_code, nprocs=1, start_method="fork")
    assert err.value.exit_code == 3
    ctx = mp.start_processes(_fill_rank, args=(t,), nprocs=2, join=False, start_method="fork")
    assert len(ctx.pids()) == 2
    while not ctx.join():
        pass


def test_spawn_passes_shared_tensors_and_modules():
    """The real ``spawn`` start method: a fresh interpreter receives the module's block by
    descriptor passing and its update is seen here."""
    t = cr.zeros(2)
    lin = nn.Linear(2, 2)
    lin.share_memory()
    mp.spawn(_spawned, args=(t, lin), nprocs=1)
    assert t.tolist() == [5.0, 5.0] and t.is_shared()
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.full((2, 2), 7, np.float32))


def _spawned(i, t, lin):
    t.fill_(5.0)
    with cr.no_grad():
        lin.weight.fill_(7.0)
