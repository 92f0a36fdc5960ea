"""``chainrule.distributed.algorithms.ddp_comm_hooks`` (``torch.distributed.algorithms.
ddp_comm_hooks``): communication hooks for ``DistributedDataParallel.register_comm_hook``.
``default_hooks`` has ``allreduce_hook`` and ``fp16_compress_hook``; PowerSGD, quantization
and the other hook modules of PyTorch are not provided."""

from . import default_hooks  # noqa: F401

__all__ = ["default_hooks"]
