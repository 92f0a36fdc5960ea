"""``GradientMonitor``: per-layer gradient and weight norms, vanishing/exploding gradients and
dead ReLU units, recorded during training."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..nn.activation import ReLU
from ..train.callbacks import Callback

__all__ = ["GradientMonitor"]


def describe(module) -> str:
    """A short description of a module: ``Linear(128 -> 10)``, ``Conv2d(3 -> 16)``, ..."""
    name = type(module).__name__
    for a, b in (("in_features", "out_features"), ("in_channels", "out_channels"),
                 ("input_size", "hidden_size")):
        if hasattr(module, a) and hasattr(module, b):
            return f"{name}({getattr(module, a)} -> {getattr(module, b)})"
    extra = module.extra_repr()
    return f"{name}({extra})"


class GradientMonitor(Callback):
    """Record ``||grad||`` and ``||w||`` per parameter and the dead-ReLU fraction per ``ReLU``
    module every ``every`` steps; warn about vanishing and exploding gradients.

    A parameter's gradient *vanishes* when ``||grad|| < vanish_threshold * ||w||`` (relative
    to the weight norm) and *explodes* when ``||grad|| > explode_threshold``. A ReLU unit is
    *dead* in a batch when it outputs 0 for every example; ``dead_relu[name]`` is the fraction
    of such units. Each problem is reported once per parameter/module and kind as a Python
    ``RuntimeWarning`` (``warn=True``) and appended to ``warnings``.

    Use it as a ``fit`` callback, or by hand: call ``record()`` after ``loss.backward()``.

    Args:
        model: the ``nn.Module`` to watch (forward hooks go on its ``nn.ReLU`` children).
        every: record every ``every``-th batch.
        vanish_threshold: relative gradient norm below which gradients are vanishing.
        explode_threshold: gradient norm above which gradients are exploding.
        dead_threshold: dead-unit fraction above which a ReLU layer is reported.
        name: the prefix of module paths in messages (``"model"`` -> ``model.fc2``).

    Attributes:
        history: ``{"step": [...], "grad_norm": {param: [...]}, "weight_norm": {param: [...]},
            "dead_relu": {module: [...]}}``.
        warnings: the messages issued, in order.

    Example::

        monitor = GradientMonitor(model)
        fit(model, data, loss=..., optimizer="sgd", callbacks=[monitor])
        monitor.history["grad_norm"]["fc1.weight"], monitor.warnings
    """

    def __init__(self, model, every: int = 1, vanish_threshold: float = 1e-7,
                 explode_threshold: float = 1e3, dead_threshold: float = 0.5,
                 warn: bool = True, name: str = "model"):
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"GradientMonitor: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        if int(every) != every or every < 1:
            raise ValueError(f"GradientMonitor: every must be a positive integer, got {every!r}")
        for key, v in (("vanish_threshold", vanish_threshold),
                       ("explode_threshold", explode_threshold)):
            if not v > 0:
                raise ValueError(f"GradientMonitor: {key} must be > 0, got {v!r}")
        if not 0 <= dead_threshold <= 1:
            raise ValueError(f"GradientMonitor: dead_threshold must be in [0, 1], got "
                             f"{dead_threshold!r}")
        self.model = model
        self.every = int(every)
        self.vanish_threshold = float(vanish_threshold)
        self.explode_threshold = float(explode_threshold)
        self.dead_threshold = float(dead_threshold)
        self.warn = warn
        self.name = name
        self.history = {"step": [], "grad_norm": {}, "weight_norm": {}, "dead_relu": {}}
        self.warnings: list[str] = []
        self._reported = set()
        self._step = 0
        self._dead = {}
        modules = dict(model.named_modules())
        self._owner = {}
        for pname, _ in model.named_parameters():
            mname = pname.rpartition(".")[0]
            self._owner[pname] = (mname, modules.get(mname, model))
        self._handles = [m.register_forward_hook(self._relu_hook(mname))
                         for mname, m in modules.items() if isinstance(m, ReLU)]

    def _relu_hook(self, mname):
        def hook(module, args, out):
            if module.training:
                a = out._data
                a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)
                self._dead[mname] = float(np.mean(np.all(a == 0, axis=0)))
        return hook

    def _label(self, path, module) -> str:
        where = f"{self.name}.{path}" if path else self.name
        return f"{where} ({describe(module)})"

    def _report(self, key, message):
        if key in self._reported:
            return
        self._reported.add(key)
        self.warnings.append(message)
        if self.warn:
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def record(self) -> None:
        """Record the current gradients, weights and dead-ReLU fractions (after backward)."""
        h = self.history
        h["step"].append(self._step)
        for pname, p in self.model.named_parameters():
            w = float(np.linalg.norm(p._data))
            g = math.nan if p.grad is None else float(np.linalg.norm(p.grad._data))
            h["grad_norm"].setdefault(pname, []).append(g)
            h["weight_norm"].setdefault(pname, []).append(w)
            if p.grad is None:
                continue
            mname, module = self._owner[pname]
            label = self._label(mname, module)
            pshort = pname.rpartition(".")[2]
            if not math.isfinite(g) or g > self.explode_threshold:
                self._report((pname, "explode"), (
                    f"{label}: exploding gradient: ||grad {pshort}|| = {g:.3g} > "
                    f"{self.explode_threshold:g} at step {self._step}; lower the learning "
                    "rate, standardize the inputs, or clip gradients (nn.utils.clip_grad_norm_)"))
            elif g < self.vanish_threshold * max(w, 1e-30):
                self._report((pname, "vanish"), (
                    f"{label}: vanishing gradient: ||grad {pshort}|| = {g:.3g} is < "
                    f"{self.vanish_threshold:g} x ||{pshort}|| = {w:.3g} at step {self._step}; "
                    "use ReLU-family activations, He/Xavier initialization, normalization "
                    "or residual connections"))
        modules = dict(self.model.named_modules())
        for mname, frac in self._dead.items():
            h["dead_relu"].setdefault(mname, []).append(frac)
            if frac > self.dead_threshold:
                self._report((mname, "dead"), (
                    f"{self._label(mname, modules[mname])}: {frac:.0%} of the units are dead "
                    f"(zero for every example of the batch) at step {self._step}; lower the "
                    "learning rate, check the biases' initialization, or use LeakyReLU"))

    def remove(self) -> None:
        """Remove the forward hooks from the ReLU modules."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # -- callback hooks ----------------------------------------------------------------
    def on_batch_end(self, batch, logs=None):
        if self._step % self.every == 0:
            self.record()
        self._step += 1

    def on_train_end(self, logs=None):
        self.remove()
