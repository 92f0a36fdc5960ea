"""``assert_close`` and the deprecated ``assert_allclose`` (``torch.testing``'s comparisons).

The inputs are walked first (sequences and mappings element by element, each leaf recorded
with its path ``[0]['w']``), and only then are the leaves compared: a leaf that cannot be
compared at all (a string, a tensor against a NumPy array) raises before any value is
checked, as in PyTorch. The first failing leaf raises ``AssertionError``.

Leaves are of four kinds, tried in PyTorch's order:

=============  ============================================  ==============================
kind           inputs                                        compared by
=============  ============================================  ==============================
none           either side ``None``                          identity
bool           ``bool`` / ``numpy.bool_`` on both sides      identity
number         ``int``/``float``/``complex``/``numpy.number`` ``|a - e| <= atol + rtol|e|``
tensor-like    chainrule tensors, NumPy arrays (directly     attributes, then ``isclose``
               related types on both sides)                  elementwise
=============  ============================================  ==============================
"""

from __future__ import annotations

import cmath
import collections.abc
import contextlib
import warnings

import numpy as np

from .. import _dtype
from .._legacy import strided
from ..tensor import Size, Tensor
from . import _values


class _FailureError(Exception):
    """A comparison failure still to be turned into the user's exception (with its path)."""

    def __init__(self, kind: type, message: str, path: tuple = ()):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def to_error(self, msg=None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.message
        if self.path:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in self.path)
        return self.kind(msg(text) if callable(msg) else text)


def _tolerances(rtol, atol, np_dtypes, path, table=None):
    if (rtol is None) != (atol is None):
        raise _FailureError(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                       f"but got no {'rtol' if rtol is None else 'atol'}.", path)
    if rtol is not None:
        return rtol, atol
    return _values.default_tolerances(*np_dtypes, table=table)


# ----------------------------------------------------------------------------- leaves

_NUMBER_DTYPES = {int: np.int64, float: np.float64, complex: np.complex128}


def _as_number(x):
    if isinstance(x, np.number):
        return x.item()
    if isinstance(x, bool):
        raise RuntimeError(f"assert_close: cannot compare the bool {x!r} with a number; "
                           "compare bools with bools (or convert with int(...))")
    return x


