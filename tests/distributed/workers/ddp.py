"""DistributedDataParallel and DistributedSampler on real processes (test_ddp.py)."""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.utils.data import DistributedSampler

DDP = DistributedDataParallel
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
cr.set_default_dtype(cr.float64)


def mlp(seed):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def flat(model):
    return np.concatenate([p._data.ravel() for p in model.parameters()])


def same_on_all_ranks(arr) -> bool:
    everyone = [None] * n
    dist.all_gather_object(everyone, arr.tobytes().hex())
    return all(e == everyone[0] for e in everyone)


# 1. 20 Adam steps: DDP on N processes == one process on the same global batches (float64)
for cap in (None, 0.001):  # one bucket; several small buckets (overlapped with backward)
    ref = mlp(0)
    model = mlp(1 + r)  # different on every rank: DDP broadcasts rank 0's weights
    ddp = DDP(model, bucket_cap_mb=cap)
    if r == 0:
        assert np.array_equal(flat(model), flat(mlp(1)))
    with cr.no_grad():
        for p, q in zip(model.parameters(), ref.parameters()):
            q.copy_(p)
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    ref_opt = cr.optim.Adam(ref.parameters(), lr=1e-2)
    rng = np.random.default_rng(7)
    for _ in range(20):
        X = cr.tensor(rng.standard_normal((4 * n, 6)))
        y = cr.tensor(rng.integers(0, 3, 4 * n))
        opt.zero_grad()
        F.cross_entropy(ddp(X[r::n]), y[r::n]).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(X), y).backward()
        ref_opt.step()
    err = np.abs(flat(model) - flat(ref)).max()
    assert err < 1e-10, f"DDP differs from single-process training by {err}"
    assert same_on_all_ranks(flat(model)), "replicas are not bitwise equal"
    if cap is not None:
        assert len(ddp.reducer.buckets) > 1, ddp.reducer.bucket_indices
    print(f"rank {r} bucket_cap_mb={cap}: max |ddp - single| = {err:.2e}, "
          f"{len(ddp.reducer.buckets)} buckets")
assert list(ddp.state_dict())[0] == "module.0.weight"

# 2. no_sync: two local micro-batches, then a synchronised one == single process
model, ref = mlp(3), mlp(3)
ddp = DDP(model)
rng = np.random.default_rng(8)
batches = [(cr.tensor(rng.standard_normal((2 * n, 6))), cr.tensor(rng.integers(0, 3, 2 * n)))
           for _ in range(3)]
with ddp.no_sync():
    for X, y in batches[:2]:
        F.cross_entropy(ddp(X[r::n]), y[r::n]).backward()
local = np.concatenate([p.grad._data.ravel() for p in model.parameters()])
assert n == 1 or not same_on_all_ranks(local), "no_sync reduced the gradients"
X, y = batches[2]
F.cross_entropy(ddp(X[r::n]), y[r::n]).backward()
for X, y in batches:
    F.cross_entropy(ref(X), y).backward()
for p, q in zip(model.parameters(), ref.parameters()):
    np.testing.assert_allclose(p.grad._data, q.grad._data, rtol=0, atol=1e-12)


# 3. find_unused_parameters: a head used only on rank 0, a parameter used nowhere
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)
        self.head_a = nn.Linear(4, 1)
        self.head_b = nn.Linear(4, 1)
        self.never = nn.Linear(4, 1)

    def forward(self, x, use_b):
        h = self.trunk(x)
        return self.head_b(h) if use_b else self.head_a(h)


net = Branchy()
ddp = DDP(net, find_unused_parameters=True, bucket_cap_mb=0.0001)
copy = Branchy()
copy.load_state_dict(net.state_dict())  # rank 0's weights, broadcast by DDP
xs = [cr.tensor(np.random.default_rng(k).standard_normal((3, 4))) for k in range(n)]
x = xs[r]
ddp(x, use_b=(r == 0)).sum().backward()
assert net.never.weight.grad is None  # unused on every rank: its .grad is untouched
copy(xs[0], use_b=True).sum().backward()  # head_b's gradient comes from rank 0 alone
np.testing.assert_allclose(net.head_b.weight.grad._data, copy.head_b.weight.grad._data / n,
                           rtol=1e-12)
assert same_on_all_ranks(net.head_a.weight.grad._data)

