"""Process groups (``torch.distributed.distributed_c10d``): init, ranks, groups, ``ReduceOp``.

A :class:`ProcessGroup` wraps an MPI communicator (a duplicate of ``COMM_WORLD`` for the
default group, so chainrule's messages never mix with the user's own mpi4py traffic), the
global ranks of its members and its collective timeout.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from . import mpi

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "default_pg_timeout",
    "destroy_process_group", "get_backend", "get_global_rank", "get_group_rank",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
    "is_available", "is_backend_available", "is_gloo_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "is_torchelastic_launched", "is_ucc_available",
    "new_group",
]

#: the collective timeout when none is given and CHAINRULE_DIST_TIMEOUT is unset
default_pg_timeout = timedelta(seconds=60)

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """Reduction operations for ``all_reduce``, ``reduce``, ``reduce_scatter``:
    ``ReduceOp.SUM, AVG, PRODUCT, MIN, MAX`` for numbers, ``BAND, BOR, BXOR`` for integer and
    bool tensors (MPI has no AVG: it is SUM, then a division in place)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``; chainrule runs on ``"mpi"`` only."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name!r}")
        return str.__new__(cls, name.lower())


class ProcessGroup:
    """A group of processes that run collectives together (an MPI communicator).

    ``rank()`` is this process' rank in the group, ``size()`` the number of members.
    """

    def __init__(self, comm, ranks: list[int], timeout: float, name: str):
        self._comm = comm
        self._health = comm.Dup()  # pings and monitored_barrier, apart from user traffic
        self._ranks = list(ranks)
        self._timeout = timeout
        self._name = name
        self._seq = 0  # collectives started, reported when a deadline passes
        self._waiting = ""
        self._pongs = []
        self._destroyed = False

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return Backend.MPI

    @property
    def group_name(self) -> str:
        return self._name

    def _free(self) -> None:
        if not self._destroyed:
            self._destroyed = True
            for comm in (self._health, self._comm):
                comm.Free()

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else f"rank {self.rank()} of {self.size()}"
        return f"ProcessGroup(mpi, {self._name!r}, ranks={self._ranks}, {state})"


class _GroupMember:
    """``GroupMember.WORLD`` (the default group, None before init) and
    ``GroupMember.NON_GROUP_MEMBER`` (what ``new_group`` returns to non-members)."""

    NON_GROUP_MEMBER = -100

    @property
    def WORLD(self) -> ProcessGroup | None:
        return _STATE["default"]


GroupMember = _GroupMember()
group = _GroupMember()  # torch.distributed.group.WORLD
_STATE: dict = {"default": None, "groups": [], "count": 0}


def is_available() -> bool:
    """True: the package is importable (collectives need the ``[mpi]`` extra)."""
    return True


def is_mpi_available() -> bool:
    """True when mpi4py is installed (the only backend)."""
    return mpi.available()


def is_nccl_available() -> bool:
    return False


def is_gloo_available() -> bool:
    return False


def is_ucc_available() -> bool:
    return False


def is_backend_available(backend: str) -> bool:
    return str(backend).lower() == Backend.MPI and mpi.available()


