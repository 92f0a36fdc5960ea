"""``SyncBatchNorm`` (``torch.nn.modules.batchnorm``): batch normalisation whose training
statistics are those of the global batch across the processes of a ``chainrule.distributed``
group (PyTorch supports it on GPUs only; chainrule on its CPU/MPI backend), plus
``nn.Container`` (PyTorch's deprecated container base) and ``nn.factory_kwargs``."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._functional_layers import batch_norm
from .module import Module
from .normalization import _BatchNorm

__all__ = ["Container", "SyncBatchNorm", "factory_kwargs"]


class _AllReduceSum(Function):
    """y = sum over the group's processes of x; its VJP is the same sum of the gradients
    (each rank's loss depends on every rank's x through y)."""

    @staticmethod
    def forward(ctx, x, group):
        from .. import distributed as dist

        ctx.group = group
        y = x.clone()
        dist.all_reduce(y, group=group)
        return y

    @staticmethod
    def backward(ctx, grad):
        from .. import distributed as dist

        g = grad.clone()
        dist.all_reduce(g, group=ctx.group)
        return g, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation with statistics over the whole distributed batch: in training,
    mean and (biased) variance per channel are all-reduced over the process group (two
    all-reduces, differentiable: the backward all-reduces the gradient terms as PyTorch's),
    so every process normalises with the global statistics; running statistics use the
    unbiased global variance. Without an initialised process group of more than one process,
    or in eval mode, it is ``BatchNorm``.

    Args: num_features, eps, momentum, affine, track_running_stats, bias: as ``BatchNorm``;
        process_group: the group to synchronise over (default: the whole world).

    Shape: (N, C, *) (at least 2-D), output the same.

    Example::

        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(4)))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):  # noqa: A002
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def _group_size(self) -> int:
        from .. import distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return 1
        return dist.get_world_size(self.process_group)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}): input of shape "
                             f"{tuple(input.shape)} has {input.shape[1]} channels")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        bn_training = self.training or self.running_mean is None
        if not (bn_training and self.training) or self._group_size() == 1:
            track = self.training and self.track_running_stats
            return batch_norm(input, self.running_mean if track or not bn_training else None,
                              self.running_var if track or not bn_training else None,
                              self.weight, self.bias, bn_training, momentum, self.eps)
        return self._synced(input, momentum)

    def _synced(self, x: Tensor, momentum: float) -> Tensor:
        from .. import distributed as dist

        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        count = Tensor._make(np.asarray(float(x.numel() // c), x._data.dtype), False, None, 0)
        dist.all_reduce(count, group=self.process_group)
        n = float(count._data)
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(x.shape)}")
        mean = _AllReduceSum.apply(x.sum(axes), self.process_group) / n
        xc = x - mean.reshape(shape)
        var = _AllReduceSum.apply((xc * xc).sum(axes), self.process_group) / n
        out = xc * (var + self.eps).rsqrt().reshape(shape)
        if self.training and self.track_running_stats:
            with no_grad():
                self.running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                self.running_var.mul_(1 - momentum).add_(var.detach() * (momentum * n / (n - 1)))
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` (recursively) replaced by a SyncBatchNorm
        holding the same parameters (shared) and buffers."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group,
                                bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


class Container(Module):
    """PyTorch's deprecated container: the modules given as keyword arguments become
    children (use ``nn.Module`` instead)."""

    def __init__(self, **kwargs):
        super().__init__()
        warnings.warn("nn.Container is deprecated. All of it's functionality is now "
                      "implemented in nn.Module. Subclass that instead.", stacklevel=2)
        for key, value in kwargs.items():
            self.add_module(key, value)


def factory_kwargs(kwargs):
    """The ``device``/``dtype``/``memory_format`` entries of ``kwargs`` (and of a nested
    ``factory_kwargs`` dict), for factory functions; other keys raise TypeError."""
    if kwargs is None:
        return {}
    simple = {"device", "dtype", "memory_format"}
    expected = simple | {"factory_kwargs"}
    if not kwargs.keys() <= expected:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected}")
    r = dict(kwargs.get("factory_kwargs", {}))
    for k in simple:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
