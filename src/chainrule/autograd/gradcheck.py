"""``gradcheck`` / ``gradgradcheck``: analytic derivatives against central differences.

For each input that requires grad, the numerical Jacobian (f(x + eps e_i) - f(x - eps e_i))
/ (2 eps) is compared (|a - n| <= atol + rtol |n|) with

* the reverse-mode Jacobian (``check_backward_ad``), computed twice to check that backward
  is reentrant within ``nondet_tol``;
* the forward-mode Jacobian (``check_forward_ad``);
* with ``fast_mode``, only u^T J v for random unit u, v (one directional difference per
  input instead of one per element; PyTorch's fast gradcheck);
* ``check_batched_grad``: vector-Jacobian products of a batch of cotangents through
  ``vmap`` against one at a time; ``check_batched_forward_grad`` the same for tangents;
* ``check_undefined_grad``: backward with zero cotangents gives zero gradients;
* ``check_grad_dtypes``: each gradient has its input's dtype.

A failure raises ``GradcheckError`` naming the check, the output and input, the worst
element and both values (or returns False with ``raise_exception=False``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad


class GradcheckError(RuntimeError):
    """Analytic and numerical derivatives disagree."""


def _outputs(func, inputs):
    out = func(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _const(a):
    return Tensor._make(np.asarray(a), False, None, 0)


def _numerical(func, inputs, j, eps, direction=None):
    """Per output, the (n_out, n_in) numerical Jacobian w.r.t. input j (or, with a
    ``direction`` v, the (n_out,) directional derivative J v)."""
    x = inputs[j]
    flat = x._data.reshape(-1)
    with enable_grad():
        base = _outputs(func, inputs)
    if direction is not None:
        old = flat.copy()
        res = []
        for sign in (1, -1):
            flat[:] = old + sign * eps * direction
            with enable_grad():
                res.append(_outputs(func, inputs))
        flat[:] = old
        return [((p._data.astype(np.float64) - m._data.astype(np.float64)) / (2 * eps))
                .reshape(-1) for p, m in zip(*res)]
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


def _vjp_rows(func, inputs, j, cotangent_rows, check_dtype):
    """Per output: rows of J (w.r.t. input j) for the given cotangent rows (per output)."""
    with enable_grad():
        outs = _outputs(func, inputs)
        res = []
        for o, rows in zip(outs, cotangent_rows):
            J = np.zeros((len(rows), inputs[j].numel()))
            if o.requires_grad:
                for r, e in enumerate(rows):
                    g, = _grad(o, inputs[j], _const(e.reshape(o._data.shape).astype(
                        o._data.dtype)), retain_graph=True, allow_unused=True)
                    if g is not None:
                        if check_dtype and g._data.dtype != inputs[j]._data.dtype:
                            raise GradcheckError(
                                f"Gradient has dtype mismatch: gradient of input {j} has "
                                f"dtype {g.dtype} but the input has dtype {inputs[j].dtype}")
                        J[r] = g._data.reshape(-1)
            res.append(J)
    return res


def _jvp_cols(func, inputs, j, tangents):
    """Per output: J v (w.r.t. input j) for each tangent v (columns)."""
    from ..func import jvp

    x = inputs[j]
    cols = None
    for v in tangents:
        def f(xj):
            args = list(inputs)
            args[j] = xj
            return _outputs(func, args)

        _, tans = jvp(f, (x,), (_const(v.reshape(x._data.shape).astype(
            x._data.dtype)),))
        if cols is None:
            cols = [[] for _ in tans]
        for k, t in enumerate(tans):
            cols[k].append(t._data.astype(np.float64).reshape(-1))
    return [np.stack(c, 1) for c in cols]


def _compare(ana, num, atol, rtol, what, k, j, x, out_shape):
    bad = np.abs(ana - num) > atol + rtol * np.abs(num)
    if not bad.any():
        return None
    err = np.where(bad, np.abs(ana - num), -1.0)
    r, c = np.unravel_index(np.argmax(err), err.shape)
    where = "in the random projection u^T J v"
    if "fast" not in what:
        oi = tuple(int(i) for i in np.unravel_index(r, out_shape)) if out_shape else ()
        ii = tuple(int(i) for i in np.unravel_index(c, x._data.shape))
        where = f"worst at output element {oi}, input element {ii}"
    return (f"gradcheck: {what} Jacobian mismatch for output {k} with respect to input {j} "
            f"(shape {tuple(x.shape)}): {where}: analytical {ana[r, c]:.10g} vs numerical "
            f"{num[r, c]:.10g} ({int(bad.sum())} of {bad.size} entries differ beyond "
            f"atol={atol}, rtol={rtol})")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None) -> bool:
    """True when the derivatives of ``func`` at ``inputs`` match finite differences (see
    the module docstring for every check); otherwise raise ``GradcheckError`` (or return
    False with ``raise_exception=False``). ``masked`` (sparse inputs) is accepted and
    ignored: chainrule has no sparse layouts."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    try:
        _check_all(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
                   check_grad_dtypes, check_batched_grad, check_batched_forward_grad,
                   check_forward_ad, check_backward_ad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check_all(func, inputs, eps, atol, rtol, nondet_tol, undefined, dtypes, batched,
               batched_fwd, forward, backward, fast):
    if not (forward or backward):
        raise ValueError("gradcheck: check_forward_ad and check_backward_ad are both False; "
                         "nothing to check")
    rng = np.random.default_rng(0)
    with enable_grad():
        outs = _outputs(func, inputs)
    sizes = [o.numel() for o in outs]
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x._data.dtype != np.float64:
            warnings.warn(f"gradcheck: input {j} is {x.dtype}, not float64; the check may "
                          "fail for precision reasons alone", stacklevel=3)
        if not x._data.flags.writeable:
            x._data = x._data.copy()
        n = x.numel()
        if fast:
            v = rng.standard_normal(n)
            v /= max(np.linalg.norm(v), 1e-30)
            us = [rng.standard_normal(m) for m in sizes]
            us = [u / max(np.linalg.norm(u), 1e-30) for u in us]
            num = [np.array([[u @ d]]) for u, d in zip(us, _numerical(func, inputs, j, eps, v))]
            checks = []
            if backward:
                rows = _vjp_rows(func, inputs, j, [[u] for u in us], dtypes)
                checks.append(("backward (fast)", [np.array([[r[0] @ v]]) for r in rows]))
            if forward:
                cols = _jvp_cols(func, inputs, j, [v])
                checks.append(("forward (fast)", [np.array([[u @ c[:, 0]]])
                                                  for u, c in zip(us, cols)]))
        else:
            num = _numerical(func, inputs, j, eps)
            checks = []
            if backward:
                eyes = [list(np.eye(m)) for m in sizes]
                ana = _vjp_rows(func, inputs, j, eyes, dtypes)
                again = _vjp_rows(func, inputs, j, eyes, False)
                for k, (a, b) in enumerate(zip(ana, again)):
                    if np.abs(a - b).max(initial=0) > nondet_tol:
                        raise GradcheckError(
                            f"gradcheck: Backward is not reentrant, i.e., running backward "
                            f"with same input and grad_output multiple times gives different "
                            f"values, although analytical gradient matches numerical gradient"
                            f" (output {k}, input {j}; tolerance nondet_tol={nondet_tol})")
                checks.append(("backward", ana))
            if forward:
                checks.append(("forward", _jvp_cols(func, inputs, j, list(np.eye(n)))))
        for what, ana in checks:
            for k, (a, nm) in enumerate(zip(ana, num)):
                msg = _compare(a, nm, atol, rtol, what, k, j, x, tuple(outs[k].shape))
                if msg:
                    raise GradcheckError(msg)
        if backward and undefined:
            _check_undefined(func, inputs, j)
        if batched and backward:
            _check_batched(func, inputs, j, rng, atol, rtol)
        if batched_fwd and forward:
            _check_batched_forward(func, inputs, j, rng, atol, rtol)


def _check_undefined(func, inputs, j):
    with enable_grad():
        outs = [o for o in _outputs(func, inputs) if o.requires_grad]
        if not outs:
            return
        gs = _grad(outs, inputs[j], [_const(np.zeros(o._data.shape, o._data.dtype))
                                     for o in outs], allow_unused=True)
    if gs[0] is not None and np.any(gs[0]._data != 0):
        raise GradcheckError(f"gradcheck: backward with zero (undefined) grad_outputs gave a "
                             f"nonzero gradient for input {j}; expected zeros")


def _check_batched(func, inputs, j, rng, atol, rtol):
    from ..func import vjp, vmap

    def f(xj):
        args = list(inputs)
        args[j] = xj
        return _outputs(func, args)

    outs, fn = vjp(f, inputs[j].detach())
    cts = tuple(_const(rng.standard_normal((3,) + tuple(o.shape)).astype(o._data.dtype))
                for o in outs)
    batched = vmap(lambda *c: fn(c)[0])(*cts)
    for b in range(3):
        one = fn(tuple(c[b] for c in cts))[0]
        if not np.allclose(batched[b]._data, one._data, atol=atol, rtol=rtol):
            raise GradcheckError(f"gradcheck: batched grad computation for input {j} (vmap "
                                 "over grad_outputs) differs from one at a time")


def _check_batched_forward(func, inputs, j, rng, atol, rtol):
    from ..func import jvp, vmap

    x = inputs[j].detach()

    def f(xj):
        args = list(inputs)
        args[j] = xj
        return _outputs(func, args)

    ts = _const(rng.standard_normal((3,) + tuple(x.shape)).astype(x._data.dtype))
    batched = vmap(lambda t: jvp(f, (x,), (t,))[1])(ts)
    for b in range(3):
        one = jvp(f, (x,), (ts[b],))[1]
        for k, (bt, ot) in enumerate(zip(batched, one)):
            if not np.allclose(bt[b]._data, ot._data, atol=atol, rtol=rtol):
                raise GradcheckError(f"gradcheck: batched forward grad for input {j}, output "
                                     f"{k} (vmap over tangents) differs from one at a time")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> v^T J(inputs), by reverse
    over reverse (``check_rev_over_rev``) and/or forward over reverse
    (``check_fwd_over_rev``)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    with enable_grad():
        outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_const(rng.standard_normal(o._data.shape).astype(o._data.dtype))
                             .requires_grad_() for o in outs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else \
            tuple(grad_outputs)
    if gen_non_contig_grad_outputs:
        grad_outputs = tuple(g.detach().t().contiguous().t().requires_grad_()
                             if g.ndim == 2 else g for g in grad_outputs)
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

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps,
                     atol=atol, rtol=rtol, raise_exception=raise_exception,
                     nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad,
                     check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode)
