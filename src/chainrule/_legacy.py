"""PyTorch's legacy and device API, so that older and device-aware programs run unchanged.

* ``chainrule.Tensor(*sizes)`` / ``Tensor(sequence)`` / ``Tensor(tensor)`` (see
  ``Tensor.__init__``) and the typed constructors ``FloatTensor``, ``DoubleTensor``,
  ``HalfTensor``, ``LongTensor``, ``IntTensor``, ``ShortTensor``, ``CharTensor``,
  ``ByteTensor``, ``BoolTensor``: ``LongTensor([1, 2])`` builds an int64 tensor,
  ``FloatTensor(2, 3)`` a 2x3 one (zero-filled: PyTorch leaves it uninitialised), and
  ``isinstance(t, chainrule.FloatTensor)`` asks whether ``t`` is a float32 tensor.
* ``autograd.Variable(t, requires_grad=False)``: deprecated since PyTorch 0.4; returns a
  tensor (sharing ``t``'s data, without history), and every tensor is a ``Variable``.
* ``set_default_device``/``get_default_device`` (the CPU; anything else is refused),
  ``set_default_tensor_type`` (deprecated: sets the default float dtype), ``layout`` /
  ``strided``, memory formats, and ``Tensor.is_xpu``, ``is_mps``, ``is_meta``, ... (False).
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _dtype
from ._device import check_cpu, device
from .tensor import Size, Tensor, _to_array


def legacy_array(args, np_dtype, op="Tensor"):
    """The array ``Tensor(*args)`` builds: sizes, a sequence, or a tensor's own data."""
    if not args:
        return np.empty((0,), np_dtype)
    if len(args) == 1 and isinstance(args[0], Tensor):
        arr = args[0]._data
        if arr.dtype != np_dtype:
            raise TypeError(f"{op}: expected a tensor of dtype {_dtype.from_np(np_dtype)}, got "
                            f"{_dtype.from_np(arr.dtype)} (convert it first with .to())")
        return arr  # shares the data, as PyTorch does
    if len(args) == 1 and isinstance(args[0], Size):
        return np.zeros(tuple(args[0]), np_dtype)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        if any(a < 0 for a in args):
            raise RuntimeError(f"{op}: negative dimension in size {list(args)}")
        return np.zeros(tuple(int(a) for a in args), np_dtype)  # PyTorch: uninitialised
    if len(args) > 1:
        raise TypeError(f"{op}: expected sizes (ints) or one sequence, got {args!r}")
    data = args[0]
    if isinstance(data, (bool, float, complex)) or (
            isinstance(data, np.ndarray) and data.ndim == 0 and not isinstance(data, Size)):
        raise TypeError(f"{op}: new(): data must be a sequence (got {type(data).__name__})")
    return _to_array(data, _dtype.from_np(np_dtype))


def _init_legacy(self, *args, device=None, requires_grad=False):
    """``Tensor()`` (empty), ``Tensor(*sizes)`` (zero-filled), ``Tensor(sequence)``
    (float32, like ``torch.Tensor``) or ``Tensor(tensor)`` (shares its data)."""
    if device is not None:
        check_cpu(device, "Tensor")
    if len(args) == 1 and isinstance(args[0], Tensor):
        arr = args[0]._data  # any dtype: an alias, as torch.Tensor(t)
    else:
        arr = legacy_array(args, _dtype.get_default_dtype().np)
    self._setup(arr, requires_grad)


class _TensorType(type):
    """The type of the typed constructors: calling one builds a Tensor of its dtype, and
    ``isinstance(t, LongTensor)`` checks the dtype (PyTorch's ``torch.tensortype``)."""

    def __call__(cls, *args, device=None):
        if device is not None:
            check_cpu(device, cls.__name__)
        return Tensor._make(legacy_array(args, cls.dtype.np, cls.__name__), False, None, 0)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np

    def __repr__(cls):
        return f"<class '{_dtype.DISPLAY[0]}.{cls.__name__}'>"


