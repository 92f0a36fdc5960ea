"""Lazy modules (``torch.nn.modules.lazy``): layers whose input size is inferred on the first
call. ``UninitializedParameter``/``UninitializedBuffer`` hold no data until ``materialize``;
``LazyModuleMixin`` runs ``initialize_parameters(*args)`` before the first forward, then the
module becomes its ``cls_to_become`` (``LazyLinear`` -> ``Linear``), with the constructor
arguments of that class recorded (so ``chainrule.save`` of the model works afterwards).
Loading a state dict into a lazy module materialises its parameters with the saved shapes.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .conv3d import Conv3d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .normalization_extra import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .parameter import (  # noqa: F401  (torch.nn.parameter defines them; re-exported here)
    Parameter, UninitializedBuffer, UninitializedParameter, UninitializedTensorMixin, is_lazy,
)

__all__ = [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear",
    "LazyModuleMixin", "UninitializedBuffer", "UninitializedParameter",
]


def _install_lazy_hooks(self) -> None:
    d = self.__dict__
    d["_load_hook"] = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
    d["_initialize_hook"] = self.register_forward_pre_hook(self._infer_parameters,
                                                           with_kwargs=True)


class LazyModuleMixin:
    """Mixin of modules that infer parameter shapes from their first input: define
    ``initialize_parameters(*args, **kwargs)`` and set ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _install_lazy_hooks(self)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, t in self._parameters.items():
            if t is not None:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else t.detach()
        for name, t in self._buffers.items():
            if t is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = t if keep_vars or is_lazy(t) else t.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        for name, t in (*self._parameters.items(), *self._buffers.items()):
            key = prefix + name
            if key in state_dict and t is not None and is_lazy(t):
                value = state_dict[key]
                if not is_lazy(value):
                    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
                    with no_grad():
                        t.materialize(arr.shape)

    def initialize_parameters(self, *args, **kwargs):
        """Materialise the parameters from the first input (each lazy module defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        d = module.__dict__
        d.pop("_initialize_hook").remove()
        d.pop("_load_hook").remove()
        if module.cls_to_become is not None:
            d["_init_args"] = module._become_args()
            module.__class__ = module.cls_to_become
        return None

    def _become_args(self):
        return (), {}

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is inferred from the first input's last dim.

    Args: out_features, bias (True).
    Shape: input (*, H_in) -> (*, out_features); becomes ``Linear(H_in, out_features)``.

    Example::

        >>> m = nn.LazyLinear(4)
        >>> m(cr.randn(2, 7)).shape, type(m).__name__, m.in_features
        (chainrule.Size([2, 4]), 'Linear', 7)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        elif self.in_features == 0:  # materialised by load_state_dict
            self.in_features = self.weight.shape[1]

    def _become_args(self):
        return (self.in_features, self.out_features), {"bias": self.bias is not None}


class _LazyConvXdMixin(LazyModuleMixin):
    """Lazy convolutions: ``in_channels`` from the first input's channel dim."""

    _nd = 2

    def _lazy_setup(self, out_channels, bias, dtype):
        self.in_channels, self.out_channels = 0, out_channels
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:  # noqa: A002
        if not self.has_uninitialized_params():
            return
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{list(input.shape)}")
        self.in_channels = input.shape[1] if input.ndim == nd + 2 else input.shape[0]
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            if self._transposed:
                shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
            else:
                shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _become_args(self):
        kw = {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
              "groups": self.groups, "bias": self.bias is not None,
              "padding_mode": self.padding_mode}
        if self._transposed:
            kw["output_padding"] = self.output_padding
        return (self.in_channels, self.out_channels, self.kernel_size), kw


def _lazy_conv(name, base, nd):
    transposed = base._transposed
    if transposed:
        def init(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding,
                          output_padding, groups, False, dilation, padding_mode, dtype=dtype)
            self._lazy_setup(out_channels, bias, dtype)
            _install_lazy_hooks(self)
    else:
        def init(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation,
                          groups, False, padding_mode, dtype=dtype)
            self._lazy_setup(out_channels, bias, dtype)
            _install_lazy_hooks(self)
    kind = "transposed convolution" if transposed else "convolution"

    doc = (f"A {nd}-D {kind} whose ``in_channels`` is inferred from the first input (dim 1, "
           f"or dim 0 unbatched); it then becomes ``{base.__name__}``. Arguments as "
           f"``{base.__name__}`` without in_channels.\n\n    Example::\n\n        >>> m = nn.{name}"
           f"(4, 3)\n        >>> _ = m(cr.randn(1, 2{', 8' * nd}))\n        >>> "
           f"type(m).__name__, m.in_channels\n        ('{base.__name__}', 2)\n")
    return type(name, (_LazyConvXdMixin, base), {
        "__init__": init, "__doc__": doc, "cls_to_become": base, "_nd": nd,
        "__module__": __name__})


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d, 1)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d, 2)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d, 3)
LazyConvTranspose1d = _lazy_conv("LazyConvTranspose1d", ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv("LazyConvTranspose2d", ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv("LazyConvTranspose3d", ConvTranspose3d, 3)


class _LazyNormBase(LazyModuleMixin):
    """Lazy batch/instance norms: ``num_features`` from the first input's channel dim."""

    def _lazy_setup(self, affine, track_running_stats, bias, dtype):
        self.num_features, self.affine = 0, affine
        self.track_running_stats = track_running_stats
        for name in ("weight", "bias"):
            self.register_parameter(name, None)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, None)
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 Tensor._make(np.asarray(0, np.int64), False, None, 0))
        _install_lazy_hooks(self)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _feature_dim(self, input):  # noqa: A002
        return 1

    def initialize_parameters(self, input) -> None:  # noqa: A002
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[self._feature_dim(input)]
        with no_grad():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()

    def _become_args(self):
        return (self.num_features,), {"eps": self.eps, "momentum": self.momentum,
                                      "affine": self.affine, "bias": self.bias is not None,
                                      "track_running_stats": self.track_running_stats}


def _lazy_norm(name, base, affine_default, track_default):
    def init(self, eps=1e-5, momentum=0.1, affine=affine_default,
             track_running_stats=track_default, device=None, dtype=None, *, bias=True):
        base.__init__(self, 1, eps, momentum, False, False, dtype=dtype)
        self._lazy_setup(affine, track_running_stats, bias, dtype)

    body = {"__init__": init, "cls_to_become": base, "__module__": __name__,
            "__doc__": f"A ``{base.__name__}`` whose ``num_features`` is inferred from the "
                       f"first input's channel dim; it then becomes ``{base.__name__}``. "
                       f"Arguments as ``{base.__name__}`` without num_features.\n\n"
                       f"    Example::\n\n        >>> m = nn.{name}()\n        >>> _ = m("
                       f"cr.randn(2, 3{', 4' * (int(name[-2]) - 1 + ('Instance' in name))}))"
                       f"\n        >>> type(m).__name__, m.num_features\n        "
                       f"('{base.__name__}', 3)\n"}
    if hasattr(base, "_no_batch_dim"):  # instance norm: the channel dim of unbatched input
        body["_feature_dim"] = lambda self, x: x.ndim - self._no_batch_dim
    return type(name, (_LazyNormBase, base), body)


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d, True, True)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d, True, True)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d, True, True)
# PyTorch's lazy instance norms default to affine=True, track_running_stats=True (the lazy
# base's defaults), unlike InstanceNorm*d
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d, True, True)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d, True, True)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d, True, True)
