"""Elementwise primitives. See ``chainrule.ops`` for the vocabulary (x, out, grad, x_dot)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _plus(a, b):
    """a + b where either may be None (a missing tangent)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class Add(Function):
    """out = x + y.   VJP: (grad, grad).   JVP: x_dot + y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        return _plus(x_dot, y_dot)


class Sub(Function):
    """out = x - y.   VJP: (grad, -grad).   JVP: x_dot - y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        return _plus(x_dot, None if y_dot is None else -y_dot)


class Mul(Function):
    """out = x * y.   VJP: (grad * y, grad * x).   JVP: x_dot * y + x * y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        # Mul.apply directly: the operands already share a dtype (promoted in forward)
        return (Mul.apply(grad, y) if need[0] else None), (Mul.apply(grad, x) if need[1] else None)

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        return _plus(None if x_dot is None else x_dot * y, None if y_dot is None else x * y_dot)


class Div(Function):
    """out = x / y.   VJP: (grad / y, -grad * x / y^2).   JVP: (x_dot - out * y_dot) / y."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad / y if need[0] else None
        gy = -grad * x / (y * y) if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        t = x_dot / y if x_dot is not None else None
        if y_dot is not None:
            t = _plus(t, -(x * y_dot) / (y * y))
        return t


class Neg(Function):
    """out = -x.   VJP: -grad.   JVP: -x_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def jvp(ctx, x_dot):
        return -x_dot


class Pow(Function):
    """out = x ** y.

    VJP: grad * y * x^(y-1) for x (0 where y == 0);  grad * out * log(x) for y (0 where
    x == 0 and y >= 0, as PyTorch). JVP: the sum of both terms with x_dot and y_dot.
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        out = np.power(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def _dx(x, y):
        if isinstance(y, (int, float)):
            if y == 0:
                return x * 0.0
            if y == 1:
                return x * 0.0 + 1.0
            if y == 2:
                return x * 2.0
            return y * x ** (y - 1)
        # 0 where y == 0 (not 0 * 0^-1 = nan at x == 0), as PyTorch
        return (y * x ** (y - 1)).masked_fill(y == 0, 0.0)

    @staticmethod
    def _dy(x, y, out):
        return (out * x.log()).masked_fill((x == 0) & (y >= 0), 0.0)

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad * Pow._dx(x, y) if need[0] else None
        gy = grad * Pow._dy(x, y, out) if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y, out = ctx.saved_tensors
        t = None if x_dot is None else x_dot * Pow._dx(x, y)
        if y_dot is not None:
            t = _plus(t, y_dot * Pow._dy(x, y, out))
        return t


def _unary(name, fn, doc, vjp, jvp=None, save="x"):
    """Build a unary primitive; ``vjp(x, out, grad)`` and ``jvp(x, out, x_dot)`` give the
    rules (jvp defaults to the same local derivative applied to x_dot)."""

    def forward(ctx, x):
        out = fn(x)
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
        return vjp(x, out, grad)

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
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


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
Relu = _unary(
    "Relu", lambda x: np.maximum(x, 0),
    "out = max(x, 0).   VJP: grad * [x > 0]. The derivative at 0 is taken as 0 (PyTorch's "
    "choice): a subgradient, and it keeps units that sit exactly at 0 inactive.",
    lambda x, out, g: Mul.apply(g, out > 0), save="out")
Abs = _unary("Abs", np.abs, "out = |x|.   VJP: grad * sign(x) (0 at x = 0).",
             lambda x, out, g: g * x.sign())


class Maximum(Function):
    """out = max(x, y) elementwise.   VJP: grad to the larger input; on ties, half to each
    (PyTorch's rule). JVP: the same weights applied to x_dot and y_dot."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def _weights(x, y, sign):
        dt = x.dtype
        wx = ((x - y) * sign > 0).to(dt) + (x == y).to(dt) * 0.5
        return wx, 1 - wx

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, 1)
        return grad * wx, grad * wy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, 1)
        return _plus(None if x_dot is None else x_dot * wx, None if y_dot is None else y_dot * wy)


class Minimum(Function):
    """out = min(x, y) elementwise.   VJP: grad to the smaller input; ties split in half."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, -1)
        return grad * wx, grad * wy

    @staticmethod
    def jvp(ctx, x_dot, y_dot):
        x, y = ctx.saved_tensors
        wx, wy = Maximum._weights(x, y, -1)
        return _plus(None if x_dot is None else x_dot * wx, None if y_dot is None else y_dot * wy)


class Where(Function):
    """out = x where cond else y.   VJP: (grad masked by cond, grad masked by not cond)."""

    _arrays = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad.masked_fill(~cond, 0.0) if need[1] else None
        gy = grad.masked_fill(cond, 0.0) if need[2] else None
        return None, gx, gy

    @staticmethod
    def jvp(ctx, cond_dot, x_dot, y_dot):
        (cond,) = ctx.saved_tensors
        zero = 0.0
        return Where.apply(cond, zero if x_dot is None else x_dot, zero if y_dot is None else y_dot)


class Clamp(Function):
    """out = min(max(x, lo), hi) with scalar bounds.   VJP: grad * [lo <= x <= hi]."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def _mask(ctx, x):
        m = None
        if ctx.lo is not None:
            m = x >= ctx.lo
        if ctx.hi is not None:
            m = (x <= ctx.hi) if m is None else m & (x <= ctx.hi)
        return m

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Clamp._mask(ctx, x), None, None

    @staticmethod
    def jvp(ctx, x_dot, lo_dot, hi_dot):
        (x,) = ctx.saved_tensors
        return x_dot * Clamp._mask(ctx, x)


class Cast(Function):
    """out = x converted to another dtype.   VJP: grad (the engine casts it back to x's dtype)."""

    _arrays = True

    @staticmethod
    def forward(ctx, x, np_dtype):
        return x.astype(np_dtype, order="C")  # a C-contiguous copy (contiguous() relies on it)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return x_dot


class ZeroGrad(Function):
    """out = f(x) for a piecewise-constant f (floor, ceil, round, trunc, sign, step).

    VJP: zeros (f' = 0 almost everywhere; PyTorch returns 0 at the jumps too).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(grad.shape), None

    @staticmethod
    def jvp(ctx, x_dot, _):
        return x_dot.new_zeros(x_dot.shape)
