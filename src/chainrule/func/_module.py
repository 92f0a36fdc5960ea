"""Modules as functions: ``functional_call``, ``stack_module_state``; ``functionalize`` and
``replace_all_batch_norm_modules_`` (``torch.func``)."""

from __future__ import annotations

import contextlib

from ..tensor import Tensor


def _owner(module, name):
    *path, leaf = name.split(".")
    m = module
    for p in path:
        m = m._modules[p] if p in m._modules else getattr(m, p)
    return m, leaf


@contextlib.contextmanager
def _swapped(module, values):
    saved = []
    try:
        for name, value in values.items():
            m, leaf = _owner(module, name)
            for store in (m._parameters, m._buffers):
                if leaf in store:
                    saved.append((store, leaf, store[leaf]))
                    store[leaf] = value
                    break
            else:
                saved.append((m.__dict__, leaf, m.__dict__.get(leaf, _MISSING)))
                m.__dict__[leaf] = value
        yield
    finally:
        for store, leaf, old in reversed(saved):
            if old is _MISSING:
                store.pop(leaf, None)
            else:
                store[leaf] = old


_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with its parameters and buffers replaced by the given tensors
    (``torch.func.functional_call``); the module is unchanged afterwards.

    Args:
        module: an ``nn.Module``.
        parameter_and_buffer_dicts: a dict ``{dotted name: tensor}``, or a sequence of dicts
            (their keys must not overlap).
        args: a positional argument, or a tuple of them. kwargs: keyword arguments.
        tie_weights: a parameter tied to another in the module (the same object under two
            names) follows the replacement of either name.
        strict: every parameter and buffer must be replaced, and no other name given.

    Example::

        >>> params = {k: v.detach() * 0 for k, v in model.named_parameters()}
        >>> functional_call(model, params, (x,))   # the model with zero weights
    """
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        values = dict(dicts)
    else:
        values = {}
        for d in dicts:
            for k, v in d.items():
                if k in values:
                    raise ValueError(f"functional_call: {k} appeared in multiple dictionaries; "
                                     "behavior of functional call is ambiguous")
                values[k] = v
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = sorted(set(named) - set(values))
        unexpected = sorted(set(values) - set(named))
        if missing or unexpected:
            raise RuntimeError(
                f"functional_call: strict=True: missing keys {missing}, unexpected keys "
                f"{unexpected}")
    if tie_weights:
        by_obj = {}
        for name, t in named.items():
            by_obj.setdefault(id(t), []).append(name)
        for names in by_obj.values():
            given = [n for n in names if n in values]
            if len(given) > 1 and any(values[n] is not values[given[0]] for n in given[1:]):
                raise ValueError(f"functional_call: {given} are tied weights but were given "
                                 "different values")
            if given:
                for n in names:
                    values.setdefault(n, values[given[0]])
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """``(params, buffers)``: dicts name -> the models' tensors stacked along a new dim 0
    (models of one architecture, for ``vmap`` over an ensemble). Stacked parameters are new
    leaves that require grad when the originals do."""
    from ..functions import shape as FS

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    kinds = {type(m) for m in models}
    if len(kinds) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class, "
                           f"got {sorted(k.__name__ for k in kinds)}")

    def stacked(getter):
        per = [dict(getter(m)) for m in models]
        out = {}
        for k in per[0]:
            s = FS.stack([p[k].detach() for p in per])
            if per[0][k].requires_grad:
                s.requires_grad_(True)
            out[k] = s
        return out

    return (stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers()))


def functionalize(func, *, remove="mutations"):
    """``torch.func.functionalize``: returns ``func`` itself. chainrule's transforms run
    functions eagerly and handle in-place updates where they support them, so there are no
    mutations to remove; ``remove`` is checked and otherwise ignored."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize: remove must be 'mutations' or "
                           f"'mutations_and_views', got {remove!r}")
    return func


def replace_all_batch_norm_modules_(root):
    """Make every BatchNorm in ``root`` use batch statistics only (running stats dropped,
    ``track_running_stats=False``), so it can run under ``vmap`` (in place; returns root)."""
    for m in root.modules():
        if hasattr(m, "track_running_stats") and hasattr(m, "running_mean"):
            m.running_mean = None
            m.running_var = None
            if "num_batches_tracked" in m._buffers:
                m.num_batches_tracked = None
            m.track_running_stats = False
    return root


_ = Tensor
