"""``GradBucket``: what a ``DistributedDataParallel`` communication hook receives."""

from __future__ import annotations

from ..tensor import Tensor

__all__ = ["GradBucket"]


class GradBucket:
    """One bucket of gradients handed to a DDP communication hook
    (``torch.distributed.GradBucket``; see ``DistributedDataParallel.register_comm_hook``).

    ``buffer()`` is the flat 1-D tensor holding the bucket's gradients one after another
    (this rank's local gradients, not yet divided by the world size); ``gradients()`` are
    views into it with the parameters' shapes, in the order of ``parameters()``. A hook
    returns a ``chainrule.futures.Future`` whose value is a tensor of ``buffer()``'s size:
    DDP copies it back into the parameters' ``.grad``.

    Example::

        def sum_hook(state, bucket):       # reduce by sum instead of the average
            return dist.all_reduce(bucket.buffer(), async_op=True).get_future().then(
                lambda fut: fut.value()[0])
    """

    def __init__(self, index: int, buffer: Tensor, gradients, parameters, is_last: bool):
        self._index = index
        self._buffer = buffer
        self._gradients = list(gradients)
        self._parameters = list(parameters)
        self._is_last = bool(is_last)

    def index(self) -> int:
        """The bucket's index: buckets are reduced in index order, 0 first (from the second
        iteration on, bucket 0 holds the gradients that became ready first)."""
        return self._index

    def buffer(self) -> Tensor:
        """The flat 1-D tensor of the bucket's gradients (writing into it changes them)."""
        return self._buffer

    def gradients(self) -> list:
        """The gradient of each parameter of the bucket: views into ``buffer()``."""
        return list(self._gradients)

    def parameters(self) -> list:
        """The model parameters whose gradients the bucket holds (as ``gradients()``)."""
        return list(self._parameters)

    def is_last(self) -> bool:
        """Whether this is the last bucket reduced in the backward pass (the hook's last
        call of the iteration)."""
        return self._is_last

    def set_buffer(self, buffer: Tensor) -> None:
        """Replace the tensor ``buffer()`` returns (e.g. by a compressed copy)."""
        if not isinstance(buffer, Tensor):
            raise TypeError(f"GradBucket.set_buffer: expected a Tensor, got "
                            f"{type(buffer).__name__}")
        self._buffer = buffer

    def __repr__(self) -> str:
        return (f"GradBucket(index={self._index}, numel={self._buffer.numel()}, "
                f"parameters={len(self._parameters)}, is_last={self._is_last})")
