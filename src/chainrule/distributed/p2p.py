"""Point-to-point messages (``send``/``recv``, ``isend``/``irecv``, ``batch_isend_irecv``)
and collectives of Python objects encoded as JSON (never pickle).

**Objects are JSON.** ``broadcast_object_list``, ``all_gather_object``, ``gather_object``,
``scatter_object_list``, ``send_object_list`` and ``recv_object_list`` accept what
``json.dumps`` accepts — numbers (NumPy scalars become Python numbers), strings, bools,
None, lists and dicts with string keys — and anything else raises ``TypeError``. JSON turns
tuples into lists and integer dict keys into strings. Tensors go through the tensor
collectives; chainrule never unpickles bytes from another process.
"""

from __future__ import annotations

import json

import numpy as np

from . import mpi
from ._work import Work, buffer, check_tensor
from .c10d import _resolve, group_peer
from .collectives import _group

__all__ = [
    "P2POp", "all_gather_object", "batch_isend_irecv", "broadcast_object_list",
    "gather_object", "irecv", "isend", "recv", "recv_object_list", "scatter_object_list",
    "send", "send_object_list",
]


def _p2p_group(group, op):
    pg = _resolve(group, op)
    if pg is not None:
        pg._seq += 1
    return pg


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> Work | None:
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work`` to ``wait()`` on."""
    check_tensor(tensor, "tensor", "isend")
    pg = _p2p_group(group, "isend")
    if pg is None:
        return None
    peer = group_peer(pg, "isend", dst, group_dst, "dst")
    arr, _ = buffer(tensor, write=False)
    return Work(pg, "isend", [pg._comm.Isend(arr, peer, tag)], result=[tensor])


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> Work | None:
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank)."""
    check_tensor(tensor, "tensor", "irecv")
    pg = _p2p_group(group, "irecv")
    if pg is None:
        return None
    MPI = mpi.load()
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = group_peer(pg, "irecv", src, group_src, "src")
    arr, back = buffer(tensor)
    status = MPI.Status()
    req = pg._comm.Irecv(arr, peer, tag)

    def finish():
        if back is not None:
            back()
        tensor._version += 1
    return Work(pg, "irecv", [req], finish, [tensor], [status])


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    """Send ``tensor`` to rank ``dst`` and wait until it is on its way (with the deadline)."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    """Receive into ``tensor`` from rank ``src`` (None: any); returns the sender's global
    rank (-1 when this process is not in ``group``)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    return work.source_rank()


class P2POp:
    """One send or receive for :func:`batch_isend_irecv`: ``P2POp(dist.isend, t, peer)``."""

    def __init__(self, op, tensor, peer=None, group=None, tag: int = 0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("P2POp: op must be chainrule.distributed.isend or irecv")
        check_tensor(tensor, "tensor", "P2POp")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list) -> list[Work]:
    """Start every send and receive of ``p2p_op_list``; returns their ``Work`` handles."""
    works = []
    for p in p2p_op_list:
        if p.op is isend:
            works.append(isend(p.tensor, p.peer, p.group, p.tag, p.group_peer))
        else:
            works.append(irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer))
    return works


# -- Python objects as JSON -------------------------------------------------------------
def _plain(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"object of type {type(o).__name__} is not JSON-encodable")


