"""Refuse a model that cannot fit in memory before building it.

``chainrule train --hidden 100000000`` used to allocate until the kernel killed the process
(exit 137, no message). :func:`check_fits` estimates what training a candidate needs and
compares it with the memory the machine has available now:

* parameters ``P`` (weights and biases), float32, held ~6 times: the weights, their
  gradients, Adam's two moments, early stopping's best copy and the checkpoint being saved;
* activations of one batch: each layer's input and output, kept for the backward pass and
  matched by their gradients, ``2 x 4 x batch x (inputs + 3 x sum(hidden) + outputs)`` bytes.

The estimate is deliberately generous to the model (it leaves out the interpreter and the
data, which are already in memory): a refusal means the model certainly does not fit.
"""

from __future__ import annotations

import os

__all__ = ["available_memory", "check_fits", "training_bytes"]

_COPIES = 6


def training_bytes(n_inputs: int, hidden, n_outputs: int, batch: int) -> int:
    """Estimated bytes to train an MLP ``n_inputs -> hidden -> n_outputs`` with ``batch``."""
    n, params = n_inputs, 0
    for h in hidden:
        params += (n + 1) * h
        n = h
    params += (n + 1) * n_outputs
    activations = batch * (n_inputs + 3 * sum(hidden) + n_outputs)
    return 4 * (_COPIES * params + 2 * activations)


def available_memory() -> int | None:
    """Bytes the system can give a process now (``MemAvailable`` on Linux, else free
    physical pages); None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(label: str, n_inputs: int, hidden, n_outputs: int, batch: int) -> None:
    """Raise ``ValueError`` naming the flags when training the model certainly does not fit
    in the memory available."""
    need = training_bytes(n_inputs, hidden, n_outputs, batch)
    have = available_memory()
    if have is None or need <= have:
        return
    raise ValueError(f"the model {label} on {n_inputs} inputs with batch {batch} needs about "
                     f"{need / 2**30:.3g} GiB to train, and this machine has "
                     f"{have / 2**30:.3g} GiB available: choose smaller --hidden sizes (or a "
                     "smaller --batch-size)")
