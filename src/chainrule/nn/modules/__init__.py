"""``chainrule.nn.modules``: PyTorch's ``torch.nn.modules`` package and its submodule paths
(``nn.modules.loss``, ``.linear``, ``.conv``, ``.rnn``, ``.activation``, ``.container``,
...). Each submodule resolves the names PyTorch's file of that name defines in
``chainrule.nn`` (or, for PyTorch's private base classes such as ``_Loss``, in the chainrule
file that defines them), so imports written for PyTorch find the same classes."""

from __future__ import annotations

import importlib
import sys
import types

from ._names import MODULES

# private PyTorch names whose chainrule class lives in a file, not in chainrule.nn
_PRIVATE = {
    "_Loss": "loss", "_WeightedLoss": "loss", "_BatchNorm": "normalization",
    "_NormBase": "normalization", "_ConvNd": "conv", "_ConvTransposeNd": "conv",
    "_MaxPoolNd": "pooling", "_InstanceNorm": "normalization_extra", "_AvgPoolNd": "pooling",
    "_AdaptiveAvgPoolNd": "pooling", "_AdaptiveMaxPoolNd": "pooling",
    "_LPPoolNd": "pooling_extra", "_MaxUnpoolNd": "pooling_extra",
    "_ASMoutput": "adaptive", "_LazyNormBase": "lazy", "_LazyConvXdMixin": "lazy",
    "_LazyProtocol": "lazy:LazyModuleMixin", "_ConvTransposeMixin": "conv:_ConvTransposeNd",
    "NonDynamicallyQuantizableLinear": "attention", "_IncompatibleKeys": "_state:IncompatibleKeys", "_WrappedHook": "_module_api",
    "register_module_full_backward_hook": "_module_hooks",
    "register_module_full_backward_pre_hook": "_module_hooks",
    "register_module_backward_hook": "_module_hooks",
    "register_module_buffer_registration_hook": "_module_hooks",
    "register_module_module_registration_hook": "_module_hooks",
    "register_module_parameter_registration_hook": "_module_hooks",
    "_ConstantPadNd": "spatial_extra", "_ReflectionPadNd": "spatial_extra",
    "_ReplicationPadNd": "spatial_extra", "_CircularPadNd": "spatial_extra", "_DropoutNd": "dropout",
}


def _resolve(module_name: str, name: str):
    nn = importlib.import_module("chainrule.nn")
    if hasattr(nn, name):
        return getattr(nn, name)
    if name in _PRIVATE:
        file, _, alias = _PRIVATE[name].partition(":")
        return getattr(importlib.import_module(f"chainrule.nn.{file}"), alias or name)
    raise AttributeError(
        f"module {module_name!r} has no attribute {name!r} (PyTorch's torch.nn has it; "
        "chainrule does not implement it)"
    )


class _ModulePath(types.ModuleType):
    """A ``torch.nn.modules.<file>`` path whose names resolve in chainrule.nn on access."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _resolve(self.__name__, name)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted(MODULES[self.__name__.rsplit(".", 1)[-1]])


for _file in MODULES:
    _m = _ModulePath(f"{__name__}.{_file}")
    sys.modules[_m.__name__] = _m
    globals()[_file] = _m


def __getattr__(name):
    return _resolve(__name__, name)
