"""Unary elementwise primitives: exp, log, sqrt, sin, cos, tan, tanh, sigmoid, relu, abs,
and the fused backward nodes of tanh, sigmoid and relu (TanhGrad, SigmoidGrad, ReluGrad).
Each is built by ``_unary`` from its NumPy function and one local derivative, used by both the VJP and the
JVP (``ops/elementwise_extra.py`` and ``ops/special.py`` build theirs the same way)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from . import _parallel as P
from .elementwise import Mul


def _unary(name, fn, doc, vjp, jvp=None, save="x"):
    """Build a unary primitive; ``vjp(x, out, grad)`` and ``jvp(x, out, x_dot)`` give the
    rules (jvp defaults to the same local derivative applied to x_dot)."""

    def forward(ctx, x):
        out = fn(x)
        if out.__class__ is not np.ndarray and isinstance(out, np.generic):
            # a 0-d input gave a NumPy scalar: make it the 0-d array before it is saved
            # (apply's general conversion would then rewrite what was saved: 0.5 us more)
            out = np.asarray(out)
        if save == "x":
            ctx.save_for_backward(x)
        elif save == "out":
            ctx.save_for_backward(out)
        else:
            ctx.save_for_backward(x, out)
        return out

    def _unpack(ctx):
        s = ctx.saved_tensors
        if save == "x":
            return s[0], None
        if save == "out":
            return None, s[0]
        return s

    def backward(ctx, grad):
        x, out = _unpack(ctx)
        return (vjp(x, out, grad),)  # a tuple: the engine's check of the result is then free

    def jvp_rule(ctx, x_dot):
        x, out = _unpack(ctx)
        return (jvp or vjp)(x, out, x_dot)

    cls = type(name, (Function,), {
        "__doc__": doc, "_arrays": True,
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "jvp": staticmethod(jvp_rule), "__module__": __name__,
    })
    return cls


def _sigmoid(x):
    """exp(min(x, 0)) / (1 + exp(-|x|)): 1 / (1 + exp(-x)) for x >= 0 (PyTorch's formula)
    and exp(x) / (1 + exp(x)) for x < 0, so no exp overflows (no warning, no inf, also in
    compiled replays) and tiny values keep their relative precision. Branch-free:
    ``np.where`` on a mask of signs costs 10x more on large arrays. float16 is computed in
    float32 and rounded once, as PyTorch does."""
    if x.dtype == np.float16:
        return _sigmoid(x.astype(np.float32)).astype(np.float16)
    e = np.exp(np.negative(np.abs(x)))
    m = np.exp(np.minimum(x, 0))
    if e.__class__ is not np.ndarray:  # 0-d input: NumPy returned scalars
        return np.asarray(m / (1 + e), x.dtype)
    e += 1
    return np.divide(m, e, out=e)


Exp = _unary("Exp", np.exp, "out = exp(x).   VJP: grad * out.   JVP: x_dot * out.",
             lambda x, out, g: Mul.apply(g, out), save="out")
Expm1 = _unary("Expm1", np.expm1, "out = exp(x) - 1.   VJP: grad * (out + 1).",
               lambda x, out, g: g * (out + 1), save="out")
Log = _unary("Log", np.log, "out = log(x).   VJP: grad / x.", lambda x, out, g: g / x)
Log1p = _unary("Log1p", np.log1p, "out = log(1 + x).   VJP: grad / (1 + x).",
               lambda x, out, g: g / (x + 1))
Sqrt = _unary("Sqrt", np.sqrt, "out = sqrt(x).   VJP: grad / (2 out).",
              lambda x, out, g: g / (out * 2), save="out")
Sin = _unary("Sin", np.sin, "out = sin(x).   VJP: grad * cos(x).", lambda x, out, g: g * x.cos())
Cos = _unary("Cos", np.cos, "out = cos(x).   VJP: -grad * sin(x).",
             lambda x, out, g: -(g * x.sin()))
Tan = _unary("Tan", np.tan, "out = tan(x).   VJP: grad * (1 + out^2).",
             lambda x, out, g: g * (out * out + 1), save="out")
def _output_grad(name, d, d_prime, doc):
    """A fused backward primitive ``out = grad * d(y)`` for a unary op whose derivative is a
    function d of its output y (tanh, sigmoid): one node instead of three in the backward
    pass, and still differentiable (VJP: (g * d(y), g * grad * d'(y)))."""

    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return grad * d(y)

    def backward(ctx, g):
        grad, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * d(y) if need[0] else None), (g * grad * d_prime(y) if need[1] else None)

    def jvp(ctx, grad_dot, y_dot):
        grad, y = ctx.saved_tensors
        return grad_dot * d(y) + grad * d_prime(y) * y_dot

    return type(name, (Function,), {
        "__doc__": doc, "_arrays": True, "__module__": __name__,
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "jvp": staticmethod(jvp),
    })


TanhGrad = _output_grad("TanhGrad", lambda y: 1 - y * y, lambda y: -2 * y,
                        "out = grad * (1 - y^2): tanh's VJP as one node (y = tanh(x)).")
SigmoidGrad = _output_grad("SigmoidGrad", lambda y: y * (1 - y), lambda y: 1 - 2 * y,
                           "out = grad * y (1 - y): sigmoid's VJP as one node (y = sigmoid(x)).")

Tanh = _unary("Tanh", np.tanh, "out = tanh(x).   VJP: grad * (1 - out^2) (fused: TanhGrad).",
              lambda x, out, g: TanhGrad.apply(g, out), save="out")
Sigmoid = _unary("Sigmoid", _sigmoid,
                 "out = 1 / (1 + exp(-x)) (stable for large |x|).   VJP: grad * out * (1 - out) "
                 "(fused: SigmoidGrad).",
                 lambda x, out, g: SigmoidGrad.apply(g, out), save="out")
_ROW = 4096  # relu runs as max(x rows, a zero row): NumPy's SIMD loop needs two arrays
_BIG = 1 << 16  # below this many numbers, fewer NumPy calls beat faster loops
_ZERO_ROWS: dict = {}


def _relu(x):
    """max(x, 0). ``np.maximum(x, 0)`` takes NumPy's scalar loop (3-4x slower than its SIMD
    loop at W3's sizes); a contiguous x is taken as rows of 4,096 against one read-only zero
    row, the remainder against its prefix. Same values (NaN propagates, -0.0 gives +0.0)."""
    n = x.size
    if n < _BIG or x.dtype.kind not in "fiu" or not x.flags.c_contiguous:
        return np.maximum(x, 0)
    if P.recording(x):
        return P.record(_relu, x)
    zero = _ZERO_ROWS.get(x.dtype)
    if zero is None:
        zero = _ZERO_ROWS[x.dtype] = np.zeros(_ROW, x.dtype)
        zero.flags.writeable = False
    out = np.empty_like(x)
    flat, res, q = x.reshape(-1), out.reshape(-1), n - n % _ROW
    rows, rres = flat[:q].reshape(-1, _ROW), res[:q].reshape(-1, _ROW)
    parts = P.pieces(len(rows), x.nbytes, arrays=(x,)) if P._N > 1 else None
    if parts is None:
        np.maximum(rows, zero, out=rres)
    else:
        P.run(lambda lo, hi: np.maximum(rows[lo:hi], zero, out=rres[lo:hi]), parts)
    if q < n:
        np.maximum(flat[q:], zero[: n - q], out=res[q:])
    return out


_INT = {2: np.int16, 4: np.int32, 8: np.int64}  # the integer type of a float's bits


def select(v, mask, out=None):
    """v where mask is -1, else +0.0, as a bitwise AND of the float bits with an integer
    mask (0 or -1; int8 or v's width): exact, and an inf or NaN goes only where selected
    (v * [mask] would spread NaN = inf * 0). Also ReLU's and max pooling's gradients."""
    it = _INT[v.itemsize]
    res = np.bitwise_and(v.view(it), mask, out=None if out is None else out.view(it))
    return res.view(v.dtype)


def _relu_grad(grad, y, out=None):
    """ReluGrad's rule on arrays (see the class); large float arrays can be written into
    ``out``."""
    drop = np.equal(y, 0)  # y is relu's output: +0 (dropped), > 0 or NaN (kept)
    it = _INT.get(grad.dtype.itemsize)
    if it is None or grad.dtype.kind != "f" or grad.shape != y.shape or not grad.ndim:
        return np.where(drop, np.zeros((), grad.dtype), grad)
    # an int8 mask, 0 (dropped) or -1 (kept): the AND widens it as it goes (measured 10%
    # faster than a mask of the gradient's width at (64, 16, 28, 28): less memory traffic)
    mask = np.subtract(drop.view(np.int8), 1, out=drop.view(np.int8))
    return select(grad, mask, out=out)


def _relu_grad_split(grad, y):
    """``_relu_grad`` on pieces of the flat arrays (``_parallel``) when they are large."""
    if grad.shape != y.shape or grad.dtype.kind != "f" or grad.size < _BIG \
            or not grad.flags.c_contiguous or not y.flags.c_contiguous:
        return _relu_grad(grad, y)
    if P.recording(grad, y):
        return P.record(_relu_grad_split, grad, y)
    parts = P.pieces(grad.size, grad.nbytes, _ROW, arrays=(grad, y))
    if parts is None:
        return _relu_grad(grad, y)
    out = np.empty_like(grad)
    g1, y1, o1 = grad.reshape(-1), y.reshape(-1), out.reshape(-1)
    P.run(lambda lo, hi: _relu_grad(g1[lo:hi], y1[lo:hi], o1[lo:hi]), parts)
    return out


class ReluGrad(Function):
    """out = grad where y > 0, else 0 (y = relu(x)): relu's VJP as one node, with PyTorch's
    ``threshold_backward`` semantics: a selection, not a product, so an inf or NaN gradient
    stays where the unit is active (grad * [y > 0] would make inf * 0 = NaN elsewhere), and
    a NaN output passes its gradient (``y <= 0`` is false for NaN; y, relu's output, is +0,
    positive or NaN, so ``y == 0`` is the test). On large arrays the selection is a bitwise
    AND of the gradient's bits with a 0 / -1 mask: branch-free (a compiled replay has no
    data-dependent check) and as fast as ``grad * mask``, where ``np.where`` costs 10x more
    on a random mask.
    VJP: (ReluGrad(g, y), none for y: the mask is piecewise constant).
    JVP: ReluGrad(grad_dot, y)."""

    _arrays = True

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)
        if P._N > 1:
            return _relu_grad_split(grad, y)
        return _relu_grad(grad, y)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(g, y), None

    @staticmethod
    def jvp(ctx, grad_dot, y_dot):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(grad_dot, y)


Relu = _unary(
    "Relu", _relu,
    "out = max(x, 0).   VJP: grad where out > 0, else 0 (fused: ReluGrad). The derivative at "
    "0 is taken as 0 (PyTorch's choice): a subgradient, and it keeps units that sit exactly at "
    "0 inactive.",
    lambda x, out, g: ReluGrad.apply(g, out), save="out")
Abs = _unary("Abs", np.abs, "out = |x|.   VJP: grad * sign(x) (0 at x = 0).",
             lambda x, out, g: g * x.sign())