# without it, a parameter that gets no gradient is reported at the next forward
net = Branchy()
ddp = DDP(net)
ddp(x, use_b=False).sum().backward()
try:
    ddp(x, use_b=False)
    raise AssertionError("the unfinished reduction was not reported")
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e) and "head_b.weight" in str(e), str(e)

# static_graph: the unused parameters are found in the first iteration
net = Branchy()
ddp = DDP(net, static_graph=True)
for _ in range(3):
    ddp.zero_grad()
    ddp(x, use_b=False).sum().backward()
assert same_on_all_ranks(net.head_a.weight.grad._data)

# 4. gradient_as_bucket_view: grads are views into the buckets and equal the copies
a, b = mlp(5), mlp(5)
dv, dc = DDP(a, gradient_as_bucket_view=True), DDP(b)
for _ in range(2):
    for d in (dv, dc):
        d.zero_grad()
        F.cross_entropy(d(batches[0][0][r::n]), batches[0][1][r::n]).backward()
for p, q in zip(a.parameters(), b.parameters()):
    assert p.grad._data.base is not None and np.shares_memory(
        p.grad._data, dv.reducer.buckets[dv.reducer.where[
            [id(t) for t in a.parameters()].index(id(p))][0]].flat)
    np.testing.assert_array_equal(p.grad._data, q.grad._data)

# 5. buffers: rank 0's running statistics are broadcast when wrapped and at each forward
bn_model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
with cr.no_grad():
    bn_model[1].running_mean.fill_(float(r))
ddp = DDP(bn_model)
assert bn_model[1].running_mean.tolist() == [0.0] * 4
ddp(x).sum().backward()  # each rank updates the statistics with its own batch
ddp.eval()
with cr.no_grad():
    ddp(x)  # the next forward starts from rank 0's statistics again
assert same_on_all_ranks(bn_model[1].running_mean._data)

# 6. DistributedSampler: disjoint shares covering every index once per epoch
for length, drop_last in ((20, False), (23, False), (23, True)):
    ds = list(range(length))
    sampler = DistributedSampler(ds, shuffle=True, seed=3, drop_last=drop_last)
    seen = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        idx = list(sampler)
        assert len(idx) == len(sampler) == sampler.num_samples
        everyone = [None] * n
        dist.all_gather_object(everyone, idx)
        union = [i for part in everyone for i in part]
        assert len(union) == sampler.total_size
        if drop_last:
            assert len(set(union)) == len(union)
        else:
            assert set(union) == set(ds)
            if length % n == 0:
                assert sorted(union) == ds  # each index exactly once
        seen.append(everyone)
    assert seen[0] != seen[1], "set_epoch did not change the order"

# 7. join(): uneven inputs (rank k runs 2 + 2k steps); the result equals a reference that
# averages, at each step, the gradients of the ranks still active over N (or over them)
for by_world in (True, False):
    model, ref = mlp(9), mlp(9)
    ddp = DDP(model)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = cr.optim.SGD(ref.parameters(), lr=0.1)

    def batch(k, i):
        g = np.random.default_rng(1000 * k + i)
        return cr.tensor(g.standard_normal((3, 6))), cr.tensor(g.integers(0, 3, 3))

    with ddp.join(divide_by_initial_world_size=by_world):
        for i in range(2 + 2 * r):
            opt.zero_grad()
            X, y = batch(r, i)
            F.cross_entropy(ddp(X), y).backward()
            opt.step()
    for i in range(2 + 2 * (n - 1)):
        active = [k for k in range(n) if i < 2 + 2 * k]
        total = [np.zeros_like(p._data) for p in ref.parameters()]
        for k in active:
            ref.zero_grad()
            X, y = batch(k, i)
            F.cross_entropy(ref(X), y).backward()
            total = [t + p.grad._data for t, p in zip(total, ref.parameters())]
        with cr.no_grad():
            for p, t in zip(ref.parameters(), total):
                p.sub_(cr.tensor(0.1 * t / (n if by_world else len(active))))
    err = np.abs(flat(model) - flat(ref)).max()
    assert err < 1e-12, f"join(divide_by_initial_world_size={by_world}) differs by {err}"
    assert same_on_all_ranks(flat(model))

dist.destroy_process_group()
print(f"ok {r}")
