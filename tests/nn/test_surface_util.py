"""Helpers of the torch.nn surface oracle tests (tests/nn/test_surface_*.py): run a chainrule
function or module and its PyTorch twin on the same float64 inputs (and, for modules, the same
weights), then compare outputs, input gradients and parameter gradients of a random
projection of the output."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def to_cr(a, requires_grad=False):
    a = np.asarray(a)
    return cr.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")


def to_torch(torch, a, requires_grad=False):
    a = np.asarray(a)
    return torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def close(c, t, tol=1e-10):
    c = c.detach().numpy() if hasattr(c, "detach") else np.asarray(c)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert c.shape == t.shape, (c.shape, t.shape)
    np.testing.assert_allclose(c, t, rtol=tol, atol=tol)


def compare(torch, cr_fn, torch_fn, arrays, grad_of=None, tol=1e-10, seed=1, cr_params=(),
            torch_params=(), outputs=None):
    """Outputs of ``cr_fn(*xs)`` and ``torch_fn(*ts)`` equal, and the gradients of
    ``sum(out_0 * r)`` w.r.t. the float inputs in ``grad_of`` (default: all float inputs) and
    the paired parameters ``cr_params``/``torch_params`` equal. ``outputs`` limits which
    outputs are compared by value (default all). Returns the two outputs."""
    grad_of = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"] \
        if grad_of is None else list(grad_of)
    xs = [to_cr(a, i in grad_of) for i, a in enumerate(arrays)]
    ts = [to_torch(torch, a, i in grad_of) for i, a in enumerate(arrays)]
    out, ref = cr_fn(*xs), torch_fn(*ts)
    outs, refs = _flat(out), _flat(ref)
    assert len(outs) == len(refs)
    for k, (o, r) in enumerate(zip(outs, refs)):
        if outputs is None or k in outputs:
            close(o, r, tol)
    if not refs[0].requires_grad:
        return out, ref
    proj = np.random.default_rng(seed).standard_normal(tuple(refs[0].shape))
    dt = outs[0].detach().numpy().dtype
    (outs[0] * cr.tensor(proj.astype(dt))).sum().backward()
    (refs[0] * torch.tensor(proj.astype(dt))).sum().backward()
    for i in grad_of:
        assert xs[i].grad is not None, f"input {i} got no gradient"
        close(xs[i].grad, ts[i].grad, tol)
    for pc, pt in zip(cr_params, torch_params):
        if pt.grad is None:
            assert pc.grad is None or not np.any(pc.grad.numpy())
        else:
            close(pc.grad, pt.grad, tol)
    return out, ref


def copy_weights(cr_mod, torch_mod):
    """Load the torch module's state into the chainrule module (float64 both)."""
    state = {k: cr.tensor(v.detach().numpy().copy()) for k, v in torch_mod.state_dict().items()}
    cr_mod.load_state_dict(state)


def compare_module(torch, cr_mod, torch_mod, arrays, tol=1e-10, grad_of=None, **kw):
    """Copy torch_mod's weights into cr_mod, then ``compare`` their forward passes including
    every parameter's gradient (names must match)."""
    torch_mod = torch_mod.double()
    cr_mod = cr_mod.double()
    copy_weights(cr_mod, torch_mod)
    cp = dict(cr_mod.named_parameters())
    tp = dict(torch_mod.named_parameters())
    assert sorted(cp) == sorted(tp), (sorted(cp), sorted(tp))
    names = sorted(tp)
    for name in names:
        assert tuple(cp[name].shape) == tuple(tp[name].shape), name
    return compare(torch, cr_mod, torch_mod, arrays, grad_of=grad_of, tol=tol,
                   cr_params=[cp[n] for n in names], torch_params=[tp[n] for n in names], **kw)


def test_compare_detects_a_wrong_gradient(torch):
    x = np.linspace(-1, 1, 5)
    with pytest.raises(AssertionError):  # same values, different gradients
        compare(torch, lambda a: a * 2 + (a * 0).detach(), lambda a: a * 2 + a * 1e-30 * 0 + (a - a.detach()), [x])
    compare(torch, lambda a: a.tanh(), lambda a: a.tanh(), [x])
