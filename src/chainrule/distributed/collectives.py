"""Collectives on chainrule tensors (``torch.distributed`` API) over MPI.

Each one starts the nonblocking MPI operation on the tensor's own array and either returns a
:class:`~chainrule.distributed.Work` (``async_op=True``) or waits for it with the group's
deadline. Every process of the group must call the same collectives in the same order.
Ranks named by ``src``/``dst`` are global ranks; ``group_src``/``group_dst`` are ranks in
``group``. Where a copy is unavoidable, see ``_work``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from . import mpi
from ._work import bump, buffer, chain, check_list, check_tensor, launch, mpi_op
from .c10d import ReduceOp, _resolve, group_peer

__all__ = [
    "all_gather", "all_gather_into_tensor", "all_reduce", "all_to_all", "all_to_all_single",
    "barrier", "broadcast", "gather", "monitored_barrier", "reduce", "reduce_scatter",
    "reduce_scatter_tensor", "scatter",
]


def _group(group, op: str):
    pg = _resolve(group, op)
    if pg is None:
        warnings.warn(f"Running {op} on a rank which does not belong to the given group.",
                      stacklevel=3)
        return None
    pg._seq += 1
    return pg


def _divide(arr, n):
    return lambda: np.divide(arr, n, out=arr)


def _same_numel(op, name, got, want):
    if got != want:
        raise ValueError(f"{op}: {name} has {got} elements but {want} are needed "
                         "(the world size times the input's)")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over all processes in place: afterwards every rank holds
    ``op(t_0, ..., t_{N-1})`` (elementwise; AVG is the sum divided by N).

    Example::

        t = cr.tensor([float(dist.get_rank())])
        dist.all_reduce(t)                    # every rank: 0 + 1 + ... + (N - 1)
    """
    check_tensor(tensor, "tensor", "all_reduce")
    pg = _group(group, "all_reduce")
    if pg is None:
        return None
    arr, back = buffer(tensor)
    mop, avg = mpi_op(op, arr.dtype, "all_reduce")
    req = pg._comm.Iallreduce(mpi.load().IN_PLACE, arr, op=mop)
    after = chain(_divide(arr, pg.size()) if avg else None, back, bump(tensor))
    return launch(pg, "all_reduce", [req], after, async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op: bool = False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` of every other rank (in place)."""
    check_tensor(tensor, "tensor", "broadcast")
    pg = _group(group, "broadcast")
    if pg is None:
        return None
    root = group_peer(pg, "broadcast", src, group_src, "src")
    arr, back = buffer(tensor)
    req = pg._comm.Ibcast(arr, root=root)
    return launch(pg, "broadcast", [req], chain(back, bump(tensor)), async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Reduce ``tensor`` over all processes into ``tensor`` of rank ``dst`` (the others'
    tensors are left as they were)."""
    check_tensor(tensor, "tensor", "reduce")
    pg = _group(group, "reduce")
    if pg is None:
        return None
    root = group_peer(pg, "reduce", dst, group_dst, "dst")
    mine = pg.rank() == root
    arr, back = buffer(tensor, write=mine)
    mop, avg = mpi_op(op, arr.dtype, "reduce")
    MPI = mpi.load()
    if mine:
        req = pg._comm.Ireduce(MPI.IN_PLACE, arr, op=mop, root=root)
        after = chain(_divide(arr, pg.size()) if avg else None, back, bump(tensor))
    else:
        req = pg._comm.Ireduce(arr, None, op=mop, root=root)
        after = None
    return launch(pg, "reduce", [req], after, async_op, [tensor])


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Concatenate every rank's ``input_tensor`` (in rank order) into ``output_tensor`` of
    shape ``(N * n, ...)`` or ``(N, n, ...)``; no copy."""
    check_tensor(output_tensor, "output_tensor", "all_gather_into_tensor")
    check_tensor(input_tensor, "input_tensor", "all_gather_into_tensor")
    pg = _group(group, "all_gather_into_tensor")
    if pg is None:
        return None
    _same_numel("all_gather_into_tensor", "output_tensor", output_tensor._data.size,
                input_tensor._data.size * pg.size())
    src, _ = buffer(input_tensor, write=False)
    out, back = buffer(output_tensor)
    req = pg._comm.Iallgather(src, out)
    return launch(pg, "all_gather_into_tensor", [req], chain(back, bump(output_tensor)),
                  async_op, [output_tensor])


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` = rank r's ``tensor`` on every rank (one copy out of a flat buffer)."""
    check_list(tensor_list, "tensor_list", "all_gather")
    check_tensor(tensor, "tensor", "all_gather")
    pg = _group(group, "all_gather")
    if pg is None:
        return None
    n = pg.size()
    if len(tensor_list) != n:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors; expected "
                         f"one per rank ({n})")
    for t in tensor_list:
        _same_numel("all_gather", "each tensor of tensor_list", t._data.size, tensor._data.size)
    src, _ = buffer(tensor, write=False)
    flat = np.empty((n,) + src.shape, src.dtype)
    req = pg._comm.Iallgather(src, flat)
    return launch(pg, "all_gather", [req], _scatter_out(flat, tensor_list), async_op,
                  tensor_list)