def _typed(name, dt):
    return _TensorType(name, (), {"dtype": dt, "__module__": "chainrule"})


FloatTensor = _typed("FloatTensor", _dtype.float32)
DoubleTensor = _typed("DoubleTensor", _dtype.float64)
HalfTensor = _typed("HalfTensor", _dtype.float16)
LongTensor = _typed("LongTensor", _dtype.int64)
IntTensor = _typed("IntTensor", _dtype.int32)
ShortTensor = _typed("ShortTensor", _dtype.int16)
CharTensor = _typed("CharTensor", _dtype.int8)
ByteTensor = _typed("ByteTensor", _dtype.uint8)
BoolTensor = _typed("BoolTensor", _dtype.bool_)
TYPED = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,
         CharTensor, ByteTensor, BoolTensor)


class _VariableMeta(type):
    def __call__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "chainrule.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            return Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = data.detach()
        return t.requires_grad_(True) if requires_grad else t

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class _ExecutionEngine:
    """``Variable._execution_engine``: what DDP-style code reaches for."""

    @staticmethod
    def queue_callback(fn):
        from .autograd.engine import queue_callback

        queue_callback(fn)

    @staticmethod
    def run_backward(tensors, grad_tensors, keep_graph=False, create_graph=False,
                     inputs=(), allow_unreachable=True, accumulate_grad=True):
        from .autograd.engine import backward, grad

        if accumulate_grad:
            backward(list(tensors), list(grad_tensors), keep_graph, create_graph,
                     inputs=list(inputs) or None)
            return ()
        return grad(list(tensors), list(inputs), list(grad_tensors), keep_graph, create_graph,
                    allow_unused=allow_unreachable)


class Variable(metaclass=_VariableMeta):
    """Deprecated (PyTorch 0.4 merged it into Tensor): ``Variable(t, requires_grad=False)``
    returns a tensor sharing ``t``'s data, without history; every tensor is a Variable."""

    _execution_engine = _ExecutionEngine()


def set_default_device(dev) -> None:
    """Accepts ``None`` or the CPU (chainrule's only device); any other device is refused."""
    if dev is not None:
        check_cpu(dev, "set_default_device")


def get_default_device() -> device:
    return device("cpu")


def set_default_tensor_type(t) -> None:
    """Deprecated in PyTorch 2.1: sets the default floating dtype from a tensor type
    (``chainrule.DoubleTensor`` or the string ``"torch.DoubleTensor"``)."""
    warnings.warn("set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "set_default_dtype() and set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    if "cuda" in name:
        check_cpu("cuda", "set_default_tensor_type")
    lookup = {c.__name__: c.dtype for c in TYPED}
    short = name.rsplit(".", 1)[-1]
    if short not in lookup or not lookup[short].is_floating_point:
        raise TypeError(f"set_default_tensor_type: only floating-point types are supported as "
                        f"the default type, got {name!r}")
    _dtype.set_default_dtype(lookup[short])


class layout:  # noqa: N801 - mirrors torch.layout
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"{_dtype.DISPLAY[0]}.{self.name}"


class memory_format:  # noqa: N801 - mirrors torch.memory_format
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"{_dtype.DISPLAY[0]}.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

Tensor.__init__ = _init_legacy
Tensor.layout = property(lambda self: strided)
Tensor.is_cpu = property(lambda self: not self.is_meta)
for _flag in ("is_xpu", "is_mps", "is_quantized", "is_sparse", "is_mkldnn",
              "is_nested", "is_vulkan", "is_ipu", "is_sparse_csr", "is_mtia", "is_hpu",
              "is_maia"):
    setattr(Tensor, _flag, property(lambda self: False))
Tensor.is_complex = lambda self: False
Tensor.is_signed = lambda self: self._data.dtype.kind in "fi"
Tensor.is_inference = lambda self: False
Tensor.get_device = lambda self: -1
