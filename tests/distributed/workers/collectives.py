"""Every collective against NumPy, on N real processes (run by test_collectives.py)."""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import ReduceOp

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()


def data(rank, shape=(3, 4), dtype=np.float64):
    x = np.random.default_rng(100 + rank).standard_normal(shape)
    return x.astype(dtype) if np.dtype(dtype).kind == "f" else (x * 10).astype(dtype)


everyone = [data(k) for k in range(n)]
mine = everyone[r]

# all_reduce: every op, in place, the tensor's own memory
expect = {ReduceOp.SUM: np.sum(everyone, 0), ReduceOp.AVG: np.mean(everyone, 0),
          ReduceOp.PRODUCT: np.prod(everyone, 0), ReduceOp.MIN: np.min(everyone, 0),
          ReduceOp.MAX: np.max(everyone, 0)}
for op, want in expect.items():
    t = cr.tensor(mine.copy())
    arr = t._data
    dist.all_reduce(t, op=op)
    assert t._data is arr, f"{op}: all_reduce replaced the tensor's array (a copy)"
    np.testing.assert_allclose(t._data, want, rtol=1e-12, err_msg=str(op))
ints = [data(k, (5,), np.int64) for k in range(n)]
for op, fn in ((ReduceOp.BAND, np.bitwise_and), (ReduceOp.BOR, np.bitwise_or),
               (ReduceOp.BXOR, np.bitwise_xor), (ReduceOp.SUM, np.add)):
    t = cr.tensor(ints[r].copy())
    dist.all_reduce(t, op=op)
    np.testing.assert_array_equal(t._data, fn.reduce(ints, axis=0), err_msg=str(op))
flags = cr.tensor(np.array([r == 0, True, False]))
dist.all_reduce(flags, op=ReduceOp.MAX)
assert flags.tolist() == [True, True, False]
f32 = cr.tensor(mine.astype(np.float32))
dist.all_reduce(f32)
assert f32.dtype == cr.float32
np.testing.assert_allclose(f32._data, np.sum(everyone, 0), rtol=1e-5)
# a non-contiguous view: reduced through a copy, written back into the same view
base = cr.tensor(np.stack([mine, mine]).transpose(1, 0, 2).copy())
view = base[:, 0, :]
dist.all_reduce(view)
np.testing.assert_allclose(view._data, np.sum(everyone, 0))

# async: Work handles
t = cr.tensor(mine.copy())
work = dist.all_reduce(t, async_op=True)
assert work.wait() is True and work.is_completed()
np.testing.assert_allclose(t._data, np.sum(everyone, 0))
assert dist.all_reduce(cr.tensor(mine.copy())) is None

# broadcast from the last rank
t = cr.tensor(mine.copy())
dist.broadcast(t, src=n - 1)
np.testing.assert_array_equal(t._data, everyone[n - 1])

# reduce to rank 1
t = cr.tensor(mine.copy())
dist.reduce(t, dst=1, op=ReduceOp.MAX)
np.testing.assert_array_equal(t._data, np.max(everyone, 0) if r == 1 else mine)

# all_gather (list) and all_gather_into_tensor (flat, no copy)
out = [cr.zeros(3, 4, dtype=cr.float64) for _ in range(n)]
dist.all_gather(out, cr.tensor(mine))
for k in range(n):
    np.testing.assert_array_equal(out[k]._data, everyone[k])
flat = cr.zeros(n * 3, 4, dtype=cr.float64)
dist.all_gather_into_tensor(flat, cr.tensor(mine))
np.testing.assert_array_equal(flat._data, np.concatenate(everyone))

# reduce_scatter_tensor and reduce_scatter: rank k gets the reduced chunk k
big = [data(10 + k, (n * 2, 3)) for k in range(n)]
total = np.sum(big, 0)
out = cr.zeros(2, 3, dtype=cr.float64)
dist.reduce_scatter_tensor(out, cr.tensor(big[r]))
np.testing.assert_allclose(out._data, total[2 * r:2 * r + 2])
out = cr.zeros(2, 3, dtype=cr.float64)
dist.reduce_scatter(out, [cr.tensor(big[r][2 * k:2 * k + 2]) for k in range(n)],
                    op=ReduceOp.AVG)