def _scatter_out(flat, tensors):
    def run():
        for t, part in zip(tensors, flat):
            if not t._data.flags.writeable:
                t._data = t._data.copy()
            t._data[...] = part.reshape(t._data.shape)
            t._version += 1
    return run


def _flat_in(tensors, dtype):
    return np.concatenate([np.asarray(t._data, dtype).reshape(-1) for t in tensors])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """Reduce ``input`` (N equal chunks, in rank order) over all ranks; rank r's ``output``
    receives the reduced chunk r. No copy."""
    check_tensor(output, "output", "reduce_scatter_tensor")
    check_tensor(input, "input", "reduce_scatter_tensor")
    pg = _group(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    _same_numel("reduce_scatter_tensor", "input", input._data.size,
                output._data.size * pg.size())
    src, _ = buffer(input, write=False)
    out, back = buffer(output)
    mop, avg = mpi_op(op, out.dtype, "reduce_scatter_tensor")
    req = pg._comm.Ireduce_scatter_block(src, out, op=mop)
    after = chain(_divide(out, pg.size()) if avg else None, back, bump(output))
    return launch(pg, "reduce_scatter_tensor", [req], after, async_op, [output])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``input_list[r]`` over all ranks into rank r's ``output`` (the list is joined
    into one buffer: one copy)."""
    check_tensor(output, "output", "reduce_scatter")
    check_list(input_list, "input_list", "reduce_scatter")
    pg = _group(group, "reduce_scatter")
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors; expected "
                         f"one per rank ({pg.size()})")
    for t in input_list:
        _same_numel("reduce_scatter", "each tensor of input_list", t._data.size,
                    output._data.size)
    out, back = buffer(output)
    src = _flat_in(input_list, out.dtype)
    mop, avg = mpi_op(op, out.dtype, "reduce_scatter")
    req = pg._comm.Ireduce_scatter_block(src, out, op=mop)
    after = chain(_divide(out, pg.size()) if avg else None, back, bump(output))
    return launch(pg, "reduce_scatter", [req], after, async_op, [output])


def gather(tensor, gather_list=None, dst=None, group=None, async_op: bool = False,
           group_dst=None):
    """Rank ``dst`` receives every rank's ``tensor`` into ``gather_list`` (one copy out of a
    flat buffer); other ranks pass no list."""
    check_tensor(tensor, "tensor", "gather")
    pg = _group(group, "gather")
    if pg is None:
        return None
    root = group_peer(pg, "gather", dst, group_dst, "dst")
    src, _ = buffer(tensor, write=False)
    if pg.rank() != root:
        if gather_list:
            raise ValueError("gather: Argument ``gather_list`` must NOT be specified on "
                             "non-destination ranks.")
        req = pg._comm.Igather(src, None, root=root)
        return launch(pg, "gather", [req], None, async_op)
    check_list(gather_list, "gather_list", "gather")
    if len(gather_list) != pg.size():
        raise ValueError(f"gather: gather_list has {len(gather_list)} tensors; expected one "
                         f"per rank ({pg.size()})")
    flat = np.empty((pg.size(),) + src.shape, src.dtype)
    req = pg._comm.Igather(src, flat, root=root)
    return launch(pg, "gather", [req], _scatter_out(flat, gather_list), async_op, gather_list)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op: bool = False,
            group_src=None):
    """Rank ``src`` sends ``scatter_list[r]`` to rank r's ``tensor`` (the list is joined into
    one buffer: one copy); other ranks pass no list."""
    check_tensor(tensor, "tensor", "scatter")
    pg = _group(group, "scatter")
    if pg is None:
        return None
    root = group_peer(pg, "scatter", src, group_src, "src")
    out, back = buffer(tensor)
    if pg.rank() != root:
        if scatter_list:
            raise ValueError("scatter: Argument ``scatter_list`` must NOT be specified on "
                             "non-source ranks.")
        flat = None
    else:
        check_list(scatter_list, "scatter_list", "scatter")
        if len(scatter_list) != pg.size():
            raise ValueError(f"scatter: scatter_list has {len(scatter_list)} tensors; "
                             f"expected one per rank ({pg.size()})")
        for t in scatter_list:
            _same_numel("scatter", "each tensor of scatter_list", t._data.size, out.size)
        flat = _flat_in(scatter_list, out.dtype)
    req = pg._comm.Iscatter(flat, out, root=root)
    return launch(pg, "scatter", [req], chain(back, bump(tensor)), async_op, [tensor])


def _counts(split, total_rows, row, n, op, name):
    if split is None or len(split) == 0:
        if total_rows % n:
            raise ValueError(f"{op}: {name} has {total_rows} rows, not divisible by the world "
                             f"size {n}; pass {name}_split_sizes")
        split = [total_rows // n] * n
    split = [int(s) for s in split]
    if len(split) != n or sum(split) != total_rows or min(split) < 0:
        raise ValueError(f"{op}: {name}_split_sizes {split} must have one non-negative entry "
                         f"per rank ({n}) summing to the {total_rows} rows of {name}")
    counts = np.array(split, np.int64) * row
    displs = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return counts.tolist(), displs.tolist()


def all_to_all_single(output, input, output_split_sizes=None,  # noqa: A002
                      input_split_sizes=None, group=None, async_op: bool = False):
    """Split ``input`` along dim 0 (equally, or by ``input_split_sizes``), send part r to
    rank r, and concatenate the parts received into ``output``. No copy."""
    check_tensor(output, "output", "all_to_all_single")
    check_tensor(input, "input", "all_to_all_single")
    pg = _group(group, "all_to_all_single")
    if pg is None:
        return None
    n = pg.size()
    src, _ = buffer(input, write=False)
    out, back = buffer(output)
    row_in = src.size // max(src.shape[0], 1) if src.ndim else 1
    row_out = out.size // max(out.shape[0], 1) if out.ndim else 1
    sc, sd = _counts(input_split_sizes, src.shape[0] if src.ndim else 1, row_in, n,
                     "all_to_all_single", "input")
    rc, rd = _counts(output_split_sizes, out.shape[0] if out.ndim else 1, row_out, n,
                     "all_to_all_single", "output")
    req = pg._comm.Ialltoallv([src, (sc, sd)], [out, (rc, rd)])
    return launch(pg, "all_to_all_single", [req], chain(back, bump(output)), async_op, [output])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """Send ``input_tensor_list[r]`` to rank r; receive rank r's into
    ``output_tensor_list[r]`` (through flat buffers: one copy each way)."""
    check_list(output_tensor_list, "output_tensor_list", "all_to_all")
    check_list(input_tensor_list, "input_tensor_list", "all_to_all")
    pg = _group(group, "all_to_all")
    if pg is None:
        return None
    n = pg.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise ValueError(f"all_to_all: both lists need one tensor per rank ({n}), got "
                         f"{len(output_tensor_list)} and {len(input_tensor_list)}")
    dtype = output_tensor_list[0]._data.dtype
    src = _flat_in(input_tensor_list, dtype)
    sc = [t._data.size for t in input_tensor_list]
    rc = [t._data.size for t in output_tensor_list]
    flat = np.empty(sum(rc), dtype)
    req = pg._comm.Ialltoallv([src, (sc, np.cumsum([0] + sc[:-1]).tolist())],
                              [flat, (rc, np.cumsum([0] + rc[:-1]).tolist())])
    parts = np.split(flat, np.cumsum(rc)[:-1])
    return launch(pg, "all_to_all", [req], _scatter_out(parts, output_tensor_list), async_op,
                  output_tensor_list)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Wait until every rank of ``group`` has called ``barrier``."""
    pg = _group(group, "barrier")
    if pg is None:
        return None
    req = pg._comm.Ibarrier()
    if async_op:
        return launch(pg, "barrier", [req], None, True)
    mpi.wait([req], pg, "barrier",
             None if timeout is None else mpi.timeout_seconds(timeout, "barrier"))
    return None


