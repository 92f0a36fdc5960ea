"""``gradcheck`` / ``gradgradcheck``: analytic derivatives against central differences.

For each input that requires grad, the Jacobian from reverse mode is compared with the
numerical Jacobian (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), in float64. On failure a
``GradcheckError`` names the input, the worst element, and both values.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad


class GradcheckError(RuntimeError):
    """Analytic and numerical derivatives disagree."""


def _outputs(func, inputs):
    out = func(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _outputs_shape(func, inputs, k):
    with enable_grad():
        return tuple(_outputs(func, inputs)[k]._data.shape)


def _numerical(func, inputs, j, eps):
    x = inputs[j]
    flat = x._data.reshape(-1)
    with enable_grad():  # func may itself take derivatives (gradgradcheck)
        base = _outputs(func, inputs)
    cols = [np.zeros((o.numel(), flat.size)) for o in base]
    for i in range(flat.size):
        old = flat[i].copy()
        flat[i] = old + eps
        with enable_grad():
            plus = _outputs(func, inputs)
        flat[i] = old - eps
        with enable_grad():
            minus = _outputs(func, inputs)
        flat[i] = old
        for k, (p, m) in enumerate(zip(plus, minus)):
            cols[k][:, i] = ((p._data.astype(np.float64) - m._data.astype(np.float64)) /
                             (2 * eps)).reshape(-1)
    return cols


def _analytical(func, inputs, j):
    with enable_grad():
        outs = _outputs(func, inputs)
        rows = []
        for o in outs:
            J = np.zeros((o.numel(), inputs[j].numel()))
            if o.requires_grad:
                for r in range(o.numel()):
                    e = np.zeros(o.numel(), o._data.dtype)
                    e[r] = 1
                    g, = _grad(o, inputs[j], Tensor._make(e.reshape(o._data.shape), False, None, 0),
                               retain_graph=True, allow_unused=True)
                    if g is not None:
                        J[r] = g._data.reshape(-1)
            rows.append(J)
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **_ignored) -> bool:
    """True when reverse-mode derivatives of ``func`` match central differences; otherwise
    raise ``GradcheckError`` (or return False with ``raise_exception=False``)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x._data.dtype != np.float64:
            import warnings

            warnings.warn(f"gradcheck: input {j} is {x.dtype}, not float64; the check may fail "
                          "for precision reasons alone", stacklevel=2)
        if not x._data.flags.writeable:
            x._data = x._data.copy()
        num = _numerical(func, inputs, j, eps)
        ana = _analytical(func, inputs, j)
        for k, (n, a) in enumerate(zip(num, ana)):
            bad = np.abs(a - n) > atol + rtol * np.abs(n)
            if bad.any():
                err = np.where(bad, np.abs(a - n), -1.0)
                r, c = np.unravel_index(np.argmax(err), err.shape)
                out_shape = _outputs_shape(func, inputs, k)
                r_idx = tuple(int(i) for i in np.unravel_index(r, out_shape)) if out_shape else ()
                c_idx = tuple(int(i) for i in np.unravel_index(c, x._data.shape))
                msg = (
                    f"gradcheck: Jacobian mismatch for output {k} with respect to input {j} "
                    f"(shape {tuple(x.shape)}): worst at output element {r_idx}, input element "
                    f"{c_idx}: "
                    f"analytical {a[r, c]:.10g} vs numerical {n[r, c]:.10g} "
                    f"({int(bad.sum())} of {bad.size} elements differ beyond atol={atol}, rtol={rtol})"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> v^T J(inputs)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    with enable_grad():
        outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(o._data.shape), False, None, 0).requires_grad_()
            for o in outs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        outs = [o for o in _outputs(func, xs) if o.requires_grad]
        if not outs:
            return tuple()
        gs = _grad(outs, [xs[i] for i in diff_idx], list(vs[:len(outs)]), create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
