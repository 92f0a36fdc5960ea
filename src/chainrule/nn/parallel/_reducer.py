"""The gradient reducer of ``DistributedDataParallel``: buckets, hooks, overlapped allreduce.

The design of PyTorch's ``Reducer``, on MPI:

* **Buckets.** Parameters are grouped by dtype into flat buffers of at most
  ``bucket_cap_mb``; each parameter's gradient has a fixed view into its bucket. The first
  iteration uses one bucket per dtype (the order gradients become ready is not known yet)
  unless ``find_unused_parameters``, which buckets the parameters in reverse definition
  order with a small (1 MiB) first bucket. During the first backward pass the order in
  which gradients become ready is recorded, and before the second forward the buckets are
  rebuilt in that order (limits: 1 MiB for the first bucket, then ``bucket_cap_mb``), so the
  first bucket to fill is the first to be reduced — as PyTorch does.
* **Hooks.** A post-accumulate-grad hook on every parameter copies the accumulated gradient
  into its bucket view. When a bucket is full it is divided by the world size in place and
  an ``MPI_Iallreduce`` (sum, in place) is started on its flat buffer. Buckets are launched
  strictly in bucket order, so every rank issues the same sequence of collectives. Each
  hook also calls ``MPI_Testall`` on the reductions in flight: MPI moves a nonblocking
  collective forward only inside MPI calls, and these calls are what lets the reduction of
  late layers' gradients proceed while earlier layers are still being differentiated.
* **End of the pass.** A callback queued on the engine (``queue_callback``) runs when the
  backward pass ends: it waits for every bucket (with the group's deadline) and copies the
  averaged values back into ``param.grad`` — or, with ``gradient_as_bucket_view``, makes
  ``param.grad`` the bucket view itself (no copy back).
* **Communication hooks.** With ``register_comm_hook`` the gradients are copied into the
  buckets undivided and each ready bucket is handed, in order, to ``hook(state,
  GradBucket)``; the returned futures are waited at the end of the pass and their values
  copied into the buckets.
* **Unused parameters.** With ``find_unused_parameters``, parameters that the forward
  outputs do not reach are marked ready at the start of the backward pass (their bucket
  slots hold their current gradient, or zeros), and a bitmap allreduce tells which were used
  on no rank: those keep their ``.grad`` untouched. Without it, a parameter that gets no
  gradient leaves its bucket unlaunched, and the next forward raises PyTorch's
  "Expected to have finished reduction" error naming the parameters.
"""

from __future__ import annotations

import numpy as np

from ...autograd.engine import queue_callback
from ...distributed import mpi
from ...distributed.grad_bucket import GradBucket
from ...futures import Future
from ...tensor import Tensor

FIRST_BUCKET_BYTES = 1024 * 1024


def assign_buckets(nbytes, keys, order, limits, sort: bool) -> list[list[int]]:
    """Group parameter indices ``order`` into buckets per dtype ``keys[i]``: a bucket closes
    once it holds at least its limit (``limits[k]`` for a dtype's k-th bucket, the last limit
    after that). ``sort`` orders buckets by their smallest index (PyTorch's first
    assignment); otherwise they stay in the order they filled."""
    open_buckets: dict = {}
    done = []
    for i in order:
        b = open_buckets.setdefault(keys[i], [[], 0, 0])
        b[0].append(i)
        b[1] += nbytes[i]
        if b[1] >= limits[min(b[2], len(limits) - 1)]:
            done.append(b[0])
            open_buckets[keys[i]] = [[], 0, b[2] + 1]
    done += [b[0] for b in open_buckets.values() if b[0]]
    if sort:
        done.sort(key=min)
    return done


class _Bucket:
    __slots__ = ("params", "flat", "views", "pending", "request", "future")

    def __init__(self, params, dtype):
        self.params = params
        size = sum(p._data.size for p in params)
        self.flat = np.zeros(size, dtype)
        self.views, start = [], 0
        for p in params:
            self.views.append(self.flat[start:start + p._data.size].reshape(p._data.shape))
            start += p._data.size
        self.pending = len(params)
        self.request = self.future = None