def monitored_barrier(group=None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A barrier that names the ranks that did not reach it: rank 0 waits for every other
    rank within ``timeout`` and raises ``RuntimeError`` naming the late ones (the first, or
    all with ``wait_all_ranks``); the others wait for rank 0's release."""
    pg = _group(group, "monitored_barrier")
    if pg is None:
        return
    MPI = mpi.load()
    limit = pg._timeout if timeout is None else mpi.timeout_seconds(timeout, "monitored_barrier")
    health, me, n = pg._health, pg.rank(), pg.size()
    tag_in, tag_out = mpi._ARRIVE, mpi._RELEASE
    if me != 0:
        pg._pongs.append(health.Isend(b"", 0, tag_in))
        req = health.Irecv(bytearray(1), 0, tag_out)
        _poll([req], pg, limit)
        if not req.Test():
            raise RuntimeError(f"[Rank {pg._ranks[me]}]: rank 0 did not release "
                               f"monitored_barrier within {limit * 1000:.0f} ms")
        return
    reqs = {r: health.Irecv(bytearray(1), r, tag_in) for r in range(1, n)}
    _poll(list(reqs.values()), pg, limit)
    late = [pg._ranks[r] for r, q in reqs.items() if not q.Test()]
    if late:
        who = late if wait_all_ranks else late[:1]
        raise RuntimeError(f"[Rank {pg._ranks[0]}]: Ranks {', '.join(map(str, who))} failed "
                           f"to pass monitoredBarrier in {limit * 1000:.0f} ms")
    MPI.Request.Waitall([health.Isend(b"x", r, tag_out) for r in range(1, n)])


def _poll(reqs, pg, limit):
    """Poll ``reqs`` until all complete or ``limit`` seconds pass (no abort)."""
    MPI = mpi.load()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if MPI.Request.Testall(list(reqs)):
            return
        mpi.serve_pings(pg)
        time.sleep(0.0005)
