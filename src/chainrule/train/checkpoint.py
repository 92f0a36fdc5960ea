"""Training checkpoints: the full state of a ``fit`` run, saved with ``chainrule.save``.

A checkpoint is a dict (safetensors + JSON, no pickle)::

    {"format": "chainrule.train.checkpoint", "version": 1,
     "model": model.state_dict(), "optimizer": optimizer.state_dict(),
     "epoch": E, "batch": B,          # resume at epoch E after B of its batches
     "rng": {...},                    # global and shuffling generators' states now
     "epoch_rng": {...},              # ... and at the start of epoch E (when B > 0)
     "partial": {...},                # epoch E's loss sum / outputs so far (when B > 0)
     "history": History.state_dict(), "callbacks": {"EarlyStopping#0": {...}, ...}}

Resuming restores all of it; a checkpoint written mid-epoch (Ctrl-C) replays the epoch's
shuffle from ``epoch_rng``, skips the ``B`` batches already done and continues with the
random states of the moment it stopped, so the final weights equal an uninterrupted run's.
"""

from __future__ import annotations

from ..random import default_generator

FORMAT = "chainrule.train.checkpoint"
VERSION = 1


def rng_states(run) -> dict:
    gen = run.generator
    return {"global": default_generator.get_state(),
            "loader": None if gen is None else gen.get_state()}


def set_rng_states(run, states: dict) -> None:
    default_generator.set_state(states["global"])
    if run.generator is not None and states.get("loader") is not None:
        run.generator.set_state(states["loader"])


def _callback_keys(callbacks):
    seen: dict[str, int] = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, -1) + 1
        yield f"{name}#{seen[name]}", cb


def capture(run) -> dict:
    epoch, batch = run.position
    return {
        "format": FORMAT, "version": VERSION,
        "model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
        "epoch": epoch, "batch": batch, "rng": rng_states(run),
        "epoch_rng": run.epoch_rng if batch else None,
        "partial": run.partial if batch else None,
        "history": run.history.state_dict(),
        "callbacks": {k: cb.state_dict() for k, cb in _callback_keys(run.callbacks)
                      if hasattr(cb, "state_dict")},
    }


def restore(run, state: dict) -> None:
    if state.get("version") != VERSION:
        raise ValueError(f"fit: checkpoint version {state.get('version')!r} is not supported "
                         f"(this chainrule writes version {VERSION})")
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.history.load_state_dict(state["history"])
    saved = state.get("callbacks") or {}
    for key, cb in _callback_keys(run.callbacks):
        if key in saved and hasattr(cb, "load_state_dict"):
            cb.load_state_dict(saved[key])
    run.position = (int(state["epoch"]), int(state["batch"]))
    set_rng_states(run, state["rng"])
