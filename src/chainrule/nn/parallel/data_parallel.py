"""``DataParallel``: PyTorch's single-process multi-GPU wrapper, here a passthrough.

PyTorch's ``nn.DataParallel`` splits each batch over the GPUs of one machine. Without GPUs
(``torch.cuda.is_available()`` False) it simply calls the module, and that is all it does
here: CPU code that wraps its model in ``DataParallel`` runs unchanged (state_dict keys get
the ``module.`` prefix, as in PyTorch). For training on several processes or machines use
``DistributedDataParallel``.
"""

from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Calls ``module`` on the whole batch (no GPUs: PyTorch does the same).

    Args:
        module: the model.
        device_ids, output_device: GPU choices; ignored without GPUs, as in PyTorch.
        dim: the batch dimension PyTorch would split along (unused).

    Example::

        model = nn.DataParallel(nn.Linear(4, 2))
        model(cr.randn(8, 4)).shape      # (8, 2); model.state_dict() keys "module.weight", ...
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """``module(*inputs, **module_kwargs)`` (PyTorch's functional DataParallel without GPUs)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
