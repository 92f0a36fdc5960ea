"""Pruning (``torch.nn.utils.prune``): zero parts of a parameter through a mask.
``prune.l1_unstructured(m, "weight", amount=0.3)`` moves the parameter to ``weight_orig``,
adds the buffer ``weight_mask`` and makes ``m.weight = weight_orig * weight_mask``,
recomputed by a forward pre-hook (so gradients reach only the kept entries). Pruning the
same tensor again combines the masks (``PruningContainer``: each new method prunes among the
entries, or channels, still kept); ``prune.remove`` makes the pruning permanent.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...random import _gen
from ._prune_base import (
    BasePruningMethod, PruningContainer, _arr, _const, _nparams_toprune, _validate_amount_init,
)

__all__ = [
    "BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
    "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
    "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
    "random_structured", "random_unstructured", "remove",
]


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prune ``amount`` (a fraction, or a count) of the entries, chosen at random."""

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        size = _arr(t).size
        k = _nparams_toprune(self.amount, size)
        mask = _arr(default_mask).copy()
        if k:
            idx = np.argsort(-_gen(None).random(size), kind="stable")[:k]
            mask.reshape(-1)[idx] = 0
        return _const(mask)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prune ``amount`` of the entries with the smallest absolute value."""

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        a = _arr(t)
        k = _nparams_toprune(self.amount, a.size)
        mask = _arr(default_mask).copy()
        if k:
            mask.reshape(-1)[np.argsort(np.abs(a).reshape(-1), kind="stable")[:k]] = 0
        return _const(mask)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _structured_check(t, dim):
    a = _arr(t)
    if a.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {a.shape} with {a.ndim} dims")
    if dim >= a.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {a.shape}")
    return a, dim % a.ndim


def _channel_mask(a, dim, keep_channels):
    mask = np.zeros(a.shape, a.dtype)
    idx = [slice(None)] * a.ndim
    idx[dim] = keep_channels
    mask[tuple(idx)] = 1
    return mask


class RandomStructured(BasePruningMethod):
    """Prune ``amount`` of the channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1):
        _validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        a, dim = _structured_check(t, self.dim)
        n = a.shape[dim]
        k = _nparams_toprune(self.amount, n)
        if k == 0:
            return default_mask
        prob = _gen(None).random(n)
        keep = prob > np.sort(prob)[k - 1]
        return _const(_channel_mask(a, dim, keep) * _arr(default_mask))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prune ``amount`` of the channels along ``dim`` with the smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1):
        _validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        a, dim = _structured_check(t, self.dim)
        size = a.shape[dim]
        k = _nparams_toprune(self.amount, size)
        if k == 0:
            return default_mask
        flat = np.moveaxis(a, dim, 0).reshape(size, -1)
        n = self.n
        if n in ("fro", 2):
            norm = np.sqrt((flat * flat).sum(1))
        elif n == "nuc":
            norm = np.linalg.norm(np.moveaxis(a, dim, 0), "nuc", axis=(-2, -1)) if a.ndim == 3 \
                else np.abs(flat).sum(1)
        elif np.isinf(n):
            norm = np.abs(flat).max(1) if n > 0 else np.abs(flat).min(1)
        else:
            norm = (np.abs(flat) ** n).sum(1) ** (1.0 / n)
        keep = np.argsort(-norm, kind="stable")[:size - k]
        return _const(_channel_mask(a, dim, keep) * _arr(default_mask))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune the entries where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        d, m = _arr(default_mask), _arr(self.mask)
        if d.shape != m.shape:
            raise AssertionError(f"mask of shape {m.shape} does not match the tensor's "
                                 f"{d.shape}")
        return _const(d * m.astype(d.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Reparametrise ``module.<name>`` with a mask of ones (prunes nothing)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` (fraction or count) of the entries of ``module.<name>`` at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |value| (or of smallest
    importance score).

    Example::

        >>> m = prune.l1_unstructured(nn.Linear(4, 4), "weight", amount=0.5)
        >>> int((m.weight == 0).sum())
        8
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` of the channels of ``module.<name>`` along ``dim`` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` of smallest L``n`` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs of ``parameters`` together: ``pruning_method`` (an
    unstructured class such as ``L1Unstructured``) sees all their entries as one vector."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    scores = importance_scores if importance_scores is not None else {}
    if not isinstance(scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    values = np.concatenate([_arr(scores.get((m, n), getattr(m, n))).reshape(-1)
                             for m, n in parameters])
    masks = np.concatenate([_arr(getattr(m, n + "_mask")).reshape(-1) if hasattr(m, n + "_mask")
                            else np.ones(_arr(getattr(m, n)).size, values.dtype)
                            for m, n in parameters])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer(method)
    final = _arr(container.compute_mask(_const(values), _const(masks)))
    pointer = 0
    for module, name in parameters:
        size = _arr(getattr(module, name)).size
        shape = _arr(getattr(module, name)).shape
        custom_from_mask(module, name, mask=_const(final[pointer:pointer + size].reshape(shape)))
        pointer += size


def custom_from_mask(module, name, mask):
    """Prune the entries of ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent (see ``BasePruningMethod.remove``)."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module) -> bool:
    """Whether any submodule of ``module`` has a pruning hook."""
    for _, sub in module.named_modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