class Reducer:
    """Averages the gradients of ``params`` over ``pg`` during backward (see module doc)."""

    def __init__(self, params, names, pg, bucket_bytes: int, first_bucket_bytes: int,
                 find_unused: bool, as_view: bool, static_graph: bool):
        self.params, self.names, self.pg = params, names, pg
        self.bucket_bytes, self.first_bucket_bytes = bucket_bytes, first_bucket_bytes
        self.find_unused, self.as_view, self.static_graph = find_unused, as_view, static_graph
        self.expect_hooks = False
        self.in_backward = False
        self.unused = ()
        self.static_unused = None
        self.ready_order = []
        self.rebuild_pending = static_graph or not find_unused
        self.divisor = None  # None: the group size (join() may set the number of active ranks)
        self.num_iterations = 0
        self.comm_hook = None  # (state, hook) from DistributedDataParallel.register_comm_hook
        nbytes = [p._data.nbytes for p in params]
        keys = [p._data.dtype.str for p in params]
        if self.rebuild_pending:
            buckets = assign_buckets(nbytes, keys, range(len(params)), [1 << 62], True)
        else:
            limits = [first_bucket_bytes, bucket_bytes]
            buckets = assign_buckets(nbytes, keys, range(len(params)), limits, True)
        self._build(buckets[::-1])
        self.handles = [p.register_post_accumulate_grad_hook(self._hook_for(i))
                        for i, p in enumerate(params)]

    # -- buckets ------------------------------------------------------------------------
    def _build(self, bucket_indices) -> None:
        self.bucket_indices = [list(b) for b in bucket_indices]
        self.buckets = [_Bucket([self.params[i] for i in b], self.params[b[0]]._data.dtype)
                        for b in bucket_indices]
        self.where = {}
        for k, b in enumerate(bucket_indices):
            for slot, i in enumerate(b):
                self.where[i] = (k, slot)

    def _rebuild(self) -> None:
        order = list(self.ready_order)
        order += [i for i in range(len(self.params)) if i not in set(order)]
        nbytes = [p._data.nbytes for p in self.params]
        keys = [p._data.dtype.str for p in self.params]
        limits = [self.first_bucket_bytes, self.bucket_bytes]
        self._build(assign_buckets(nbytes, keys, order, limits, False))
        self.rebuild_pending = False

    # -- forward side ---------------------------------------------------------------------
    def prepare_for_forward(self) -> None:
        if self.in_backward:
            missing = [self.names[i] for i, b in sorted(self.where.items())
                       if self.buckets[b[0]].request is None and not self._marked[i]]
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior "
                "iteration before starting a new one. This error indicates that your module "
                "has parameters that were not used in producing loss. You can enable unused "
                "parameter detection by passing the keyword argument "
                "`find_unused_parameters=True` to `chainrule.nn.parallel."
                "DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss. Parameters which did not receive grad for "
                f"rank {self.pg._ranks[self.pg.rank()]}: {', '.join(missing)}")
        if self.rebuild_pending and self.num_iterations >= 1:
            self._rebuild()

    def prepare_for_backward(self, unused) -> None:
        self.expect_hooks = True
        self.unused = unused if unused is not None else ()

    # -- backward side --------------------------------------------------------------------
    def _hook_for(self, i):
        def hook(param):
            if self.expect_hooks:
                self._mark_ready(i, param)
        return hook

    def _start_pass(self) -> None:
        self.in_backward = True
        self._marked = [False] * len(self.params)
        self.next_bucket = 0
        for b in self.buckets:
            b.pending, b.request, b.future = len(b.params), None, None
        queue_callback(self._finalize)
        skip = list(self.unused)
        if self.static_unused:
            skip += [i for i in self.static_unused if i not in skip]
        for i in skip:
            self._mark_ready(i, self.params[i], record=False)

    def _mark_ready(self, i: int, param, record: bool = True) -> None:
        if not self.in_backward:
            self._start_pass()
        if self._marked[i]:
            raise RuntimeError(f"DistributedDataParallel: parameter {self.names[i]} was marked "
                               "ready twice in one backward pass (a reentrant backward?)")
        self._marked[i] = True
        if record and self.rebuild_pending and self.num_iterations == 0:
            self.ready_order.append(i)
        k, slot = self.where[i]
        bucket = self.buckets[k]
        view = bucket.views[slot]
        grad = param.grad
        if grad is None:
            view.fill(0)
        elif grad._data is not view:
            np.copyto(view, grad._data, casting="unsafe")
            if self.as_view:
                param.grad = Tensor._make(view, False, None, 0)
        bucket.pending -= 1
        self._launch_ready()

    def _launch_ready(self) -> None:
        MPI = mpi.load()
        n = self.pg.size()
        while self.next_bucket < len(self.buckets) and not self.buckets[self.next_bucket].pending:
            b = self.buckets[self.next_bucket]
            if self.comm_hook is not None:  # the user's reduction (it divides, if it wants)
                b.future = self._run_hook(self.next_bucket)
                self.next_bucket += 1
                continue
            if n > 1:
                np.divide(b.flat, self.divisor or n, out=b.flat, casting="unsafe")
                b.request = self.pg._comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)
            else:
                b.request = MPI.REQUEST_NULL
            self.pg._seq += 1
            self.next_bucket += 1
        if n > 1 and self.next_bucket:  # drive MPI's progress engine: overlap
            if self.comm_hook is not None:
                for b in self.buckets[:self.next_bucket]:
                    b.future.done()
            else:
                MPI.Request.Testall([b.request for b in self.buckets[:self.next_bucket]])

    def _run_hook(self, k: int):
        """Call the communication hook on bucket ``k``; return its future."""
        state, hook = self.comm_hook
        b = self.buckets[k]
        bucket = GradBucket(k, Tensor._make(b.flat, False, None, 0),
                            [Tensor._make(v, False, None, 0) for v in b.views], b.params,
                            k == len(self.buckets) - 1)
        fut = hook(state, bucket)
        if not isinstance(fut, Future):
            raise RuntimeError("DistributedDataParallel: the communication hook must return a "
                               "chainrule.futures.Future object (e.g. dist.all_reduce(t, "
                               "async_op=True).get_future()), but got "
                               f"{type(fut).__name__}")
        return fut

    def _hook_results(self) -> None:
        """Wait for each bucket's hook future and copy its value into the bucket."""
        for k, b in enumerate(self.buckets):
            value = b.future.wait()
            data = getattr(value, "_data", None)
            if not isinstance(value, Tensor) or data.size != b.flat.size:
                raise RuntimeError(
                    "DistributedDataParallel: the communication hook's future must hold a "
                    f"tensor of the bucket's {b.flat.size} elements (bucket {k}), got "
                    + (f"{value.numel()} elements" if isinstance(value, Tensor)
                       else type(value).__name__))
            if data is not b.flat:
                np.copyto(b.flat, data.reshape(-1), casting="unsafe")

    def _finalize(self) -> None:
        if self.static_graph and self.num_iterations == 0:
            self.static_unused = [i for i, m in enumerate(self._marked) if not m]
            for i in self.static_unused:
                self._mark_ready(i, self.params[i], record=False)
        if self.next_bucket < len(self.buckets):
            return  # some parameter got no gradient: prepare_for_forward reports it
        MPI = mpi.load()
        if self.comm_hook is not None:
            self._hook_results()
        else:
            requests = [b.request for b in self.buckets]
            mpi.wait(requests, self.pg, "DistributedDataParallel gradient all_reduce")
        used = None
        if self.find_unused:
            used = np.array([0 if i in self.unused else 1 for i in range(len(self.params))],
                            np.int32)
            req = self.pg._comm.Iallreduce(MPI.IN_PLACE, used, op=MPI.MAX)
            mpi.wait([req], self.pg, "DistributedDataParallel unused-parameter map")
        for i, p in enumerate(self.params):
            if used is not None and not used[i]:
                continue  # unused on every rank: its .grad stays as it was
            k, slot = self.where[i]
            view = self.buckets[k].views[slot]
            if self.as_view:
                if p.grad is None or p.grad._data is not view:
                    p.grad = Tensor._make(view, False, None, 0)
            elif p.grad is None:
                p.grad = Tensor._make(view.copy(), False, None, 0)
            else:
                np.copyto(p.grad._data, view, casting="unsafe")
        self.in_backward = False
        self.expect_hooks = False
        self.num_iterations += 1

    def shadow(self) -> None:
        """One iteration's collectives with zero gradients, for a rank that has run out of
        inputs inside ``DistributedDataParallel.join()``."""
        MPI = mpi.load()
        self.prepare_for_forward()
        requests = []
        for k, b in enumerate(self.buckets):
            b.flat.fill(0)
            if self.comm_hook is not None:  # the hook's collectives, on zeros
                b.future = self._run_hook(k)
                continue
            requests.append(self.pg._comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM))
            self.pg._seq += 1
        if self.comm_hook is not None:
            self._hook_results()
        else:
            mpi.wait(requests, self.pg, "DistributedDataParallel.join shadow all_reduce")
        if self.find_unused:
            used = np.zeros(len(self.params), np.int32)
            req = self.pg._comm.Iallreduce(MPI.IN_PLACE, used, op=MPI.MAX)
            mpi.wait([req], self.pg, "DistributedDataParallel unused-parameter map")

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
