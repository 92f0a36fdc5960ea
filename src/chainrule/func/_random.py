"""``vmap(randomness=...)``: random draws inside vmap.

While a vmap level is active, the default generator's NumPy generator is replaced by a
proxy: ``"error"`` raises on any draw, ``"same"`` draws once for the whole batch (an
unbatched value) and ``"different"`` draws one value per batch element (a batched value).
Explicit ``generator=`` objects are not affected (they draw as outside vmap).
"""

from __future__ import annotations

import numpy as np

from .. import random as _random

_DRAWS = ("random", "standard_normal", "integers", "normal", "uniform", "permutation",
          "exponential", "choice", "binomial", "poisson", "gamma", "beta")


class _Proxy:
    def __init__(self, inner, lv):
        self._inner = inner
        self._lv = lv

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name not in _DRAWS:
            return attr
        mode = self._lv.randomness
        if mode == "error":
            def refuse(*a, **k):
                raise RuntimeError(
                    "vmap: called a random operation while in randomness error mode. Please "
                    "either use the 'same' or 'different' randomness flags on vmap or perform "
                    "the randomness operation out of vmap")
            return refuse
        if mode == "same" or name in ("permutation", "choice"):
            return attr
        return self._different(name)

    def _different(self, name):
        from ._batched import wrap_array

        fn = getattr(self._inner, name)
        lv = self._lv

        def draw(*args, **kwargs):
            if name == "integers":
                args = list(args)
                size = kwargs.pop("size", args.pop(2) if len(args) > 2 else None)
            else:
                args = list(args)
                size = kwargs.pop("size", args.pop(-1) if args else None)
            shape = () if size is None else ((size,) if isinstance(size, int) else tuple(size))
            return wrap_array(np.asarray(fn(*args, size=(lv.size,) + shape, **kwargs)), 0,
                              lv.level)

        return draw


def install(lv):
    g = _random.default_generator
    lv.saved_rng = g._rng
    g._rng = _Proxy(g._rng, lv)


def uninstall(lv):
    _random.default_generator._rng = lv.saved_rng
