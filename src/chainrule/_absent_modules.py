"""PyTorch modules chainrule does not provide (``torch.fft``, ``torch.hub``,
``torch.quasirandom``, ``torch.nested``, ``torch.masked``), present as modules whose every
name raises one error saying why and what to use instead, rather than an AttributeError on
``chainrule`` itself. The error is both a NotImplementedError and an AttributeError, so
``hasattr(torch.fft, "rfft")`` is False, as feature probes expect.
"""

from __future__ import annotations

import sys
import types


class UnavailableError(NotImplementedError, AttributeError):
    """A PyTorch function that chainrule does not provide (the message says why)."""


WHY = {
    "fft": "chainrule has no complex tensors, so it has no FFTs; use numpy.fft on t.numpy() "
           "(not differentiable), or write the transform as a product with real cos/sin "
           "matrices (differentiable)",
    "hub": "torch.hub downloads and runs code and loads pickled checkpoints, which chainrule "
           "never does; download the weights as safetensors and use chainrule.load or "
           "load_state_dict",
    "quasirandom": "SobolEngine is not implemented; scipy.stats.qmc.Sobol draws the same kind "
                   "of sequence (then chainrule.from_numpy)",
    "nested": "nested (ragged) tensors are not implemented; pad the sequences with "
              "nn.utils.rnn.pad_sequence and keep a mask",
    "masked": "masked tensors are not implemented; use where or masked_fill with a boolean "
              "mask",
}


class _Absent(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):  # import machinery and introspection: the usual answer
            raise AttributeError(name)
        short = self.__name__.rsplit(".", 1)[-1]
        raise UnavailableError(f"torch.{short}.{name} is not available in chainrule: {WHY[short]}")


def install(package_name: str) -> None:
    """Make ``<package>.<name>`` (an attribute and an entry of ``sys.modules``) for each."""
    package = sys.modules[package_name]
    for short, why in WHY.items():
        name = f"{package.__name__}.{short}"
        mod = _Absent(name, f"Not available in chainrule: {why}.")
        sys.modules.setdefault(name, mod)
        setattr(package, short, sys.modules[name])