def is_torchelastic_launched() -> bool:
    return False


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _STATE["default"] is not None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the job's processes into the default group (``torch.distributed`` API, MPI).

    Under ``mpiexec -n N`` (or ``srun`` with MPI) the processes find each other through MPI:
    ``init_method`` and ``store`` are not needed (accepted and ignored), and ``world_size`` /
    ``rank``, when given, must equal what MPI assigned. A plain ``python script.py`` is a
    job of one process (rank 0 of 1).

    Args:
        backend: ``"mpi"`` or None (the only backend).
        timeout: limit for any one collective to complete (``datetime.timedelta`` or
            seconds); default ``CHAINRULE_DIST_TIMEOUT`` seconds, else 60 s. When it passes,
            the rank names the peers that did not answer and stops the whole job.
        world_size, rank: checked against MPI's.

    Example::

        # mpiexec -n 2 python train.py
        import chainrule.distributed as dist
        dist.init_process_group("mpi")
        print(dist.get_rank(), dist.get_world_size())
    """
    if _STATE["default"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend.MPI if backend is None else Backend(backend)
    if name.split(":")[-1] != Backend.MPI:
        raise ValueError(f"init_process_group: backend {backend!r} is not available: "
                         "chainrule.distributed runs on MPI; use backend='mpi' (or leave it "
                         "out) and launch with mpiexec")
    seconds = mpi.timeout_seconds(timeout)
    MPI = mpi.load()
    world = MPI.COMM_WORLD
    for arg, value, actual in (("world_size", world_size, world.Get_size()),
                               ("rank", rank, world.Get_rank())):
        if value is not None and value != -1 and value != actual:
            raise ValueError(f"init_process_group: {arg}={value} but MPI started this process "
                             f"with {arg} {actual} (MPI fixes both: launch with "
                             f"mpiexec -n {world.Get_size() if arg == 'rank' else value})")
    comm = world.Dup()
    pg = ProcessGroup(comm, list(range(comm.Get_size())), seconds, group_name or "default")
    _STATE["default"] = pg
    _STATE["groups"] = [pg]
    mpi.install_excepthook(pg)
    from .launch import announce

    announce(pg.rank())  # lets `chainrule ... --nproc N` name a rank killed by a signal


def _default(op: str = "") -> ProcessGroup:
    pg = _STATE["default"]
    if pg is None:
        raise ValueError(_NOT_INIT)
    return pg


def _resolve(group, op: str):
    """The group to run on: None/WORLD -> default; NON_GROUP_MEMBER -> None."""
    if group is None:
        return _default(op)
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{op}: group must be a ProcessGroup from new_group() (or None for "
                        f"the default group), got {type(group).__name__}")
    _default(op)
    if group._destroyed:
        raise ValueError(f"{op}: {group!r} has been destroyed")
    return group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None,
              sort_ranks: bool = True):
    """A group of the given global ``ranks`` (None: all). Every process of the default group
    must call it (in the same order); non-members get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default("new_group")
    n = world.size()
    ranks = list(range(n)) if ranks is None else [int(r) for r in ranks]
    bad = [r for r in ranks if not 0 <= r < n]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct ranks in [0, {n - 1}], got {ranks}")
    if sort_ranks:
        ranks = sorted(ranks)
    seconds = world._timeout if timeout is None else mpi.timeout_seconds(timeout, "new_group")
    mpi_group = world._comm.Get_group().Incl(ranks)
    comm = world._comm.Create(mpi_group)
    mpi_group.Free()
    _STATE["count"] += 1
    if comm == mpi.load().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, seconds, group_desc or f"group{_STATE['count']}")
    _STATE["groups"].append(pg)
    return pg


def destroy_process_group(group=None) -> None:
    """Free ``group`` (None: every group, after which ``is_initialized()`` is False)."""
    if group is None or group is _STATE["default"]:
        _default("destroy_process_group")
        for pg in _STATE["groups"]:
            pg._free()
        _STATE["default"] = None
        _STATE["groups"] = []
        return
    pg = _resolve(group, "destroy_process_group")
    if pg is not None:
        pg._free()
        _STATE["groups"].remove(pg)


def get_rank(group=None) -> int:
    """This process' rank in ``group`` (default: the world); -1 when not a member."""
    pg = _resolve(group, "get_rank")
    return -1 if pg is None else pg.rank()


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (default: the world); -1 when not a member."""
    pg = _resolve(group, "get_world_size")
    return -1 if pg is None else pg.size()


def get_backend(group=None) -> Backend:
    _resolve(group, "get_backend")
    return Backend(Backend.MPI)


def get_process_group_ranks(group) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    pg = _resolve(group, "get_process_group_ranks")
    return [] if pg is None else list(pg._ranks)


def get_global_rank(group, group_rank: int) -> int:
    pg = _resolve(group, "get_global_rank")
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg!r}")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    pg = _resolve(group, "get_group_rank")
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg!r}")
    return pg._ranks.index(global_rank)


def group_peer(pg: ProcessGroup, op: str, rank, group_rank, name: str) -> int:
    """A peer given as a global ``rank`` or a ``group_rank``, as a rank of ``pg``."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"{op}: can not specify both {name} and group_{name}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"{op}: group_{name}={group_rank} is not a rank of {pg!r}")
        return int(group_rank)
    if rank is None:
        raise ValueError(f"{op}: pass {name}= (a global rank) or group_{name}=")
    if rank not in pg._ranks:
        raise ValueError(f"{op}: global rank {rank} is not part of group {pg!r}")
    return pg._ranks.index(rank)
