"""``chainrule.distributed``: PyTorch's ``torch.distributed`` API on MPI (mpi4py).

    # mpiexec -n 2 python train.py      (or: chainrule train data.csv --nproc 2)
    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    t = cr.tensor([float(dist.get_rank())])
    dist.all_reduce(t, op=dist.ReduceOp.SUM)   # every rank: 0 + 1 = 1
    dist.destroy_process_group()

Install with ``pip install 'chainrule[mpi]'`` (mpi4py and the ``mpich`` wheel, which brings
``mpiexec``); on a cluster, mpi4py built against the site's MPI works the same way. Every
collective has a deadline (``init_process_group(timeout=...)``, ``CHAINRULE_DIST_TIMEOUT``,
default 60 s) and an uncaught exception on one rank stops all of them: a failed rank ends
the job, it never hangs it (see ``chainrule.distributed.mpi``).
"""

from .c10d import (  # noqa: F401
    Backend, GroupMember, ProcessGroup, ReduceOp, default_pg_timeout, destroy_process_group,
    get_backend, get_global_rank, get_group_rank, get_process_group_ranks, get_rank,
    get_world_size, group, init_process_group, is_available, is_backend_available,
    is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
    is_torchelastic_launched, is_ucc_available, new_group,
)
from . import algorithms  # noqa: F401,E402  (ddp_comm_hooks)
from ._work import Work  # noqa: F401
from .collectives import (  # noqa: F401
    all_gather, all_gather_into_tensor, all_reduce, all_to_all, all_to_all_single, barrier,
    broadcast, gather, monitored_barrier, reduce, reduce_scatter, reduce_scatter_tensor,
    scatter,
)
from .grad_bucket import GradBucket  # noqa: F401
from .p2p import (  # noqa: F401
    P2POp, all_gather_object, batch_isend_irecv, broadcast_object_list, gather_object, irecv,
    isend, recv, recv_object_list, scatter_object_list, send, send_object_list,
)

__all__ = [
    "Backend", "GradBucket", "GroupMember", "P2POp", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast", "broadcast_object_list",
    "default_pg_timeout", "destroy_process_group", "gather", "gather_object", "get_backend",
    "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank",
    "get_world_size", "group", "init_process_group", "irecv", "is_available",
    "is_backend_available", "is_gloo_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "is_torchelastic_launched", "is_ucc_available", "isend",
    "monitored_barrier", "new_group", "recv", "recv_object_list", "reduce", "reduce_scatter",
    "reduce_scatter_tensor", "scatter", "scatter_object_list", "send", "send_object_list",
]
