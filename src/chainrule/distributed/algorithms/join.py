"""The generic join context manager (``torch.distributed.algorithms.Join``): training on
uneven inputs, where ranks run different numbers of iterations.

Each iteration, every rank still training calls ``Join.notify_join_context(joinable)``,
which allreduces a 1 ("still active"). A rank that leaves the ``with Join(...)`` block
allreduces 0 instead, and while that sum is positive it runs each joinable's
``JoinHook.main_hook()``, which issues the same collectives as one training iteration (with
neutral values: DDP allreduces zero gradients), so the active ranks never wait for it.
When the sum is 0 every rank has joined: each runs ``post_hook(is_last_joiner)``
(DDP copies the model of a rank that joined last to every rank).

With ``throw_on_early_termination`` the active ranks allreduce a second value each
iteration: a joined rank answers 1 there and raises ``RuntimeError("Rank r exhausted all
inputs.")``, and every active rank raises "Detected at least one rank that exhausted
inputs...", so all ranks stop at the same iteration instead of shadowing.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ...tensor import Tensor
from .. import collectives
from ..c10d import get_rank

__all__ = ["Join", "JoinHook", "Joinable"]


class JoinHook:
    """What a ``Joinable`` does once its rank has joined: ``main_hook()`` shadows one
    training iteration's collectives while some rank is still active; ``post_hook
    (is_last_joiner)`` runs once every rank has joined. Both do nothing by default."""

    def main_hook(self) -> None:
        """Issue the collectives of one iteration of a rank that has not joined."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Run after every rank has joined; ``is_last_joiner``: this rank is one of those
        that joined last (ran the most iterations)."""


class _JoinConfig(NamedTuple):
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        return _JoinConfig(enable=False, throw_on_early_termination=False,
                           is_first_joinable=False)


class Joinable:
    """A class that can take part in ``Join``: it provides ``join_hook(**kwargs)``,
    ``join_device`` and ``join_process_group``, calls ``Joinable.__init__`` and calls
    ``Join.notify_join_context(self)`` before each iteration's collectives
    (``DistributedDataParallel`` is one)."""

    def __init__(self):
        self._join_config = _JoinConfig.construct_disabled_join_config()

    def join_hook(self, **kwargs) -> JoinHook:
        raise NotImplementedError(f"{type(self).__name__} must implement join_hook(**kwargs)")

    @property
    def join_device(self):
        raise NotImplementedError(f"{type(self).__name__} must implement join_device")

    @property
    def join_process_group(self):
        raise NotImplementedError(f"{type(self).__name__} must implement join_process_group")


def _allreduce_int(value: int, group) -> int:
    t = Tensor._make(np.array([value], np.int64), False, None, 0)
    collectives.all_reduce(t, group=group)
    return int(t._data[0])


class Join:
    """Context manager for training on uneven inputs (see the module doc).

    Args:
        joinables: the participating ``Joinable`` objects (their hooks run in this order;
            all must use the same process group).
        enable: False makes the manager do nothing.
        throw_on_early_termination: raise on every rank as soon as one rank runs out of
            inputs, instead of shadowing its collectives.
        **kwargs: passed to each ``joinable.join_hook`` (DDP:
            ``divide_by_initial_world_size``).

    Example::

        with Join([ddp]):                   # or: with ddp.join():
            for xb, yb in my_batches:       # a different number on each rank
                opt.zero_grad(); loss_fn(ddp(xb), yb).backward(); opt.step()
    """

    def __init__(self, joinables, enable: bool = True, throw_on_early_termination: bool = False,
                 **kwargs):
        joinables = list(joinables)
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = joinables
        self._join_hooks = [j.join_hook(**kwargs) for j in joinables]
        self._enable = bool(enable)
        self._throw_on_early_termination = bool(throw_on_early_termination)
        for k, j in enumerate(joinables):
            j._join_config = _JoinConfig(self._enable, self._throw_on_early_termination, k == 0)
        group = joinables[0].join_process_group
        if any(j.join_process_group is not group for j in joinables[1:]):
            raise ValueError("Using join context manager with multiple process groups")
        self._process_group, self._device = group, joinables[0].join_device
        self._rank = get_rank(group)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if not self._enable or exc_type is not None:
                return  # an exception inside the block propagates as it is
            is_last_joiner, shadowed = True, 0
            while _allreduce_int(0, self._process_group) > 0:
                if self._throw_on_early_termination:
                    _allreduce_int(1, self._process_group)  # tell the active ranks
                    raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")
                if shadowed == 1000:
                    warnings.warn(f"Detected uneven input skew of greater than 1000. This "
                                  f"means that rank {self._rank} has at least 1000 fewer "
                                  "inputs than other currently-active ranks. This level of "
                                  "skew could lead to performance degradation during "
                                  "training.", stacklevel=2)
                for hook in self._join_hooks:
                    hook.main_hook()
                is_last_joiner, shadowed = False, shadowed + 1
            for hook in self._join_hooks:
                hook.post_hook(is_last_joiner)
        finally:
            for j in self._joinables:
                j._join_config = _JoinConfig.construct_disabled_join_config()

    @staticmethod
    def notify_join_context(joinable):
        """Called by ``joinable`` before each iteration's collectives: allreduces a 1 for
        "this rank is still active" (first joinable only) and returns the number of active
        ranks (None when not inside an enabled ``Join``, or not the first joinable). With
        ``throw_on_early_termination`` raises RuntimeError if some rank has joined."""
        if not hasattr(joinable, "_join_config"):
            raise RuntimeError(f"Check that the {type(joinable).__name__} constructor calls "
                               "the ``Joinable`` constructor")
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        group = joinable.join_process_group
        active = _allreduce_int(1, group)
        if config.throw_on_early_termination and _allreduce_int(0, group):
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing "
                               "across all ranks.")
        return active
