"""DDP communication hooks (register_comm_hook, GradBucket, default_hooks) and
chainrule.futures."""

import pytest

import chainrule.futures as futures

from . import _mpi


def test_comm_hooks_on_two_processes():
    """Sum hook = 2x the default; allreduce_hook = default; fp16 within float16 rounding;
    every bucket once per backward in order with is_last on the last; no_sync skips the
    hook; torch's registration errors; Work.get_future."""
    out = _mpi.check(_mpi.run(2, "comm_hooks"))
    assert out.count("ok") == 2


def test_future_then_chains_and_completes_once():
    f = futures.Future()
    g = f.then(lambda x: x.value() + 1)
    h = g.then(lambda x: x.value() * 10)
    seen = []
    f.add_done_callback(lambda x: seen.append(x.value()))
    assert not f.done() and not h.done()
    f.set_result(1)
    assert seen == [1] and g.done() and h.wait() == 20 and h.value() == 20
    with pytest.raises(RuntimeError, match="only be marked completed once"):
        f.set_result(2)
    assert futures.wait_all([f, g, h]) == [1, 2, 20]
    both = futures.collect_all([f, g])
    assert both.wait() == [f, g]
    assert futures.collect_all([]).wait() == []


def test_future_errors():
    f = futures.Future()
    with pytest.raises(RuntimeError, match="not complete"):
        f.wait()
    with pytest.raises(RuntimeError, match="not completed yet"):
        f.value()
    bad = f.then(lambda x: 1 / 0)
    f.set_result(0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        bad.wait()
    e = futures.Future()
    e.set_exception(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        e.wait()
    with pytest.raises(TypeError):
        futures.collect_all([1])


def test_future_matches_torch(torch):
    for mod in (torch.futures, futures):
        f = mod.Future()
        g = f.then(lambda x: x.value() * 3)
        f.set_result(2)
        assert (g.wait(), g.done(), mod.wait_all([f, g])) == (6, True, [2, 6])
    assert set(torch.futures.__all__) <= set(futures.__all__)
    public = {m for m in dir(torch.futures.Future) if not m.startswith("_")}
    assert public <= {m for m in dir(futures.Future) if not m.startswith("_")}
