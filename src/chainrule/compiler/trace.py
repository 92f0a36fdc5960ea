"""NumPy-level recording: the array type a capture hands to the traced code.

While ``chainrule.compile`` records a call, every array the call works on (inputs,
parameters, buffers, results) is a ``Traced`` view: an ``ndarray`` subclass sharing the
same memory. NumPy tells such an array about each operation on it (``__array_ufunc__`` for
ufuncs, ``__array_function__`` for the other functions), so the tracer sees every NumPy
call of the traced code, inside primitives and between them (comparisons, masks, running
statistics, gradient accumulation), without any change to that code. Array *methods*
that NumPy does not dispatch (``astype``, ``reshape``, indexing, ``argmax``, ...) are
wrapped here, and so are the module-level constructors (``np.zeros``, ``np.array``, ...)
while a capture runs, so that arrays created by the traced code are recorded too.

Every operation computes on plain arrays (the ``Traced`` wrapper is removed first), so the
results are exactly NumPy's; the tracer then registers the result and returns it wrapped.
Reading a value into Python (``float``, ``bool``, ``.item()``, ``.tolist()``, printing) is
reported to the tracer: the traced code depends on data, which a replay cannot reproduce.
With no tracer recording (outside a capture, or inside an optimizer step), a ``Traced``
array behaves as a plain one.
"""

from __future__ import annotations

import numpy as np

_ND = np.ndarray
_view = np.ndarray.view

# the tracer recording now (set by compiler.capture); None outside a capture
_TRACER = None


def set_tracer(tracer) -> None:
    global _TRACER
    _TRACER = tracer


def active():
    """The tracer, when it is recording (not paused): else None."""
    tr = _TRACER
    return tr if tr is not None and tr.recording else None


def plain(x):
    """``x`` with every ``Traced`` array (inside tuples, lists, dicts, slices) unwrapped."""
    t = type(x)
    if t is Traced:
        return _view(x, _ND)
    if t is tuple:
        return tuple([plain(i) for i in x])
    if t is list:
        return [plain(i) for i in x]
    if t is dict:
        return {k: plain(v) for k, v in x.items()}
    return x


def _quiet(tr, fn, args, kwargs):
    """``fn(*args, **kwargs)`` with recording suspended (NumPy's own Python code may call the
    patched constructors: those inner calls are part of this one operation)."""
    if tr is None:
        return fn(*args, **kwargs)
    tr.recording = False
    try:
        return fn(*args, **kwargs)
    finally:
        tr.recording = True


def _out_objects(out):
    return out[0] if len(out) == 1 else tuple(out)


class Traced(np.ndarray):
    """An array whose NumPy operations are recorded by the active tracer (see module doc)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tr = active()
        res = _quiet(tr, getattr(ufunc, method), plain(inputs), plain(kwargs))
        if tr is not None:
            return tr.on_ufunc(ufunc, method, inputs, kwargs, res)
        out = kwargs.get("out")
        if out is not None and method != "at":
            return _out_objects(out)  # in-place operators rebind to what they were given
        return res

    def __array_function__(self, func, types, args, kwargs):
        tr = active()
        res = _quiet(tr, func, plain(args), plain(kwargs))
        if tr is not None:
            return tr.on_function(func, args, kwargs, res)
        return res

    @property
    def T(self):  # noqa: N802
        return self.transpose()

    @property
    def mT(self):  # noqa: N802
        return self.swapaxes(-1, -2)


def _method(name):
    base = getattr(_ND, name)

    def method(self, *args, **kwargs):
        tr = active()
        res = _quiet(tr, base, (_view(self, _ND), *plain(args)), plain(kwargs))
        if tr is not None:
            return tr.on_method(name, self, args, kwargs, res)
        return res

    method.__name__ = name
    return method


def _reader(name):
    base = getattr(_ND, name)

    def method(self, *args, **kwargs):
        tr = active()
        res = _quiet(tr, base, (_view(self, _ND), *plain(args)), plain(kwargs))
        if tr is not None:
            tr.on_read(name, self, args, res)
        return res

    method.__name__ = name
    return method


def record_kernel(fn, args):
    """``fn(*args)`` on plain arrays, recorded as one ``func`` node: a kernel that chainrule's
    intra-op pool splits (``ops/_parallel.py``), so the replay calls it whole and it splits
    again there. Outside a recording it is just called."""
    tr = active()
    res = _quiet(tr, fn, plain(args), {})
    if tr is not None:
        return tr.on_function(fn, args, {}, res)
    return res


def _install_kernel_recorder():
    from ..ops import _parallel

    _parallel._RECORD = record_kernel


_install_kernel_recorder()


# methods NumPy runs in C without dispatching to the subclass: recorded one by one
METHODS = (
    "astype", "copy", "flatten", "ravel", "reshape", "repeat", "take", "compress", "argmax",
    "argmin", "argsort", "nonzero", "dot", "round", "cumsum", "cumprod", "searchsorted",
    "squeeze", "transpose", "swapaxes", "diagonal", "view", "__getitem__", "__setitem__",
    "fill", "sort", "put", "__copy__", "__deepcopy__",
)
# methods that turn array values into Python values: the traced code depends on data
READS = (
    "item", "tolist", "tobytes", "__float__", "__int__", "__index__", "__bool__",
    "__complex__", "__repr__", "__str__", "__format__", "__contains__",
)
for _name in METHODS:
    setattr(Traced, _name, _method(_name))
for _name in READS:
    setattr(Traced, _name, _reader(_name))


# -- NumPy's constructors, patched while a capture runs -----------------------------------
# (np.zeros_like & co. dispatch through __array_function__ when given a Traced array; they
# are patched as well for plain arguments: the new array must be recorded either way)
CONSTRUCTORS = (
    "array", "asarray", "asanyarray", "ascontiguousarray", "zeros", "ones", "empty", "full",
    "eye", "identity", "arange", "linspace", "zeros_like", "ones_like", "empty_like",
    "full_like", "copy",
)
_PASSTHROUGH = ("asarray", "asanyarray", "ascontiguousarray")


def _constructor(name, orig):
    def fn(*args, **kwargs):
        tr = active()
        if tr is None:
            return orig(*plain(args), **plain(kwargs))
        if name in _PASSTHROUGH and args and type(args[0]) is Traced and _keeps(name, args, kwargs):
            return args[0]  # the same array: nothing new to record
        res = _quiet(tr, orig, plain(args), plain(kwargs))
        return tr.on_create(orig, name, args, kwargs, res)

    fn.__name__ = name
    fn.__wrapped__ = orig
    return fn


def _keeps(name, args, kwargs):
    """Whether np.asarray-like ``name(x, ...)`` returns x's own data unchanged."""
    x = args[0]
    dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
    if dtype is not None and np.dtype(dtype) != x.dtype:
        return False
    return name != "ascontiguousarray" or x.flags.c_contiguous


ORIGINALS = {name: getattr(np, name) for name in CONSTRUCTORS}
PATCHED = {name: _constructor(name, orig) for name, orig in ORIGINALS.items()}


def patch_numpy() -> None:
    for name, fn in PATCHED.items():
        setattr(np, name, fn)


def unpatch_numpy() -> None:
    for name, fn in ORIGINALS.items():
        setattr(np, name, fn)
