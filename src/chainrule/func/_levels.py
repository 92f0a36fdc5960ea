"""Entering and leaving a vmap level: the level stack of ``_batched`` and the randomness
mode of ``_random`` together (both build on ``_batched``, so neither can own this)."""

from __future__ import annotations

from .._state import STATE
from ._batched import _COUNTER, _STACK, _Level
from ._random import install, uninstall


def push_level(size, randomness="error", level=None):
    """Enter a vmap level (a new number unless ``level`` re-enters a known one)."""
    if level is None:
        _COUNTER[0] += 1
        level = _COUNTER[0]
    lv = _Level(level, size, randomness)
    install(lv)
    _STACK.append(lv)
    STATE.vmap_level = len(_STACK)
    return lv


def pop_level(lv):
    _STACK.remove(lv)
    uninstall(lv)
    STATE.vmap_level = len(_STACK)
