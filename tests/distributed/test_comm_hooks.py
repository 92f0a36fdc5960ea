"""DDP communication hooks (register_comm_hook, GradBucket, default_hooks) and
chainrule.futures."""

import sys

import pytest

import chainrule.futures as futures

from . import _mpi


def test_comm_hooks_on_two_processes():
    """Sum hook = 2x the default; allreduce_hook = default; fp16 within float16 rounding;
    every bucket once per backward in order with is_last on the last; no_sync skips the
    hook; torch's registration errors; Work.get_future."""
    out = _mpi.check(_mpi.run(2, "comm_hooks"))
    assert out.count("ok") == 2


def test_join_uneven_inputs_on_two_processes():
    """Join([ddp]) and ddp.join() equal a reference averaging the active ranks' gradients
    (over N or over the active ranks; summed with a comm hook); throw_on_early_termination
    raises on every rank at the same iteration; a user Joinable's hooks run as torch's."""
    out = _mpi.check(_mpi.run(2, "join", CHAINRULE_DIST_TIMEOUT=30))
    assert out.count("ok") == 2


def test_torch_paths_under_torch_compat():
    from chainrule import torch_compat

    real = {k: sys.modules.pop(k) for k in list(sys.modules)
            if k == "torch" or k.startswith("torch.")}  # PyTorch itself, if imported
    torch_compat.install()
    try:
        import torch
        from torch.distributed.algorithms import Join
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

        import chainrule
        assert torch.futures.Future is futures.Future
        assert torch.distributed.GradBucket is chainrule.distributed.GradBucket
        assert default_hooks.fp16_compress_hook is \
            chainrule.distributed.algorithms.ddp_comm_hooks.default_hooks.fp16_compress_hook
        assert Join is chainrule.distributed.algorithms.Join
    finally:
        torch_compat.uninstall()
        sys.modules.update(real)


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
