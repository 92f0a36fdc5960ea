"""Reusable scratch arrays for the temporaries inside one primitive call (convolution columns,
col2im accumulators, padded inputs).

A fresh multi-megabyte array costs its page faults every time (measured here: ~1 ms for
7 MB, more than the pass that fills it), so a temporary that never leaves the primitive
is taken from a small per-thread cache keyed by (tag, shape, dtype) instead. Rules:

* a scratch array never escapes: results, saved tensors and ctx attributes are fresh arrays;
* ``zeroed=True`` arrays are zero when created; a tag used with ``zeroed`` must always have
  the same region written (e.g. the interior of a padded input), so that the rest stays zero;
* inputs that are not plain ``ndarray`` (``chainrule.compile`` records the call through an
  ndarray subclass, and replays it with its own buffer plan) get fresh arrays, so recorded
  programs never see the cache;
* each thread has its own cache, bounded to ``_MAX_TOTAL`` bytes (cleared when full);
  arrays above ``_MAX_ONE`` bytes are never kept.
"""

from __future__ import annotations

import math
import threading

import numpy as np

_MAX_ONE = 1 << 25  # 32 MB
_MAX_TOTAL = 1 << 26  # 64 MB per thread
_LOCAL = threading.local()


def cacheable(*arrays) -> bool:
    """Whether scratch arrays may be used for a call on these inputs (plain ndarrays only)."""
    return all(type(a) is np.ndarray for a in arrays)


def scratch(tag, shape, dtype, use, zeroed=False):
    """A (shape, dtype) array for temporary use: cached per thread when ``use`` is true, else
    new. Zero on creation when ``zeroed``; otherwise its content is undefined."""
    shape = tuple(shape)
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize * math.prod(shape)
    if not use or nbytes > _MAX_ONE:
        return np.zeros(shape, dtype) if zeroed else np.empty(shape, dtype)
    cache = getattr(_LOCAL, "arrays", None)
    if cache is None:
        cache = _LOCAL.arrays = {}
        _LOCAL.total = 0
    key = (tag, shape, dtype, zeroed)
    buf = cache.get(key)
    if buf is None:
        if _LOCAL.total + nbytes > _MAX_TOTAL:
            cache.clear()
            _LOCAL.total = 0
        buf = np.zeros(shape, dtype) if zeroed else np.empty(shape, dtype)
        cache[key] = buf
        _LOCAL.total += nbytes
    return buf


def clear() -> None:
    """Drop this thread's cached arrays."""
    cache = getattr(_LOCAL, "arrays", None)
    if cache is not None:
        cache.clear()
        _LOCAL.total = 0
