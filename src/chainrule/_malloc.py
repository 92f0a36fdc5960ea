"""Keep freed array memory in the process for the next step (glibc only; once, at import).

A training step allocates the same large temporaries every time (a conv output, its ReLU,
the pooled map, their gradients: W3 frees and reallocates about 14 MB per step). With
glibc's default settings part of that memory goes back to the kernel at each ``free`` (the
top of the heap is trimmed, or a large block was its own ``mmap``), and the next step pays
a page fault per 4 KB page to get it back, zero-filled: W3 took 3,600 faults per step, 6.8
ms of a 26 ms step, and eager ran 1.36x slower than its compiled replay (which reuses its
buffers). Two ``mallopt`` settings keep blocks up to 32 MiB in the heap and trim it only
when more than 64 MiB at its top is free: 35 faults per step, eager as fast as the replay.
The cost is that the process may keep up to 64 MiB of freed memory for reuse (blocks of
32 MiB and more are still mapped and unmapped on their own).

PyTorch leaves malloc alone, and the advice for it on CPU is to preload jemalloc or
tcmalloc for the same reason. Set ``CHAINRULE_MALLOC=default`` before importing chainrule
to keep glibc's settings.
"""

from __future__ import annotations

import os
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>

tuned = False  # True once the settings above are in effect


def tune() -> bool:
    """Apply the settings (idempotent); False where they do not apply (not Linux + glibc,
    or ``CHAINRULE_MALLOC=default``)."""
    global tuned
    if tuned:
        return True
    if os.environ.get("CHAINRULE_MALLOC", "").strip().lower() == "default":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):  # no glibc: musl, ...
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return tuned


tune()