np.testing.assert_allclose(out._data, total[2 * r:2 * r + 2] / n)

# gather to rank 0, scatter from rank 0
got = [cr.zeros(3, 4, dtype=cr.float64) for _ in range(n)] if r == 0 else None
dist.gather(cr.tensor(mine), got, dst=0)
if r == 0:
    for k in range(n):
        np.testing.assert_array_equal(got[k]._data, everyone[k])
out = cr.zeros(3, 4, dtype=cr.float64)
dist.scatter(out, [cr.tensor(e) for e in everyone] if r == 0 else None, src=0)
np.testing.assert_array_equal(out._data, everyone[r])

# all_to_all_single, equal and uneven splits; all_to_all with lists
inp = cr.tensor(np.arange(n * 2, dtype=np.float64) + 100 * r)
out = cr.zeros(n * 2, dtype=cr.float64)
dist.all_to_all_single(out, inp)
want = np.concatenate([np.arange(2 * r, 2 * r + 2) + 100 * k for k in range(n)])
np.testing.assert_array_equal(out._data, want)
send_sizes = [k + 1 for k in range(n)]                     # rank r sends k+1 rows to rank k
recv_sizes = [r + 1] * n                                   # and receives r+1 rows from each
inp = cr.tensor(np.full((sum(send_sizes), 2), float(r)))
out = cr.zeros(sum(recv_sizes), 2, dtype=cr.float64)
dist.all_to_all_single(out, inp, recv_sizes, send_sizes)
np.testing.assert_array_equal(out._data[:, 0], np.repeat(np.arange(n), r + 1))
outs = [cr.zeros(2, dtype=cr.float64) for _ in range(n)]
dist.all_to_all(outs, [cr.tensor([float(r), float(k)]) for k in range(n)])
assert [o.tolist() for o in outs] == [[float(k), float(r)] for k in range(n)]

# point to point: a ring, blocking and nonblocking
nxt, prv = (r + 1) % n, (r - 1) % n
buf = cr.zeros(3, dtype=cr.float64)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, cr.full((3,), float(r), dtype=cr.float64), nxt),
                                dist.P2POp(dist.irecv, buf, prv)])
for w in works:
    w.wait()
assert buf.tolist() == [float(prv)] * 3 and works[1].source_rank() == prv
if r == 0:
    dist.send(cr.tensor([7.0]), dst=n - 1, tag=5)
elif r == n - 1:
    t = cr.zeros(1)
    assert dist.recv(t, tag=5) == 0 and t.tolist() == [7.0]

# objects as JSON
objs = [None] * n
dist.all_gather_object(objs, {"rank": r, "sq": [r * r]})
assert objs == [{"rank": k, "sq": [k * k]} for k in range(n)]
lst = [{"lr": 0.1}, "x", 3] if r == 0 else [None, None, None]
dist.broadcast_object_list(lst, src=0)
assert lst == [{"lr": 0.1}, "x", 3]
got = [None] * n if r == 0 else None
dist.gather_object(np.int64(r), got, dst=0)
assert r != 0 or got == list(range(n))
out = [None]
dist.scatter_object_list(out, [f"to {k}" for k in range(n)] if r == 0 else None, src=0)
assert out == [f"to {r}"]
try:
    dist.all_gather_object([None] * n, object())
    raise AssertionError("an object JSON cannot encode was sent")
except TypeError as e:
    assert "JSON" in str(e) and "pickle" in str(e)

# a subgroup: ranks {0, n-1}
g = dist.new_group([0, n - 1])
if r in (0, n - 1):
    t = cr.tensor([float(r)])
    dist.all_reduce(t, group=g)
    assert t.tolist() == [float(n - 1)]
    assert dist.get_world_size(g) == 2 and dist.get_process_group_ranks(g) == [0, n - 1]
else:
    assert g == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1

dist.barrier()
dist.monitored_barrier(timeout=10)
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"ok {r}")
