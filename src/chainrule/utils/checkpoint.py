"""``chainrule.utils.checkpoint``: PyTorch's activation checkpointing API.

PyTorch's ``checkpoint(fn, *args)`` trades compute for memory: it frees ``fn``'s
intermediate values after the forward pass and recomputes them during backward. chainrule
runs ``fn`` normally (its intermediates stay saved), which gives the same values and
gradients; only the memory saving is absent. ``checkpoint_sequential`` likewise runs the
segments in order.
"""

from __future__ import annotations


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``: the same result and gradients as PyTorch's checkpoint
    (the recomputation that saves memory there is not done)."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run ``functions`` (a Sequential or a list of modules) on ``input`` in order."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for f in modules:
        input = f(input)  # noqa: A001
    return input
