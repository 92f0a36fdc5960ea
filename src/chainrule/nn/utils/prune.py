"""Pruning (``torch.nn.utils.prune``): zero parts of a parameter through a mask.
``prune.l1_unstructured(m, "weight", amount=0.3)`` moves the parameter to ``weight_orig``,
adds the buffer ``weight_mask`` and makes ``m.weight = weight_orig * weight_mask``,
recomputed by a forward pre-hook (so gradients reach only the kept entries). Pruning the
same tensor again combines the masks (``PruningContainer``: each new method prunes among the
entries, or channels, still kept); ``prune.remove`` makes the pruning permanent.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from ...autograd.grad_mode import no_grad
from ...random import _gen
from ...tensor import Tensor

__all__ = [
    "BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
    "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
    "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
    "random_structured", "random_unstructured", "remove",
]


def _const(arr) -> Tensor:
    return Tensor._make(np.asarray(arr), False, None, 0)


def _arr(t):
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _validate_amount_init(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _nparams_toprune(amount, size: int) -> int:
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return round(amount * size)


class BasePruningMethod:
    """A pruning method: ``compute_mask(t, default_mask)`` gives the new mask; the instance
    is also the forward pre-hook that recomputes ``module.<name>``."""

    PRUNING_TYPE = "unstructured"
    _tensor_name: str | None = None

    def __call__(self, module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def apply_mask(self, module) -> Tensor:
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` (combined with any
        earlier pruning of that tensor)."""
        old, keys = None, []
        for k, hook in module._forward_pre_hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
                keys.append(k)
        for k in keys:
            del module._forward_pre_hooks[k]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            if isinstance(old, PruningContainer):
                old.add_pruning_method(method)
                method = old
            else:
                container = PruningContainer(old)
                container.add_pruning_method(method)
                method = container
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"importance_scores should have the same shape as parameter "
                             f"{name} of {module}")
        scores = orig if importance_scores is None else importance_scores
        fresh = not isinstance(method, PruningContainer)
        if fresh:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _const(np.ones(orig._data.shape, orig._data.dtype))
        else:
            default_mask = _const(getattr(module, name + "_mask")._data.copy())
        try:
            with no_grad():
                mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if fresh:
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None) -> Tensor:
        """t times the mask computed from ``importance_scores`` (default t)."""
        scores = t if importance_scores is None else importance_scores
        mask = _const(np.ones(_arr(t).shape, _arr(t).dtype)) if default_mask is None else \
            default_mask
        return t * self.compute_mask(scores, default_mask=mask)

    def remove(self, module) -> None:
        """Make the pruning permanent: ``module.<name>`` becomes a parameter holding the
        pruned values; ``<name>_orig`` and ``<name>_mask`` go away."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be "
                                 "removed")
        weight = self.apply_mask(module)
        if self._tensor_name in module.__dict__:
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig._data = weight._data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied in turn to one tensor; each new one prunes among what the
    previous ones kept (entries for unstructured methods, channels for structured ones)."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1 and isinstance(args[0], Iterable):
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        ta, mask = _arr(t), _arr(default_mask).astype(_arr(t).dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have "
                                     "the attribute `dim` defined.")
            dim = method.dim % ta.ndim
            keep = mask.sum(axis=tuple(d for d in range(ta.ndim) if d != dim)) != 0
            slc = tuple(keep if d == dim else slice(None) for d in range(ta.ndim))
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * ta.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(_const(ta[slc]), default_mask=_const(mask[slc]))
        mask = mask.copy()
        mask[slc] = _arr(partial)
        return _const(mask)


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
