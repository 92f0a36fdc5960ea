"""``chainrule.distributed.algorithms`` (``torch.distributed.algorithms``): DDP
communication hooks (``ddp_comm_hooks``) and the join context manager for uneven inputs
(``Join``)."""

from . import ddp_comm_hooks  # noqa: F401
from .join import Join, Joinable, JoinHook

__all__ = ["Join", "JoinHook", "Joinable", "ddp_comm_hooks"]