class _TensorLike:
    """What assert_close needs of one tensor or NumPy array, read once."""

    def __init__(self, x):
        if isinstance(x, Tensor):
            self.layout = x.layout
            self.dtype = x.dtype
            self.device = x.device
            self.sparse = bool(getattr(x, "is_sparse", False))
            self.stride = None if self.sparse else tuple(x.stride())
            self.tensor = x.detach()
            self.np_dtype = x.dtype.np
        else:  # a NumPy array, as torch.as_tensor would take it
            self.layout, self.device, self.sparse, self.tensor = strided, _device_cpu(), False, x
            self.stride = tuple(s // x.itemsize for s in x.strides)
            self.np_dtype = x.dtype
            self.dtype = _dtype_label(x.dtype)
        self.shape = Size(x.shape)

    def array(self, np_dtype=None) -> np.ndarray:
        t = self.tensor
        if isinstance(t, Tensor):
            t = (t.to_dense() if self.sparse else t).numpy()
        return np.asarray(t) if np_dtype is None else np.asarray(t).astype(np_dtype, copy=False)


def _device_cpu():
    from .._device import device
    return device("cpu")


class _NumpyDtype:
    """Prints a NumPy dtype chainrule has no tensor dtype for (complex64, uint16, ...)."""

    def __init__(self, np_dtype):
        self.np = np_dtype

    def __repr__(self) -> str:
        return f"numpy.{self.np.name}"

    def __eq__(self, other) -> bool:
        return getattr(other, "np", None) == self.np

    __hash__ = None


def _dtype_label(np_dtype):
    try:
        return _dtype.from_np(np_dtype)
    except TypeError:
        return _NumpyDtype(np_dtype)


def _is_tensor_like(x) -> bool:
    if isinstance(x, Tensor):
        return True
    return (isinstance(x, np.ndarray) and x.dtype.kind in "biufc"
            and all(s >= 0 for s in x.strides))  # torch.as_tensor refuses negative strides


def _make_leaf(actual, expected, path, opts):
    """(kind, actual, expected, rtol, atol) for one pair of leaves, or a TypeError."""
    if actual is None or expected is None:
        return ("none", actual, expected, None, None)
    bools = (bool, np.bool_)
    if isinstance(actual, bools) and isinstance(expected, bools):
        return ("bool", bool(actual), bool(expected), None, None)
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        a, e = _as_number(actual), _as_number(expected)
        rtol, atol = _tolerances(opts["rtol"], opts["atol"],
                                 [_NUMBER_DTYPES[type(v)] for v in (a, e)], path)
        return ("number", a, e, rtol, atol)
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    same = opts["allow_subclasses"] or type(actual) is type(expected)
    if related and same and _is_tensor_like(actual) and _is_tensor_like(expected):
        a, e = _TensorLike(actual), _TensorLike(expected)
        rtol, atol = _tolerances(opts["rtol"], opts["atol"], [a.np_dtype, e.np_dtype], path)
        return ("tensor", a, e, rtol, atol)
    raise _FailureError(TypeError, "No comparison pair was able to handle inputs of type "
                   f"{type(actual)} and {type(expected)}.", path)


def _collect(actual, expected, path, opts, leaves):
    """Walk nested sequences and mappings, appending (path, leaf) to ``leaves``."""
    seq = collections.abc.Sequence
    if (isinstance(actual, seq) and isinstance(expected, seq)
            and not isinstance(actual, str) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _FailureError(AssertionError, "The length of the sequences mismatch: "
                           f"{len(actual)} != {len(expected)}", path)
        for i in range(len(actual)):
            _collect(actual[i], expected[i], (*path, i), opts, leaves)
    elif (isinstance(actual, collections.abc.Mapping)
          and isinstance(expected, collections.abc.Mapping)):
        a_keys, e_keys = set(actual.keys()), set(expected.keys())
        if a_keys != e_keys:
            raise _FailureError(AssertionError, "The keys of the mappings do not match:\n"
                           f"Missing keys in the actual mapping: {sorted(e_keys - a_keys)}\n"
                           f"Additional keys in the actual mapping: {sorted(a_keys - e_keys)}",
                           path)
        keys = list(a_keys)
        with contextlib.suppress(TypeError):  # keys of mixed types keep their set order
            keys = sorted(keys)
        for k in keys:
            _collect(actual[k], expected[k], (*path, k), opts, leaves)
    else:
        leaves.append((path, _make_leaf(actual, expected, path, opts)))


# ----------------------------------------------------------------------------- comparisons

def _compare_numbers(a, e, rtol, atol, opts, path):
    if opts["check_dtype"] and type(a) is not type(e):
        raise _FailureError(AssertionError,
                       f"The (d)types do not match: {type(a)} != {type(e)}.", path)
    if a == e or (opts["equal_nan"] and cmath.isnan(a) and cmath.isnan(e)):
        return
    diff = abs(a - e)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(e):
        return
    raise _FailureError(AssertionError, _values.scalar_message(a, e, rtol, atol), path)


def _compare_arrays(a, e, rtol, atol, equal_nan, path, identifier="Tensor-likes"):
    matches = _values.isclose(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        text = _values.scalar_message(a.item(), e.item(), rtol, atol, identifier="Scalars"
                                      if identifier == "Tensor-likes" else identifier)
    else:
        text = _values.array_message(a, e, matches, rtol, atol, identifier=identifier)
    raise _FailureError(AssertionError, text, path)


def _compare_tensors(a: _TensorLike, e: _TensorLike, rtol, atol, opts, path):
    def mismatch(name, x, y):
        raise _FailureError(AssertionError,
                       f"The values for attribute '{name}' do not match: {x} != {y}.", path)

    if a.shape != e.shape:
        mismatch("shape", a.shape, e.shape)
    if a.layout != e.layout:
        if opts["check_layout"]:
            mismatch("layout", a.layout, e.layout)
    elif a.layout == strided and opts["check_stride"] and a.stride != e.stride:
        mismatch("stride()", a.stride, e.stride)
    if opts["check_device"] and a.device != e.device:
        mismatch("device", a.device, e.device)
    if opts["check_dtype"] and a.np_dtype != e.np_dtype:
        mismatch("dtype", a.dtype, e.dtype)
    common = _values.promote(a.np_dtype, e.np_dtype)
    if a.sparse and e.sparse:
        _compare_sparse(a.tensor, e.tensor, common, rtol, atol, opts["equal_nan"], path)
        return
    _compare_arrays(a.array(common), e.array(common), rtol, atol, opts["equal_nan"], path)


def _compare_sparse(a, e, common, rtol, atol, equal_nan, path):
    """Sparse COO pairs: dimensions and counts equal, indices equal, values close."""
    for what, x, y in (("number of sparse dimensions", a.sparse_dim(), e.sparse_dim()),
                       ("number of specified values", a._nnz(), e._nnz())):
        if x != y:
            raise _FailureError(AssertionError,
                           f"The {what} in sparse COO tensors does not match: {x} != {y}", path)
    _compare_arrays(a._indices().numpy(), e._indices().numpy(), 0, 0, False, path,
                    identifier="Sparse COO indices")
    _compare_arrays(a._values().numpy().astype(common), e._values().numpy().astype(common),
                    rtol, atol, equal_nan, path, identifier="Sparse COO values")


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg=None) -> None:
    r"""Assert that ``actual`` and ``expected`` are close (``torch.testing.assert_close``).

    Values are close when :math:`|actual - expected| \le atol + rtol \cdot |expected|`
    elementwise; infinities only when equal; NaN only with ``equal_nan``. Tensors must also
    agree in shape and (unless the ``check_*`` flag is off) layout, device, dtype and, with
    ``check_stride``, stride; with ``check_dtype=False`` both are promoted to a common dtype.

    Args:
        actual, expected: tensors, NumPy arrays, Python or NumPy scalars, ``None``, or nested
            sequences / mappings of them (compared element by element; the failing item's
            path ends the message). Except for scalars, both sides must be of directly
            related types (a tensor is not compared with a NumPy array).
        allow_subclasses: compare a subclass with its base (``Parameter`` with ``Tensor``).
        rtol, atol: give both or neither. Defaults by dtype (the loosest of the two):
            float16 1e-3/1e-5, float32 1.3e-6/1e-5, float64 1e-7/1e-7, complex64 1.3e-6/1e-5,
            complex128 1e-7/1e-7, integers and bool 0/0 (exact). Python ``float`` counts as
            float64, ``int`` as int64, ``complex`` as complex128.
        msg: replaces the message (a string), or receives it and returns the new one.

    Raises:
        AssertionError: on any mismatch; the message gives the number and share of
            mismatched elements and the greatest absolute and relative differences with
            their index.
        ValueError: only one of ``rtol``/``atol`` given.
        TypeError: inputs that cannot be compared (a string, a tensor against an array).

    Example::

        >>> assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0000001]))
        >>> assert_close({"w": [1.0]}, {"w": [1.5]})
        AssertionError: Scalars are not close! ... The failure occurred for item ['w'][0]
    """
    __tracebackhide__ = True
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                check_stride=check_stride)
    leaves: list = []
    try:
        _collect(actual, expected, (), opts, leaves)
    except _FailureError as failure:  # structural and type errors: the generated message, always
        raise failure.to_error() from None
    for path, (kind, a, e, lrtol, latol) in leaves:
        try:
            if kind == "none":
                if not (a is None and e is None):
                    raise _FailureError(AssertionError, f"None mismatch: {a} is not {e}", path)
            elif kind == "bool":
                if a is not e:
                    raise _FailureError(AssertionError, f"Booleans mismatch: {a} is not {e}", path)
            elif kind == "number":
                _compare_numbers(a, e, lrtol, latol, opts, path)
            else:
                _compare_tensors(a, e, lrtol, latol, opts, path)
        except _FailureError as failure:
            raise failure.to_error(msg) from None


_ALLCLOSE_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-3),
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.float64): (1e-5, 1e-8),
}


def assert_allclose(actual, expected, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated (as in PyTorch since 1.12, with the same ``FutureWarning``): use
    :func:`assert_close`.

    Non-tensors are made tensors (``expected`` in ``actual``'s dtype); default tolerances
    float16 1e-3/1e-3, float32 1e-4/1e-5, float64 1e-5/1e-8, others 0/0; NaNs compare equal;
    dtypes are not checked (values are promoted).
    """
    __tracebackhide__ = True
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find "
        "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning, stacklevel=2)
    from ..creation import tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _values.default_tolerances(actual.dtype.np, expected.dtype.np,
                                                table=_ALLCLOSE_TOLERANCES)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
