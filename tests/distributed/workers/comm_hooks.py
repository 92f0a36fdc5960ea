"""DDP communication hooks, GradBucket and futures on real processes (test_comm_hooks.py)."""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
from chainrule.futures import Future
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel

DDP = DistributedDataParallel

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
cr.set_default_dtype(cr.float64)


def mlp():
    cr.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def grads(hook=None, state=None, cap=None, steps=2, dtype=cr.float64):
    """The gradients after ``steps`` backward passes (fresh each step) on rank-dependent
    data, with ``hook`` registered (or the default reduction)."""
    model = mlp().to(dtype)
    ddp = DDP(model, bucket_cap_mb=cap)
    if isinstance(hook, str):
        ddp._register_builtin_comm_hook(hook)
    elif hook is not None:
        ddp.register_comm_hook(state, hook)
    g = np.random.default_rng(100 + r)
    for _ in range(steps):
        model.zero_grad()
        X = cr.tensor(g.standard_normal((5, 6))).to(dtype)
        y = cr.tensor(g.integers(0, 3, 5))
        F.cross_entropy(ddp(X), y).backward()
    return [p.grad._data.copy() for p in model.parameters()]


def close(a, b, tol):
    return all(np.allclose(x, y, rtol=tol, atol=tol) for x, y in zip(a, b))


def sum_hook(state, bucket: dist.GradBucket) -> Future:
    """Reduce by sum instead of the average (the torch way: Work -> Future -> then)."""
    return dist.all_reduce(bucket.buffer(), async_op=True).get_future().then(
        lambda fut: fut.value()[0])


def allreduce_avg(process_group, bucket):
    t = bucket.buffer().div_(dist.get_world_size())
    return dist.all_reduce(t, async_op=True).get_future().then(lambda fut: fut.value()[0])


# 1. the hooks against the default reduction, with one bucket and with several
for cap in (None, 0.001):
    base = grads(cap=cap)
    assert close(grads(sum_hook, cap=cap), [n * g for g in base], 1e-12), "sum hook != n x"
    assert close(grads(allreduce_avg, cap=cap), base, 1e-12), "avg hook != default"
    assert close(grads(default_hooks.allreduce_hook, cap=cap), base, 1e-14)
    assert close(grads("ALLREDUCE", cap=cap), base, 1e-14)
    f16 = grads(default_hooks.fp16_compress_hook, cap=cap)
    scale = max(np.abs(g).max() for g in base)
    err = max(np.abs(a - b).max() for a, b in zip(f16, base))
    assert 0 < err < 2e-3 * scale, f"fp16 hook error {err} (scale {scale})"
    wrapped = grads(default_hooks.fp16_compress_wrapper(sum_hook), cap=cap)
    assert close(wrapped, [n * g for g in base], 5e-3), "fp16 wrapper of the sum hook"
    assert all(g.dtype == np.float64 for g in f16 + wrapped)
    f32 = grads(default_hooks.fp16_compress_hook, cap=cap, dtype=cr.float32)
    assert all(g.dtype == np.float32 for g in f32)

# 2. what the hook sees: every bucket once per synchronising backward, in order, with
#    is_last on the last; the undivided local gradients; nothing inside no_sync()
calls = []


def spy(state, bucket):
    calls.append((state, bucket.index(), bucket.is_last(), bucket.buffer().numel(),
                  [tuple(g.shape) for g in bucket.gradients()],
                  [tuple(p.shape) for p in bucket.parameters()]))
    grads_flat = np.concatenate([g._data.ravel() for g in bucket.gradients()])
    assert np.array_equal(grads_flat, bucket.buffer()._data)
    assert all(g.grad is not None for g in bucket.parameters())
    return default_hooks.allreduce_hook(None, bucket)


model = mlp()
ddp = DDP(model, bucket_cap_mb=0.001)  # 1 KiB buckets: several per pass from the 2nd on
ddp.register_comm_hook("S", spy)
X, y = cr.randn(5, 6), cr.randint(0, 3, (5,))
for step in range(3):
    calls.clear()
    F.cross_entropy(ddp(X), y).backward()
    k = len(ddp.reducer.buckets)
    assert [c[1] for c in calls] == list(range(k)), calls
    assert [c[2] for c in calls] == [False] * (k - 1) + [True]
    assert all(c[0] == "S" for c in calls)
    assert sum(c[3] for c in calls) == sum(p.numel() for p in model.parameters())
    assert sorted(s for c in calls for s in c[5]) == \
        sorted(tuple(p.shape) for p in model.parameters())
    assert [c[4] for c in calls] == [c[5] for c in calls]
    if step:
        assert k > 1, "expected several buckets after the rebuild"
calls.clear()
with ddp.no_sync():
    F.cross_entropy(ddp(X), y).backward()
assert calls == [], "no_sync() must not call the hook"
F.cross_entropy(ddp(X), y).backward()
assert len(calls) == len(ddp.reducer.buckets)

# 3. registration rules (torch's errors)
ddp = DDP(mlp())
ddp.register_comm_hook(None, sum_hook)
for bad, err, msg in (
        (lambda: ddp.register_comm_hook(None, sum_hook), RuntimeError, "only be called once"),
        (lambda: DDP(mlp()).register_comm_hook(None, 3), TypeError, "must be callable")):
    try:
        bad()
    except err as e:
        assert msg in str(e), e
    else:
        raise AssertionError(f"no {err.__name__} for {msg}")


def ann_bucket(state, bucket: int):
    pass


def ann_return(state, bucket) -> int:
    pass


for h, msg in ((ann_bucket, "bucket annotation"), (ann_return, "return annotation")):
    try:
        DDP(mlp()).register_comm_hook(None, h)
    except ValueError as e:
        assert msg in str(e)
    else:
        raise AssertionError(msg)
ddp = DDP(mlp())
F.cross_entropy(ddp(X), y).backward()
ddp.register_comm_hook(None, sum_hook)  # after a backward: allowed, as in torch 2.13
ddp = DDP(mlp())
ddp.register_comm_hook(None, lambda s, b: b.buffer())
try:
    F.cross_entropy(ddp(X), y).backward()
except RuntimeError as e:
    assert "must return a chainrule.futures.Future" in str(e), e
else:
    raise AssertionError("a hook returning a tensor must raise")
try:
    default_hooks.bf16_compress_hook(None, None)
except TypeError as e:
    assert "bfloat16" in str(e)
else:
    raise AssertionError("bf16")

# 4. Work.get_future: value is the list of the call's tensors, completed after wait
t = cr.tensor([float(r + 1)])
fut = dist.all_reduce(t, async_op=True).get_future()
doubled = fut.then(lambda f: f.value()[0] * 2)
assert doubled.wait().item() == n * (n + 1)
assert fut.done() and fut.value()[0] is t and t.item() == n * (n + 1) / 2

dist.destroy_process_group()
print(f"ok {r}")
