"""``chainrule.nn.parallel`` (``torch.nn.parallel``): ``DistributedDataParallel`` on MPI, and
``DataParallel`` as the CPU passthrough PyTorch is without GPUs."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
