"""DataLoader worker processes: batches, order, seeding, sharding, errors and shutdown."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset,
    get_worker_info,
)
from chainrule.utils.data import _transport

Pair = collections.namedtuple("Pair", "x y")


def _terminal_sigint():
    """In the child: SIGINT as a terminal gives it. A shell that starts a job in the
    background (`make test &`, nohup) hands its children SIGINT ignored, and Python keeps
    it ignored, so a real Ctrl-C would not be what these tests send."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Box:
    def __init__(self, x):
        self.x = x


class Squares(Dataset):
    """Sample i: (float tensor [i], int i, dict with a string and an array)."""

    def __init__(self, n=23, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        return cr.tensor([float(i)]), i * i, {"name": f"s{i}", "a": np.full(2, i, np.int16)}


class WhoAmI(Dataset):
    """Sample i: what the worker knows and draws (pid, id, seed, random numbers)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"pid": os.getpid(), "id": info.id, "n": info.num_workers, "seed": info.seed,
                "np": float(np.random.rand()), "py": random.random(),
                "cr": cr.rand(1).item(), "same_ds": info.dataset is self, "i": i}


class Failing(Dataset):
    def __init__(self, bad=5, exc=ValueError):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"sample {i} is broken")
        return cr.tensor([float(i)])


class Killer(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        return cr.tensor([float(i)])


class Stream(IterableDataset):
    def __init__(self, n, shard):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if not self.shard or info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class MyError(Exception):
    pass


def _values(loader):
    return [b[0].reshape(-1).tolist() for b in loader]


def _tensor_ds(n=37):
    return TensorDataset(cr.arange(n * 2, dtype=cr.float32).reshape(n, 2), cr.arange(n))


# -- batches and order --------------------------------------------------------------------
@pytest.mark.parametrize("kw", [
    dict(batch_size=5), dict(batch_size=5, drop_last=True), dict(batch_size=None),
    dict(batch_size=4, shuffle=True), dict(batch_size=6, prefetch_factor=1),
])
def test_workers_give_the_batches_of_the_single_process_loader(kw):
    prefetch = kw.pop("prefetch_factor", None)
    for ds in (_tensor_ds(), Squares()):
        make = (lambda w, ds=ds: DataLoader(ds, generator=cr.Generator().manual_seed(7),
                                            num_workers=w, prefetch_factor=prefetch if w else None,
                                            **kw))
        ref, got = list(make(0)), list(make(2))
        assert len(ref) == len(got) == len(make(2))
        for a, b in zip(ref, got):
            _assert_same(a, b)


def _assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


def test_custom_batch_sampler_collate_and_fallback_transport():
    ds = Squares(10)
    order = [[3, 1], [0], [9, 8, 7], [2, 4, 5, 6]]
    ref = list(DataLoader(ds, batch_sampler=order))
    got = list(DataLoader(ds, batch_sampler=order, num_workers=2))
    for a, b in zip(ref, got):
        _assert_same(a, b)

    def pair(samples):  # a namedtuple: its class is found by name on arrival
        return Pair(cr.stack([s[0] for s in samples]), [s[2]["name"] for s in samples])

    got = list(DataLoader(ds, batch_size=4, collate_fn=pair, num_workers=2))
    assert [type(b) for b in got] == [Pair] * 3
    assert got[1].y == ["s4", "s5", "s6", "s7"]
    np.testing.assert_array_equal(got[2].x.numpy().ravel(), [8.0, 9.0])

    def boxed(samples):  # any other object goes through multiprocessing's own transport
        return Box(cr.stack([s[0] for s in samples]))

    got = list(DataLoader(ds, batch_size=4, collate_fn=boxed, num_workers=2))
    assert [type(b) for b in got] == [Box] * 3
    np.testing.assert_array_equal(got[2].x.numpy().ravel(), [8.0, 9.0])
    assert got[0].x.is_shared()

    def unsendable(samples):
        return lambda: samples

    with pytest.raises(RuntimeError, match="DataLoader worker could not send its result"):
        next(iter(DataLoader(ds, batch_size=4, collate_fn=unsendable, num_workers=1)))
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 3, False),
                        num_workers=1, in_order=False)
    assert sorted(v for b in loader for v in b[0].reshape(-1).tolist()) == list(range(10))


def test_large_batches_arrive_in_shared_memory_small_ones_inline():
    big = TensorDataset(cr.randn(64, 3, 16, 16))
    (b,) = next(iter(DataLoader(big, batch_size=64, num_workers=1)))
    np.testing.assert_array_equal(b.numpy(), big.tensors[0].numpy())
    assert b.is_shared() and b._data.flags.writeable
    (s,) = next(iter(DataLoader(TensorDataset(cr.ones(4, 2)), batch_size=4, num_workers=1)))
    assert not s.is_shared() and s.tolist() == [[1.0, 1.0]] * 4


def test_transport_round_trips_nested_structures():
    import multiprocessing as mp

    a, b = mp.Pipe()
    x = np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2]  # not contiguous
    obj = {
        "t": (cr.tensor([1.5, 2.5], dtype=cr.float16), cr.ones(2, requires_grad=True)),
        1: [np.bool_(True), np.int8(-3), np.complex64(1 + 2j), x, np.zeros((0, 3))],
        "s": "text", "b": b"\x00\xff", "none": None, "f": float("inf"), "big": 2**70,
        "shm": np.ones(_transport.SHM_MIN_BYTES // 8 + 1),
        "sparse": cr.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse(),
    }
    for payload in (obj, {"small": obj["t"]}):
        _transport.send(a, "data", 3, payload)
        kind, task, got, _ = _transport.recv(b)
        assert (kind, task) == ("data", 3)
        assert got.keys() == payload.keys()
        for k in payload:
            _check_round_trip(payload[k], got[k])


def _check_round_trip(want, got):
    if isinstance(want, cr.Tensor) and want.is_sparse:
        assert got.is_sparse and got.is_coalesced() and got.shape == want.shape
        np.testing.assert_array_equal(got.to_dense().numpy(), want.to_dense().numpy())
    elif isinstance(want, cr.Tensor):
        assert isinstance(got, cr.Tensor) and got.dtype == want.dtype
        assert got.requires_grad == want.requires_grad
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    elif isinstance(want, (np.ndarray, np.generic)):
        assert type(got) is type(want) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for w, g in zip(want, got):
            _check_round_trip(w, g)
    else:
        assert type(got) is type(want) and got == want


# -- worker info, seeding, init ---------------------------------------------------------------
def test_worker_info_and_per_worker_seeding_are_reproducible():
    assert get_worker_info() is None  # main process

    def run(seed):
        loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2,
                            generator=cr.Generator().manual_seed(seed))
        return [s for b in loader for s in _unbatch(b)]

    first, again, other = run(0), run(0), run(1)
    ids = {s["id"] for s in first}
    assert ids == {0, 1} and all(s["n"] == 2 and s["same_ds"] for s in first)
    # batches go round-robin: batch k is fetched by worker k % 2
    assert [s["id"] for s in first] == [0, 0, 1, 1, 0, 0, 1, 1]
    seeds = {s["id"]: s["seed"] for s in first}
    assert seeds[1] == seeds[0] + 1
    for key in ("np", "py", "cr"):
        w0 = [s[key] for s in first if s["id"] == 0]
        w1 = [s[key] for s in first if s["id"] == 1]
        assert w0 != w1, key  # each worker draws differently
        assert [s[key] for s in first] == [s[key] for s in again], key  # and repeatably
    assert [s["seed"] for s in first] != [s["seed"] for s in other]
    epochs = DataLoader(WhoAmI(), batch_size=8, num_workers=1)
    assert next(iter(epochs))["seed"][0] != next(iter(epochs))["seed"][0]  # new each epoch


def _unbatch(b):
    return [{k: (v[i].item() if isinstance(v, cr.Tensor) else v[i]) for k, v in b.items()}
            for i in range(len(b["i"]))]


_INIT_IDS = []


def _init(worker_id):
    _INIT_IDS.append(worker_id * 10)
    np.random.seed(1234 + worker_id)


class InitSeen(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return cr.tensor([_INIT_IDS[-1], np.random.randint(1000)])


def test_worker_init_fn_runs_in_each_worker_after_seeding():
    out = cr.cat(list(DataLoader(InitSeen(), batch_size=1, num_workers=2, worker_init_fn=_init)))
    assert out[:, 0].tolist() == [0, 10, 0, 10]
    assert out[0, 1].item() == np.random.RandomState(1234).randint(1000)
    assert _INIT_IDS == []  # the main process never ran it


def test_worker_info_is_read_only():
    class Poke(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            get_worker_info().id = 5

    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo"):
        next(iter(DataLoader(Poke(), num_workers=1)))


# -- IterableDataset ------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                dict(batch_size=None)])
@pytest.mark.parametrize("shard", [False, True])
def test_iterable_dataset_per_worker_copies_match_torch(torch, shard, kw):
    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            if not shard or info is None:
                return iter(range(10))
            return iter(range(info.id, 10, info.num_workers))

    ref = [np.asarray(b).ravel().tolist()
           for b in torch.utils.data.DataLoader(TorchStream(), num_workers=2, **kw)]
    got = [np.asarray(b).ravel().tolist()
           for b in DataLoader(Stream(10, shard), num_workers=2, **kw)]
    assert got == ref
    if not kw.get("drop_last"):
        flat = sorted(v for b in got for v in b)
        assert flat == (list(range(10)) if shard else sorted(list(range(10)) * 2))


# -- errors and shutdown --------------------------------------------------------------------
def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_exception_is_raised_with_worker_id_and_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = [w.pid for w in it._workers]
    assert next(it).reshape(-1).tolist() == [0.0, 1.0]
    assert next(it).reshape(-1).tolist() == [2.0, 3.0]
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback")
    assert "sample 5 is broken" in msg and "__getitem__" in msg
    assert next(it).reshape(-1).tolist() == [6.0, 7.0]  # as in torch, iteration can go on
    del it, err  # (the traceback held a reference to the iterator)
    assert not any(_alive(p) for p in pids)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Failing(exc=KeyError), batch_size=2, num_workers=1))
    with pytest.raises(MyError, match="sample 5 is broken"):
        list(DataLoader(Failing(exc=MyError), batch_size=2, num_workers=1))


def _bad_init(worker_id):
    raise OSError(f"cannot open the shard of worker {worker_id}")


def test_worker_init_fn_error_is_raised():
    with pytest.raises(OSError, match="cannot open the shard of worker 0"):
        list(DataLoader(Squares(), batch_size=2, num_workers=1, worker_init_fn=_bad_init))


def test_killed_worker_gives_a_clear_error_not_a_hang():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal"):
        list(DataLoader(Killer(), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10


def test_breaking_out_of_the_loop_ends_the_workers():
    loader = DataLoader(Squares(200, delay=0.002), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = [w.pid for w in it._workers]
    for _ in it:
        break
    assert all(_alive(p) for p in pids)
    del it
    assert not any(_alive(p) for p in pids)


def test_timeout_raises():
    loader = DataLoader(Squares(4, delay=3.0), batch_size=2, num_workers=1, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        next(iter(loader))
    assert time.monotonic() - start < 3.0


def test_persistent_workers_survive_epochs_and_drop_stale_batches():
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    pids1 = {s["pid"] for b in loader for s in _unbatch(b)}
    for _b in loader:  # leave the second epoch early: its prefetched batches are stale
        break
    third = [s for b in loader for s in _unbatch(b)]
    assert [s["i"] for s in third] == list(range(8))
    assert {s["pid"] for s in third} == pids1
    it = loader._iterator
    pids = [w.pid for w in it._workers]
    del loader, it
    assert not any(_alive(p) for p in pids)
    stream = DataLoader(Stream(10, True), batch_size=3, num_workers=2, persistent_workers=True)
    first = [b.tolist() for b in stream]
    assert [b.tolist() for b in stream] == first and sorted(sum(first, [])) == list(range(10))


def test_ctrl_c_leaves_no_orphans(tmp_path):
    script = tmp_path / "ctrl_c.py"
    pid_file = tmp_path / "pids"
    script.write_text(textwrap.dedent(f"""
        import os, time, chainrule as cr
        from chainrule.utils.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 10000
            def __getitem__(self, i):
                time.sleep(0.01)
                return cr.tensor([float(i)])

        def record(worker_id):
            with open({str(pid_file)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")

        for i, b in enumerate(DataLoader(Slow(), batch_size=2, num_workers=2,
                                         worker_init_fn=record)):
            if i == 3:
                print("ready", flush=True)
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                            preexec_fn=_terminal_sigint)
    assert proc.stdout.readline().strip() == "ready"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    _, err = proc.communicate(timeout=30)
    assert "KeyboardInterrupt" in err
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


# -- contexts and options -------------------------------------------------------------------
def test_spawn_context_sends_tensor_datasets_through_shared_memory():
    ds = _tensor_ds(9)
    ref = _values(DataLoader(ds, batch_size=4))
    assert _values(DataLoader(ds, batch_size=4, num_workers=1,
                              multiprocessing_context="spawn")) == ref


def test_unpicklable_dataset_with_spawn_is_a_clear_error():
    class Local(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    with pytest.raises(RuntimeError, match="must be picklable"):
        next(iter(DataLoader(Local(), num_workers=1, multiprocessing_context="spawn")))


def test_default_context_follows_the_programs_start_method(monkeypatch):
    import multiprocessing

    from chainrule.utils.data._worker_iter import resolve_context

    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: None)
    assert resolve_context(None).get_start_method() == "fork"  # Linux, nothing chosen
    monkeypatch.setattr(multiprocessing, "get_start_method",
                        lambda allow_none=False: "forkserver")
    assert resolve_context(None).get_start_method() == "forkserver"
    spawn = multiprocessing.get_context("spawn")
    assert resolve_context(spawn) is spawn


def test_options_are_validated_as_torch_does():
    ds = _tensor_ds(4)
    with pytest.raises(ValueError, match="prefetch_factor option should be non-negative"):
        DataLoader(ds, num_workers=1, prefetch_factor=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="should specify a valid start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="valid context object"):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="can only be used with multi-process loading"):
        DataLoader(ds, multiprocessing_context="fork")
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2
    with pytest.warns(UserWarning, match="suggested max number of worker"):
        DataLoader(ds, num_workers=64)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true"):
        assert len(list(DataLoader(ds, batch_size=2, pin_memory=True, num_workers=1))) == 2
