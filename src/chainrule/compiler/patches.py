"""What a capture patches for its duration (all undone by ``Tracer.finish``).

* ``chainrule.Generator``'s draws are recorded as ``rng`` nodes, so a replay draws fresh
  numbers from the same generator, in the same order, as the eager call would;
* calls a replay could not reproduce stop the recording (the call finishes eagerly and
  later calls run eagerly): ``Tensor.numpy()`` and ``np.asarray(tensor)`` (the array
  leaves chainrule's sight), registering tensor hooks or ``retain_grad()`` inside the call
  (their Python code would not run at replay), stepping a learning-rate scheduler (its
  state is Python state).
"""

from __future__ import annotations

from ..random import Generator
from ..tensor import Tensor
from . import trace

_DRAWS = ("random", "standard_normal", "integers", "permutation")
_STOPS = (
    (Tensor, "numpy", "calls Tensor.numpy()"),
    (Tensor, "__array__", "converts a tensor to a NumPy array (np.asarray(tensor))"),
    (Tensor, "register_hook", "registers a tensor hook inside the compiled call"),
    (Tensor, "register_post_accumulate_grad_hook",
     "registers a gradient hook inside the compiled call"),
    (Tensor, "retain_grad", "calls retain_grad() inside the compiled call"),
)


def _draw(name):
    orig = getattr(Generator, name)

    def draw(self, *args):
        tr = trace.active()
        if tr is None:
            return orig(self, *args)
        res = trace._quiet(tr, orig, (self, *trace.plain(args)), {})
        return tr.on_rng(self, name, args, res)

    draw.__name__ = name
    return draw


def _stopper(orig, what):
    def method(self, *args, **kwargs):
        tr = trace.active()
        if tr is not None:
            tr.stop(what)
        return orig(self, *args, **kwargs)

    method.__name__ = orig.__name__
    return method


_READS = {"item": ".item()", "tolist": ".tolist()", "__float__": "float()",
          "__int__": "int()", "__bool__": "bool()", "__index__": "an index",
          "__repr__": "printing", "__str__": "printing", "__format__": "formatting"}


def _labelled(orig, label, tracer):
    """Name the Tensor-level read for the message (the array-level read happens inside)."""

    def method(self, *args, **kwargs):
        outer = tracer.reading
        if outer is None:
            tracer.reading = label
        try:
            return orig(self, *args, **kwargs)
        finally:
            tracer.reading = outer

    method.__name__ = orig.__name__
    return method


def install(tracer) -> None:
    """Install this capture's patches on ``tracer`` (it records them for ``finish``)."""
    from ..optim._lr_base import LRScheduler

    for name in _DRAWS:
        tracer.patch(Generator, name, _draw(name))
    for name, label in _READS.items():
        tracer.patch(Tensor, name, _labelled(getattr(Tensor, name), label, tracer))
    for owner, name, what in _STOPS:
        tracer.patch(owner, name, _stopper(getattr(owner, name), what))
    todo, seen = [LRScheduler], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if "step" in cls.__dict__:
            tracer.patch(cls, "step", _stopper(cls.__dict__["step"],
                                               "steps a learning-rate scheduler inside the call"))
