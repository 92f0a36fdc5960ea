"""``DistributedDataParallel``'s part in ``Join`` (uneven inputs): what a rank that has run
out of batches does while the others still train, and the final model agreement."""

from __future__ import annotations

import numpy as np

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...distributed.algorithms.join import JoinHook
from ...tensor import Tensor


class DDPJoinHook(JoinHook):
    """Shadows one DDP iteration per call (``main_hook``): the forward's buffer broadcast,
    then every bucket's reduction with zero gradients (through the communication hook if
    one is registered) and the unused-parameter map. ``post_hook`` gives every rank the
    parameters and buffers of the highest rank among those that joined last."""

    def __init__(self, ddp, divide_by_initial_world_size: bool = True):
        self.ddp = ddp
        ddp._divide_by_initial_world_size = bool(divide_by_initial_world_size)

    def main_hook(self) -> None:
        ddp = self.ddp
        if ddp.forward_sync_buffers and ddp._buffers_to_sync:
            ddp._broadcast(ddp._buffers_to_sync)
        ddp.reducer.shadow()

    def post_hook(self, is_last_joiner: bool) -> None:
        ddp = self.ddp
        ddp.reducer.divisor = None
        pg = ddp.process_group
        key = Tensor._make(np.array([pg.rank() if is_last_joiner else -1], np.int64), False,
                           None, 0)
        dist.all_reduce(key, op=dist.ReduceOp.MAX, group=pg)
        source = int(key._data[0])
        with no_grad():
            tensors = list(ddp.module.parameters()) + ddp._buffers_to_sync
            works = [dist.broadcast(t, group=pg, group_src=source, async_op=True)
                     for t in tensors]
        for w in works:
            w.wait()
