"""The ``LRScheduler`` base class (``torch.optim.lr_scheduler.LRScheduler``)."""

from __future__ import annotations

import copy

from .optimizer import Optimizer


class LRScheduler:
    """Base of the learning-rate schedulers.

    A scheduler owns ``last_epoch`` (the number of ``step()`` calls so far, -1 before the
    first) and ``base_lrs`` (each group's ``initial_lr``, recorded in the group when
    ``last_epoch == -1``). Construction performs the first ``step()``, which sets the
    learning rates for epoch 0. Subclasses implement ``get_lr()`` (the *chainable* form,
    from the groups' current ``lr``: several schedulers can act on one optimizer) and, where
    one exists, ``_get_closed_form_lr()`` (a function of ``last_epoch`` and ``base_lrs``,
    used when ``step(epoch)`` is given an explicit epoch).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected a chainrule.optim.Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param 'initial_lr' is not specified in "
                        f"param_groups[{i}] when resuming (last_epoch={last_epoch}); "
                        "construct with last_epoch=-1 or load a state dict"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, deprecated in PyTorch) and set the
        groups' learning rates."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (and functions, which can't be saved)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))

    _unsaved = ("optimizer",)
