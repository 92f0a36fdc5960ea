"""The in-place operations themselves, bound as Tensor methods: ``fill_``, ``zero_``,
``copy_``, ``x[idx] = v``, ``index_add_``/``index_fill_``/``index_copy_`` (and their
out-of-place forms), the shape-changing ``t_``/``transpose_``/``squeeze_``/``unsqueeze_``,
the random fills (``uniform_``, ``normal_``, ...), ``set_``, and every ``<op>_`` whose
out-of-place form is a tensor function (``add_``, ``mul_``, ``relu_``, ...). Each goes
through ``chainrule._inplace``'s three paths (see there)."""

from __future__ import annotations

import numpy as np

from . import ops as P
from .functions import elementwise as FE
from .functions import shape as FS
from .functions import shape_index as FI
from .functions import unary as FU
from ._dtype import from_np
from ._inplace import (
    _bump, _from, _leaf_error, _records, _recorded, _snapshot, _writable, inplace,
)
from ._state import STATE
from .tensor import Tensor, _arr


def _replace(t: Tensor, value) -> Tensor:
    """``t``'s values all replaced by ``value`` (broadcast): t gets a zero gradient, a value
    tensor the whole gradient (``copy_``, ``fill_``, ``zero_`` when recorded)."""
    dt = t._data.dtype
    if isinstance(value, Tensor):
        v = value
        if v._data.dtype != dt:
            v = P.Cast.apply(v, dt) if dt.kind == "f" and v._data.dtype.kind == "f" else \
                Tensor._make(v._data.astype(dt), False, None, 0)
    else:
        v = Tensor._make(np.asarray(value).astype(dt), False, None, 0)
    return P.Where.apply(Tensor._make(np.ones((), bool), False, None, 0), v, t)


def _write_values(name, draw):
    """In-place fill with values computed by ``draw(self, *args)`` (random initialisers)."""

    def method(self, *args, **kwargs):
        vals = draw(self, *args, **kwargs)
        return inplace(self, name, (), lambda t: _replace(t, vals), lambda: vals, "unsafe")

    method.__name__ = name
    return method


def fill_(self, value):
    return inplace(self, "fill_", (value,), lambda t: _replace(t, value),
                   lambda: _arr(value), "unsafe")


def zero_(self):
    return inplace(self, "zero_", (), lambda t: _replace(t, 0), lambda: 0, "unsafe")


def copy_(self, src, non_blocking=False):
    return inplace(self, "copy_", (src,), lambda t: _replace(t, src), lambda: _arr(src),
                   "unsafe")