def _encode(obj, op: str) -> np.ndarray:
    try:
        text = json.dumps(obj, default=_plain, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: {e}; chainrule sends objects as JSON, never pickle (send "
                        "tensors with the tensor collectives, or convert to numbers, strings, "
                        "lists and dicts)") from None
    return np.frombuffer(text.encode("utf-8"), np.uint8)


def _decode(data) -> object:
    return json.loads(bytes(data).decode("utf-8"))


def _wait(pg, op, req):
    mpi.wait([req], pg, op)


def broadcast_object_list(object_list: list, src=None, group=None, device=None,
                          group_src=None) -> None:
    """Rank ``src``'s ``object_list`` entries replace every other rank's (same length)."""
    pg = _group(group, "broadcast_object_list")
    if pg is None:
        return
    root = group_peer(pg, "broadcast_object_list", src, group_src, "src")
    size = np.zeros(1, np.int64)
    if pg.rank() == root:
        data = _encode(list(object_list), "broadcast_object_list")
        size[0] = data.size
    _wait(pg, "broadcast_object_list", pg._comm.Ibcast(size, root=root))
    if pg.rank() != root:
        data = np.empty(int(size[0]), np.uint8)
    _wait(pg, "broadcast_object_list", pg._comm.Ibcast(data, root=root))
    if pg.rank() != root:
        values = _decode(data)
        if len(values) != len(object_list):
            raise ValueError(f"broadcast_object_list: rank {src} sent {len(values)} objects "
                             f"but this rank's object_list has {len(object_list)}")
        object_list[:] = values


def _gathered(pg, op, data, root=None):
    """All ranks' byte strings at every rank (root None) or at group rank ``root``."""
    n = pg.size()
    sizes = np.zeros(n, np.int64)
    mine = np.array([data.size], np.int64)
    if root is None:
        _wait(pg, op, pg._comm.Iallgather(mine, sizes))
    else:
        _wait(pg, op, pg._comm.Igather(mine, sizes if pg.rank() == root else None, root=root))
    if root is not None and pg.rank() != root:
        _wait(pg, op, pg._comm.Igatherv(data, None, root=root))
        return None
    flat = np.empty(int(sizes.sum()), np.uint8)
    spec = [flat, (sizes.tolist(), np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist())]
    if root is None:
        _wait(pg, op, pg._comm.Iallgatherv(data, spec))
    else:
        _wait(pg, op, pg._comm.Igatherv(data, spec, root=root))
    return [_decode(part) for part in np.split(flat, np.cumsum(sizes)[:-1])]


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` = rank r's ``obj`` on every rank (``object_list`` has N entries)."""
    pg = _group(group, "all_gather_object")
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries; "
                         f"expected one per rank ({pg.size()})")
    object_list[:] = _gathered(pg, "all_gather_object", _encode(obj, "all_gather_object"))


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    """Rank ``dst`` receives every rank's ``obj`` into ``object_gather_list``."""
    pg = _group(group, "gather_object")
    if pg is None:
        return
    root = group_peer(pg, "gather_object", dst, group_dst, "dst")
    if pg.rank() == root and (object_gather_list is None or
                              len(object_gather_list) != pg.size()):
        raise ValueError(f"gather_object: object_gather_list on the destination needs one "
                         f"entry per rank ({pg.size()})")
    values = _gathered(pg, "gather_object", _encode(obj, "gather_object"), root)
    if values is not None:
        object_gather_list[:] = values


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src=None, group=None, group_src=None) -> None:
    """Rank ``src`` sends ``scatter_object_input_list[r]`` to rank r, which finds it in
    ``scatter_object_output_list[0]``."""
    pg = _group(group, "scatter_object_list")
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("scatter_object_list: scatter_object_output_list must be a non-empty "
                         "list")
    root = group_peer(pg, "scatter_object_list", src, group_src, "src")
    n, op = pg.size(), "scatter_object_list"
    size = np.zeros(1, np.int64)
    sizes = spec = None
    if pg.rank() == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != n:
            raise ValueError(f"{op}: the source needs one input object per rank ({n})")
        parts = [_encode(o, op) for o in scatter_object_input_list]
        sizes = np.array([p.size for p in parts], np.int64)
        flat = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        spec = [flat, (sizes.tolist(), np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist())]
    _wait(pg, op, pg._comm.Iscatter(sizes, size, root=root))
    data = np.empty(int(size[0]), np.uint8)
    _wait(pg, op, pg._comm.Iscatterv(spec, data, root=root))
    scatter_object_output_list[0] = _decode(data)


def send_object_list(object_list: list, dst=None, group=None, device=None,
                     group_dst=None) -> None:
    """Send the objects of ``object_list`` to rank ``dst`` (as JSON)."""
    pg = _p2p_group(group, "send_object_list")
    if pg is None:
        return
    peer = group_peer(pg, "send_object_list", dst, group_dst, "dst")
    data = _encode(list(object_list), "send_object_list")
    size = np.array([data.size], np.int64)
    _wait(pg, "send_object_list", pg._comm.Isend(size, peer, 0x7F01))
    _wait(pg, "send_object_list", pg._comm.Isend(data, peer, 0x7F02))


def recv_object_list(object_list: list, src=None, group=None, device=None,
                     group_src=None) -> int:
    """Receive ``len(object_list)`` objects from rank ``src`` (None: any) into the list;
    returns the sender's global rank."""
    pg = _p2p_group(group, "recv_object_list")
    if pg is None:
        return -1
    MPI = mpi.load()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        group_peer(pg, "recv_object_list", src, group_src, "src")
    size = np.zeros(1, np.int64)
    status = MPI.Status()
    req = pg._comm.Irecv(size, peer, 0x7F01)
    mpi.wait([req], pg, "recv_object_list", statuses=[status])
    sender = status.Get_source()
    data = np.empty(int(size[0]), np.uint8)
    _wait(pg, "recv_object_list", pg._comm.Irecv(data, sender, 0x7F02))
    values = _decode(data)
    object_list[:len(values)] = values
    return pg._ranks[sender]

