"""PyTorch's ``out=`` keyword on the top-level functions whose PyTorch versions take it
(``torch.matmul(a, b, out=c)``, ``torch.zeros(2, 3, out=t)``, ``torch.max(x, 1, out=(v, i))``):
the tutorials and many programs use it.

``install`` wraps each listed function that does not take ``out`` itself. With ``out`` given,
the wrapper follows PyTorch:

* if grad mode is on and any tensor argument (``out`` included, tensors inside lists too)
  requires grad: ``RuntimeError("NAME(): functions with out=... arguments don't support
  automatic differentiation, but one of the arguments requires grad.")``;
* the result is computed as without ``out`` and written into ``out`` (through ``copy_``:
  views write through to their base, the version counter moves), cast to ``out``'s dtype
  unless that would go down a category (complex > float > integer > bool), which raises
  PyTorch's "result type Float can't be cast to the desired output type Long";
* an ``out`` of another shape is resized first (``resize_``), with PyTorch's deprecation
  warning when it had elements;
* a function returning several tensors takes a tuple ``out`` and returns it (as the same
  named tuple type when the result is one);
* the return value is ``out``.

Without ``out`` the wrapper only calls the function (one Python call more).
"""

from __future__ import annotations

import functools
import inspect
import warnings

#: PyTorch 2.13's top-level functions that take ``out`` (documented, or accepted by its
#: argument parser) and that chainrule has
NAMES = (
    "abs acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin angle any "
    "arange asin asinh atan atan2 atanh baddbmm bernoulli bitwise_and bitwise_left_shift "
    "bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm bucketize cat ceil cholesky "
    "cholesky_inverse cholesky_solve clamp column_stack conj_physical copysign cos cosh cross "
    "cummax cummin cumprod cumsum deg2rad diag diff div dot dstack empty eq exp eye "
    "float_power floor floor_divide fmax fmin fmod frexp full gather gcd ge gt heaviside histc "
    "hstack hypot index_select inner isneginf isposinf kron kthvalue lcm ldexp le lerp lgamma "
    "linspace log log10 log1p log2 logaddexp logaddexp2 logcumsumexp logical_and logical_not "
    "logical_or logical_xor logspace logsumexp lt lu_solve lu_unpack masked_select matmul max "
    "maximum mean min minimum mm mode msort mul multinomial mv nan_to_num nanmean nanquantile "
    "ne neg nextafter norm normal ones outer pow quantile rad2deg rand randint randn randperm "
    "reciprocal remainder renorm round rsqrt searchsorted sgn sign signbit sin sinh sort sqrt "
    "square stack std std_mean sub svd take_along_dim tan tanh topk tril triu trunc var "
    "var_mean vdot vstack where zeros "
    # accepted by PyTorch's argument parser without being in the docstring
    "argsort clamp_max clamp_min clip divide greater greater_equal histogram isin less "
    "less_equal multiply not_equal nuclear_norm prod scatter subtract sum true_divide"
).split()

_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_TORCH_NAME = {"b": "Bool", "u": "Byte", "i": "Long", "f": "Float", "c": "ComplexFloat"}


def _requires_grad(args, kwargs) -> bool:
    from .tensor import Tensor

    stack = list(args) + list(kwargs.values())
    while stack:
        a = stack.pop()
        if isinstance(a, Tensor):
            if a.requires_grad:
                return True
        elif isinstance(a, (list, tuple)):
            stack.extend(a)
    return False


def _write(name, result, out):
    from .autograd import no_grad

    res = result._data
    dst = out._data.dtype
    if _RANK.get(res.dtype.kind, 0) > _RANK.get(dst.kind, 0):
        raise RuntimeError(f"result type {_TORCH_NAME.get(res.dtype.kind, res.dtype)} can't be "
                           f"cast to the desired output type {_TORCH_NAME.get(dst.kind, dst)}")
    if tuple(out.shape) != tuple(res.shape):
        if out.numel() != 0:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(res.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=4)
        with no_grad():
            out.resize_(res.shape)
    with no_grad():
        out.copy_(result)
    return out


def _wrap(fn, name):
    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        from ._state import STATE
        from .tensor import Tensor

        if STATE.grad_enabled and _requires_grad(args + (out,), kwargs):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        result = fn(*args, **kwargs)
        if isinstance(result, Tensor):
            if not isinstance(out, Tensor):
                raise TypeError(f"{name}(): argument 'out' must be Tensor, not "
                                f"{type(out).__name__}")
            return _write(name, result, out)
        parts = tuple(result)
        if not isinstance(out, (tuple, list)) or len(out) != len(parts):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(parts)} Tensors")
        written = [_write(name, r, o) for r, o in zip(parts, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)

    try:
        sig = inspect.signature(fn)
        if "out" not in sig.parameters:
            params = list(sig.parameters.values())
            kw = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
            var_kw = [p for p in params if p.kind is p.VAR_KEYWORD]
            params = [p for p in params if p.kind is not p.VAR_KEYWORD] + [kw] + var_kw
            call.__signature__ = sig.replace(parameters=params)
    except (TypeError, ValueError):
        pass
    call._takes_out = True
    return call


def _takes_out(fn) -> bool:
    if getattr(fn, "_takes_out", False):
        return True
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "out" in params


def install(namespace: dict) -> None:
    """Give every function of ``NAMES`` in ``namespace`` PyTorch's ``out=`` (see above)."""
    for name in NAMES:
        fn = namespace.get(name)
        if fn is None or isinstance(fn, type) or not callable(fn) or _takes_out(fn):
            continue
        namespace[name] = _wrap(fn, name)
