"""Small top-level functions: ``gradient`` (finite differences, differentiable),
``nonzero_static``, ``fill``, ``get_device``, ``is_distributed``, the top-level in-place
forms PyTorch exposes (``chainrule.abs_(t)`` is ``t.abs_()``) and ``index_add`` /
``index_copy`` / ``index_fill``.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from .functions import shape as FS
from ._inplace_ops import index_add, index_copy, index_fill
from .tensor import Tensor, _norm_dim


def _coeffs(coords, n, h, edge_order):
    """Stencil weights per position: interior (a, b, c) on (f[i-1], f[i], f[i+1]); the two
    edges on (f0, f1, f2) and (f[-3], f[-2], f[-1]) (NumPy's gradient formulas)."""
    if coords is None:
        d1 = d2 = np.full(n - 2, float(h))
        dx = np.full(n - 1, float(h))
    else:
        dx = np.diff(coords)
        d1, d2 = dx[:-1], dx[1:]
    inner = (-d2 / (d1 * (d1 + d2)), (d2 - d1) / (d1 * d2), d1 / (d2 * (d1 + d2)))
    if edge_order == 1:
        first = (-1 / dx[0], 1 / dx[0], 0.0)
        last = (0.0, -1 / dx[-1], 1 / dx[-1])
    else:
        a, b = dx[0], dx[1]
        first = (-(2 * a + b) / (a * (a + b)), (a + b) / (a * b), -a / (b * (a + b)))
        a, b = dx[-2], dx[-1]
        last = (b / (a * (a + b)), -(a + b) / (a * b), (2 * b + a) / (b * (a + b)))
    return inner, first, last


def gradient(input, *, spacing=1, dim=None, edge_order=1):  # noqa: A002
    """The derivative estimated by finite differences along each dim (or ``dim``): central
    differences inside, one-sided of ``edge_order`` (1 or 2) at the ends; ``spacing`` a
    scalar, one scalar per dim, or one tensor of sample coordinates per dim. Returns a
    tuple, one tensor per dim (differentiable, as ``numpy.gradient`` computes)."""
    x = input if input._data.dtype.kind == "f" else input.to(_dtype.get_default_dtype())
    nd = x._data.ndim
    dims = list(range(nd)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [_norm_dim(d, nd, "gradient") for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                           f"{edge_order}")
    sp = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(sp) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                           f"spacing and dim arguments to have the same length, but got a "
                           f"spacing argument of length {len(sp)} and a dim argument of length "
                           f"{len(dims)}.")
    out = []
    for d, s in zip(dims, sp):
        n = x._data.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        coords = np.asarray(s._data if isinstance(s, Tensor) else s, np.float64)
        inner, first, last = _coeffs(coords if coords.ndim else None, n, float(coords)
                                     if not coords.ndim else None, edge_order)
        shape = [1] * nd
        shape[d] = n - 2

        def w(c, shp=None):
            arr = np.asarray(c, x._data.dtype)
            return Tensor._make(arr.reshape(shp) if arr.ndim else arr, False, None, 0)

        parts = []
        f0, f1, f2 = (FS.narrow(x, d, k, 1) for k in range(3)) if n > 2 else (
            FS.narrow(x, d, 0, 1), FS.narrow(x, d, 1, 1), None)
        parts.append(w(first[0]) * f0 + w(first[1]) * f1 + (w(first[2]) * f2 if f2 is not None
                                                            else 0))
        if n > 2:
            a, b, c = (w(k, shape) for k in inner)
            parts.append(a * FS.narrow(x, d, 0, n - 2) + b * FS.narrow(x, d, 1, n - 2)
                         + c * FS.narrow(x, d, 2, n - 2))
        l3 = FS.narrow(x, d, n - 3, 1) if n > 2 else None
        l2, l1 = FS.narrow(x, d, n - 2, 1), FS.narrow(x, d, n - 1, 1)
        parts.append((w(last[0]) * l3 if l3 is not None else 0) + w(last[1]) * l2
                     + w(last[2]) * l1)
        out.append(FS.cat(parts, d))
    return tuple(out)


def nonzero_static(input, *, size, fill_value=-1):  # noqa: A002
    """``nonzero()`` padded with ``fill_value`` (or truncated) to exactly ``size`` rows."""
    nz = np.argwhere(input._data).astype(np.int64)
    res = np.full((size, input._data.ndim), fill_value, np.int64)
    k = min(size, nz.shape[0])
    res[:k] = nz[:k]
    return Tensor._make(res, False, None, 0)


def fill(input, value):  # noqa: A002
    """A new tensor of input's shape and dtype filled with ``value``."""
    return input.detach().clone().fill_(value)


def get_device(input) -> int:  # noqa: A002
    """-1: every chainrule tensor is on the CPU."""
    return -1


def is_distributed(input) -> bool:  # noqa: A002
    return False


_INPLACE_NAMES = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "as_strided_", "asin_", "conj_physical_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_",
    "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "resize_as_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_",
)


def _forward_to_method(name):
    def fn(input, *args, **kwargs):  # noqa: A002
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: in place."
    return fn


for _n in _INPLACE_NAMES:
    globals()[_n] = _forward_to_method(_n)

__all__ = ["fill", "get_device", "gradient", "index_add", "index_copy", "index_fill",
           "is_distributed", "nonzero_static", *_INPLACE_NAMES]