def _index_tuple(self, dim, index, op):
    from .tensor import _norm_dim

    d = _norm_dim(dim, self._data.ndim, op)
    idx = np.asarray(_arr(index))
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise IndexError(f"{op}: index must be a 1-D integer tensor, got {idx.dtype} of "
                         f"shape {tuple(idx.shape)}")
    return d, (slice(None),) * d + (idx.reshape(-1).astype(np.int64, copy=False),)


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices
    accumulate); ``source.shape[dim] == len(index)``, other dims as ``input``."""
    d, idx = _index_tuple(input, dim, index, "index_add")
    n = idx[-1].shape[0]
    src_shape = tuple(source.shape)
    expect = tuple(n if i == d else s for i, s in enumerate(input._data.shape))
    if src_shape != expect and not (input._data.ndim == 0 and n == 1):
        raise RuntimeError(f"index_add: source of shape {list(src_shape)} doesn't match the "
                           f"expected shape {list(expect)} (input {list(input.shape)}, "
                           f"{n} indices along dim {d})")
    shape = [1] * input._data.ndim
    shape[d] = n
    full = np.broadcast_to(idx[-1].reshape(shape), src_shape)
    src = source if alpha == 1 else source * alpha
    return P.ScatterAdd.apply(input, d, full, src)


def index_fill(input, dim, index, value):  # noqa: A002
    _, idx = _index_tuple(input, dim, index, "index_fill")
    return _index_put(input, idx, value)


def index_copy(input, dim, index, source):  # noqa: A002
    _, idx = _index_tuple(input, dim, index, "index_copy")
    return _index_put(input, idx, source)


def _index_put(t, np_idx, value):
    dt = t._data.dtype
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value, dt), False, None, 0)
    elif value._data.dtype != dt:
        value = value.to(from_np(dt))
    return P.IndexPut.apply(t, value, np_idx)


def setitem(self, idx, value):
    """``x[idx] = value``: written in place; recorded (PyTorch's index_put_ / copy_ through
    a view) when ``x`` or ``value`` is in a graph."""
    np_idx = FI._index(idx)

    def write():
        try:
            _writable(self, "setitem")[np_idx] = _arr(value)
        except (IndexError, ValueError) as e:
            raise _setitem_error(e, self, np_idx, value) from None

    if _records(self, (value,)):
        try:
            _recorded(self, "setitem", lambda t: _index_put(t, np_idx, value), "unsafe")
        except (IndexError, ValueError) as e:
            raise _setitem_error(e, self, np_idx, value) from None
    else:
        write()
        _bump(self, "setitem")


def _setitem_error(e, input, np_idx, value):  # noqa: A002
    shape = tuple(input._data.shape)
    if isinstance(e, IndexError):
        return IndexError(f"setitem: {e} (tensor shape {shape})")
    try:
        target = tuple(input._data[np_idx].shape)
    except (IndexError, ValueError):
        target = "?"
    return RuntimeError(
        f"setitem: shape mismatch: a value of shape {tuple(np.shape(_arr(value)))} cannot be "
        f"broadcast to the indexed result of shape {target} (tensor shape {shape})"
    )


def _shape_inplace(outfn, name):
    """``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``: self becomes the view."""

    def method(self, *args):
        if STATE.grad_enabled and self.requires_grad and self.grad_fn is None:
            raise _leaf_error(name, False)
        r = outfn(_snapshot(self), *args)
        self._data = r._data
        if STATE.grad_enabled and r.requires_grad:
            self.grad_fn, self._out_idx = r.grad_fn, r._out_idx
        _bump(self, name)
        return self

    method.__name__ = name
    return method


def set_(self, source):
    if STATE.grad_enabled and self.requires_grad:
        raise _leaf_error("set_", False)
    self._data = _arr(source)
    _bump(self, "set_")
    return self


def _gen(generator):
    from .random import _gen as g

    return g(generator)


def _uniform(self, a=0.0, b=1.0, generator=None):
    return _gen(generator).random(self._data.shape) * (b - a) + a


def _normal(self, mean=0.0, std=1.0, generator=None):
    return _gen(generator).standard_normal(self._data.shape) * std + mean


def _bernoulli(self, p=0.5, generator=None):
    return _gen(generator).random(self._data.shape) < _arr(p)


def _random(self, low=0, high=None, generator=None):
    if high is None:
        low, high = 0, low
    return _gen(generator).integers(low, high, self._data.shape)


def _exponential(self, lambd=1.0, generator=None):
    return _gen(generator).exponential(1.0 / lambd, self._data.shape)


def _log_normal(self, mean=1.0, std=2.0, generator=None):
    return np.exp(_gen(generator).standard_normal(self._data.shape) * std + mean)


def _cauchy(self, median=0.0, sigma=1.0, generator=None):
    return median + sigma * _gen(generator).standard_cauchy(self._data.shape)


def _geometric(self, p, generator=None):
    return _gen(generator).geometric(p, self._data.shape)


_FROM = {
    "add_": FE.add, "sub_": FE.sub, "subtract_": FE.sub, "mul_": FE.mul, "multiply_": FE.mul,
    "div_": FE.div, "divide_": FE.div, "true_divide_": FE.div, "pow_": FE.pow,
    "floor_divide_": FE.floor_divide, "remainder_": FE.remainder, "fmod_": FE.fmod,
    "neg_": FE.neg, "negative_": FE.neg, "abs_": FU.abs, "absolute_": FU.abs, "exp_": FU.exp,
    "expm1_": FU.expm1, "log_": FU.log, "log1p_": FU.log1p, "log2_": FU.log2,
    "log10_": FU.log10, "sqrt_": FU.sqrt, "rsqrt_": FU.rsqrt, "sin_": FU.sin, "cos_": FU.cos,
    "tan_": FU.tan, "tanh_": FU.tanh, "sigmoid_": FU.sigmoid, "relu_": FU.relu,
    "floor_": FE.floor, "ceil_": FE.ceil, "round_": FE.round, "trunc_": FE.trunc,
    "frac_": FE.frac, "sign_": FE.sign, "sgn_": FE.sign, "reciprocal_": FU.reciprocal,
    "square_": FU.square, "clamp_": FE.clamp, "clip_": FE.clamp, "lerp_": FE.lerp,
    "clamp_min_": lambda t, min: FE.clamp(t, min=min),  # noqa: A006
    "clamp_max_": lambda t, max: FE.clamp(t, max=max),  # noqa: A006
    "addcmul_": lambda t, t1, t2, *, value=1: t + value * t1 * t2,
    "addcdiv_": lambda t, t1, t2, *, value=1: t + value * t1 / t2,
    "masked_fill_": FE.masked_fill, "scatter_": FI.scatter, "scatter_add_": FI.scatter_add,
    "index_add_": index_add, "index_fill_": index_fill, "index_copy_": index_copy,
}

for _name, _fn in _FROM.items():
    setattr(Tensor, _name, _from(_fn, _name, "unsafe" if _name in ("index_fill_",) else
                                 "same_kind"))

for _name, _draw in (("uniform_", _uniform), ("normal_", _normal), ("bernoulli_", _bernoulli),
                     ("random_", _random), ("exponential_", _exponential),
                     ("log_normal_", _log_normal), ("cauchy_", _cauchy),
                     ("geometric_", _geometric)):
    setattr(Tensor, _name, _write_values(_name, _draw))

for _name, _fn in (("t_", FS.t), ("transpose_", FS.transpose), ("squeeze_", FS.squeeze),
                   ("unsqueeze_", FS.unsqueeze), ("swapaxes_", FS.transpose),
                   ("swapdims_", FS.transpose)):
    setattr(Tensor, _name, _shape_inplace(_fn, _name))

Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_
Tensor.set_ = set_
Tensor.__setitem__ = setitem
Tensor.index_add = index_add
Tensor.index_fill = index_fill
Tensor.index_copy = index_copy
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
