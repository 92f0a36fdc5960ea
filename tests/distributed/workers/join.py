"""Join / Joinable / JoinHook and DDP's join on real processes (test_comm_hooks.py)."""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed.algorithms import Join, Joinable, JoinHook
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel

DDP = DistributedDataParallel
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
cr.set_default_dtype(cr.float64)


def mlp():
    cr.manual_seed(9)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def flat(model):
    return np.concatenate([p._data.ravel() for p in model.parameters()])


def batch(k, i):
    g = np.random.default_rng(1000 * k + i)
    return cr.tensor(g.standard_normal((3, 6))), cr.tensor(g.integers(0, 3, 3))


def steps(k):
    return 2 + 2 * k


def sum_hook(state, bucket):
    return dist.all_reduce(bucket.buffer(), async_op=True).get_future().then(
        lambda fut: fut.value()[0])


def reference(scale):
    """SGD where each step's update is scale(active) * sum of the active ranks' grads."""
    ref = mlp()
    for i in range(steps(n - 1)):
        active = [k for k in range(n) if i < steps(k)]
        total = [np.zeros_like(p._data) for p in ref.parameters()]
        for k in active:
            ref.zero_grad()
            X, y = batch(k, i)
            F.cross_entropy(ref(X), y).backward()
            total = [t + p.grad._data for t, p in zip(total, ref.parameters())]
        with cr.no_grad():
            for p, t in zip(ref.parameters(), total):
                p.sub_(cr.tensor(0.1 * t * scale(len(active))))
    return flat(ref)


def train(ctx_of, hook=None):
    model = mlp()
    ddp = DDP(model)
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with ctx_of(ddp):
        for i in range(steps(r)):
            opt.zero_grad()
            X, y = batch(r, i)
            F.cross_entropy(ddp(X), y).backward()
            opt.step()
    return flat(model)


def same_on_all_ranks(arr):
    everyone = [None] * n
    dist.all_gather_object(everyone, arr.tobytes().hex())
    return all(e == everyone[0] for e in everyone)


# 1. the generic Join([ddp]) == ddp.join(); both divisors; with a comm hook (sum)
for name, ctx, scale in (
        ("ddp.join()", lambda d: d.join(), lambda a: 1 / n),
        ("Join([ddp], divide_by_initial_world_size=False)",
         lambda d: Join([d], divide_by_initial_world_size=False), lambda a: 1 / a)):
    got = train(ctx)
    err = np.abs(got - reference(scale)).max()
    assert err < 1e-12, f"{name} differs by {err}"
    assert same_on_all_ranks(got)
got = train(lambda d: d.join(), hook=sum_hook)  # joined ranks run the hook on zeros
err = np.abs(got - reference(lambda a: 1.0)).max()
assert err < 1e-12, f"join with a sum comm hook differs by {err}"
assert same_on_all_ranks(got)

# 2. throw_on_early_termination: every rank raises at the iteration rank 0 runs out
model = mlp()
ddp = DDP(model)
done = 0
try:
    with ddp.join(throw_on_early_termination=True):
        for i in range(steps(r)):
            X, y = batch(r, i)
            F.cross_entropy(ddp(X), y).backward()
            done += 1
except RuntimeError as e:
    msg = str(e)
else:
    raise AssertionError("throw_on_early_termination did not raise")
assert done == steps(0), (r, done)
want = "Rank 0 exhausted all inputs." if r == 0 else "Detected at least one rank"
assert want in msg, msg
assert not ddp._join_config.enable  # the manager is off again: a later forward works
F.cross_entropy(ddp(*batch(0, 0)[:1]), batch(0, 0)[1]).backward()


# 3. a user Joinable: main_hook once per iteration it missed; post_hook(is_last_joiner)
class Counter(Joinable):
    def __init__(self):
        super().__init__()
        self.shadowed, self.last = 0, None

    def step(self):
        Join.notify_join_context(self)
        t = cr.tensor([1.0])
        dist.all_reduce(t)
        return t.item()

    def join_hook(self, **kwargs):
        outer = self

        class Hook(JoinHook):
            def main_hook(self):
                outer.shadowed += 1
                dist.all_reduce(cr.tensor([0.0]))

            def post_hook(self, is_last_joiner):
                outer.last = is_last_joiner
        return Hook()

    @property
    def join_device(self):
        return cr.device("cpu")

    @property
    def join_process_group(self):
        return dist.group.WORLD


c = Counter()
with Join([c]):
    seen = [c.step() for _ in range(1 + r)]
assert c.shadowed == n - 1 - r and c.last == (r == n - 1), (r, c.shadowed, c.last)
assert seen == [float(n - i) for i in range(1 + r)], seen  # joined ranks add 0
try:
    Join([])
except ValueError as e:
    assert "at least one joinable" in str(e)
else:
    raise AssertionError("Join([]) must raise")

dist.destroy_process_group()
print(f"ok {r}")
