"""``Function``: the one class every differentiable operation is, built-in or user-written.

A call ``F.apply(*args)`` runs ``F.forward(ctx, *args)``; when grad mode is on and some
tensor argument requires grad, the instance ``ctx`` becomes the graph node (the output's
``grad_fn``) remembering, per argument, the edge to the node or leaf that produced it.
When forward-mode AD is active and some argument carries a tangent, ``F.jvp`` is called
right away with the argument tangents.

Two kinds of subclass share this machinery:

* built-in primitives (``chainrule.ops``) set ``_arrays = True``: ``forward`` receives
  NumPy arrays for tensor arguments and returns an array (or a tuple of arrays);
* user functions (PyTorch style) receive tensors (with grad mode off) and return tensors.

In both, ``backward`` and ``jvp`` receive and return *tensors* and are written with tensor
operations, so that with ``create_graph=True`` the backward pass is itself recorded.

``ctx.save_for_backward(...)`` may be given inputs, outputs or new arrays/tensors; an input
is saved as the input tensor itself, an output as a reference to the output (no reference
cycle), anything else as a constant tensor. Saved values are released after backward unless
``retain_graph=True``.

This file holds the class (the ctx API and the graph-node API); ``apply`` -- the call
itself, the hot path of every operation -- is in ``apply.py``.
"""

from __future__ import annotations

import weakref

from threading import get_ident as _ident

from ..._state import STATE
from ...tensor import Tensor

_FREED = object()  # sentinel: saved values released by a backward pass


class _OutRef:
    """Marks "output k" inside ``ctx._saved`` (the output itself is held weakly)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


class Function:
    """Base class of differentiable operations (PyTorch's ``torch.autograd.Function``).

    Subclass it and write static ``forward(ctx, *args)``, ``backward(ctx, *grad_outputs)``
    and optionally ``jvp(ctx, *tangents)``, then call ``MyFn.apply(*args)``::

        class Cube(cr.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2
    """

    _arrays = False  # True for built-in primitives: forward works on NumPy arrays
    # True for primitives whose backward rule also runs on NumPy arrays (the engine's plain
    # passes call it so: see ops/_array_rules.py, which sets it after checking each rule)
    _vjp_arrays = False
    # per-call state, with class-level defaults so a call sets only what it uses
    _needs = None
    _edges = None
    _to_save = None
    _non_diff = None
    _saved = None
    _versions = None
    _out_fw = None
    _out_refs = None
    _out_arrays = None
    _n_out = 1
    _out_meta = None
    _tensor_hooks = None
    _retained = None
    _node_hooks = None
    _trace = None
    _materialize = True
    _dirty = None

    # -- ctx API -------------------------------------------------------------------
    def save_for_backward(self, *values):
        self._to_save = values

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Saved intermediate values are "
                "freed after .backward() or autograd.grad(); pass retain_graph=True to the "
                "first call if you need to backward through the graph again."
            )
        if saved is None:
            return ()
        out = []
        versions = self._versions
        arrays = STATE.arrays  # the engine runs this rule on arrays (in this thread): arrays
        if arrays:
            arrays = arrays == _ident()
        i = 0
        for s in saved:
            if s.__class__ is _OutRef:
                if arrays:  # the output's array; its tensor, if alive, for the version check
                    ref = self._out_refs[s.k]
                    t = None if ref is None else ref()
                    if t is None:
                        out.append(self._out_arrays[s.k])
                        i += 1
                        continue
                    s = t
                else:
                    s = self._output(s.k)
            if versions is not None:
                expected = versions[i]
                if expected is not None:
                    vc = s._vc  # (Tensor._version, inline)
                    if (0 if vc is None else vc[0]) != expected:
                        raise _modified_error(self, s, expected)
            out.append(s._data if arrays and isinstance(s, Tensor) else s)
            i += 1
        return tuple(out)

    def mark_non_differentiable(self, *outputs):
        self._non_diff = outputs

    def set_materialize_grads(self, value: bool):
        """False: ``backward`` gets None (not zeros) for outputs that received no gradient."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """Declare the inputs ``forward`` modified in place (and returns): each becomes this
        node's output, with its version bumped, as PyTorch's in-place custom Functions."""
        self._dirty = tensors

    @property
    def needs_input_grad(self):
        """Per argument, whether its gradient is needed (derived from the graph edges)."""
        needs = self._needs
        if needs is None:
            edges = self._edges
            if edges is None:
                needs = (False,) * 16
            elif len(edges) == 2:  # binary ops, the common case (no list comprehension)
                needs = (edges[0] is not None, edges[1] is not None)
            else:
                needs = tuple([e is not None for e in edges])
            self._needs = needs
        return needs

    @needs_input_grad.setter
    def needs_input_grad(self, value):
        self._needs = tuple(value)

    # -- graph node API ------------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__.lstrip("_") + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        result = []
        for e in self._edges:
            if e is None:
                result.append((None, 0))
            elif e[1] < 0:
                acc = accumulate_node(e[0])
                keep = self.__dict__.get("_accumulators")
                if keep is None:
                    keep = self.__dict__["_accumulators"] = {}
                keep[id(acc)] = acc  # alive while this node is: walkers key nodes by id
                result.append((acc, 0))
            else:
                result.append((e[0], e[1]))
        return tuple(result)

    def register_hook(self, fn):
        """Hook called as ``fn(grad_inputs, grad_outputs)`` after this node's backward."""
        self._node_hooks = (self._node_hooks or ()) + (fn,)

    def _output(self, k):
        ref = self._out_refs[k]
        t = ref() if ref is not None else None
        if t is None:  # the output tensor is gone: rebuild it (same array, same node)
            t = Tensor._make(self._out_arrays[k], True, self, k)
            fw = self._out_fw[k] if self._out_fw is not None else None
            t._fw = fw
        return t

    def _release(self):
        if self._saved is not None:
            self._saved = _FREED
            self._out_arrays = None

    # -- the call ------------------------------------------------------------------
    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(f"{type(ctx).__name__} does not implement backward")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError(
            f"{type(ctx).__name__} does not implement jvp, so it cannot be used in forward-mode AD"
        )


def _modified_error(node, s, expected):
    """PyTorch's error for a saved tensor changed in place, naming the in-place operation."""
    vc = s._vc
    op = f" ({vc[1]})" if vc is not None and vc[1] else ""
    fn = s.grad_fn
    which = f", which is output {s._out_idx} of {fn.name()}," if fn is not None else ""
    return RuntimeError(
        f"{node.name()}: one of the variables needed for gradient computation has been "
        f"modified by an inplace operation{op}: [{s.type()} {list(s.shape)}]{which} is at "
        f"version {s._version}; expected version {expected} instead. Use the out-of-place "
        "form, or .clone() the tensor before modifying it in place."
    )


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf tensor (PyTorch's AccumulateGrad): the leaf
    as ``variable``, no ``next_functions`` (a graph walk ends here), a ``metadata`` dict,
    ``name()`` as PyTorch's. One object per leaf while any is referenced (a graph node keeps
    the ones its ``next_functions`` showed), so graph walkers that key nodes by identity
    see each leaf once."""

    __slots__ = ("variable", "_metadata", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable
        self._metadata = None

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


_AccumulateGrad = AccumulateGrad  # the name used before
_ACCUMULATORS: dict = {}  # id(leaf) -> weak reference to its AccumulateGrad


def accumulate_node(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad: the live one if any, else a new one."""
    ref = _ACCUMULATORS.get(id(leaf))
    node = ref() if ref is not None else None
    if node is not None and node.variable is leaf:
        return node
    node = AccumulateGrad(leaf)
    key = id(leaf)
    _ACCUMULATORS[key] = weakref.ref(node, lambda r, k=key: _ACCUMULATORS.get(k) is r
                                     and _ACCUMULATORS.pop(k))
    return node
