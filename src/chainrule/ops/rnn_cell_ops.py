"""The LSTM cell's gate arithmetic as one primitive (``nn.LSTMCell``, ``lstm_cell``).

A hand-stepped LSTM (``h, c = cell(x, (h, c))`` in a Python loop) ran the gate arithmetic
as 12 tensor operations per step (four ``chunk`` views, three sigmoids, two tanh, three
products, a sum) and as 13 backward nodes; each costs microseconds of Python for a few
dozen numbers. ``LSTMCellAct`` does it in one node:

    gates a = [a_i, a_f, a_g, a_o] (the last dim, 4H), state c (H):
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c' = f * c + i * g;   h' = o * tanh(c');   out = [h', c'] (the last dim, 2H)

VJP, for out's gradient [G_h, G_c], with t = tanh(c') (``_vjp``):
    dc' = G_c + G_h * o * (1 - t^2),   dc = dc' * f
    da = [dc' * g * i (1 - i),  dc' * c * f (1 - f),  dc' * i (1 - g^2),  G_h * t * o (1 - o)]
JVP, for tangents (a_dot, c_dot) (``_jvp``):
    c'_dot = f (1 - f) a_f_dot * c + f * c_dot + i (1 - i) a_i_dot * g + i (1 - g^2) a_g_dot
    h'_dot = o (1 - o) a_o_dot * t + o (1 - t^2) * c'_dot
Each rule is written once with ``+ - *`` only and runs on arrays (the activations kept from
the forward pass: one node, no tensor operations) when nothing records the backward pass,
or on tensors (activations recomputed from the saved a, c with tensor operations, so the
result is differentiable: double backward, forward-over-reverse) when something does.
Leading dims broadcast (a batch, vmap's batch).
"""

from __future__ import annotations

from threading import get_ident as _ident

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from .unary import _sigmoid


_WHOLE = 1 << 14  # up to this many gate values, one sigmoid over all four gates is cheaper


def _acts_arrays(a, c):
    h = a.shape[-1] // 4
    if a.size <= _WHOLE:  # one call instead of three (elementwise: the same values)
        s = _sigmoid(a)
        i, f, o = s[..., :h], s[..., h:2 * h], s[..., 3 * h:]
    else:
        i, f, o = _sigmoid(a[..., :h]), _sigmoid(a[..., h:2 * h]), _sigmoid(a[..., 3 * h:])
    g = np.tanh(a[..., 2 * h:3 * h])
    c2 = f * c + i * g
    return i, f, g, o, c2, np.tanh(c2)


def _acts_tensors(a, c):
    ai, af, ag, ao = a.chunk(4, -1)
    i, f, g, o = ai.sigmoid(), af.sigmoid(), ag.tanh(), ao.sigmoid()
    c2 = f * c + i * g
    return i, f, g, o, c2, c2.tanh()


def _vjp(acts, c, gh, gc):
    i, f, g, o, _, t = acts
    dc2 = gc + gh * o * (1 - t * t)
    return (dc2 * g * i * (1 - i), dc2 * c * f * (1 - f), dc2 * i * (1 - g * g),
            gh * t * o * (1 - o)), dc2 * f


def _jvp(acts, c, ai_dot, af_dot, ag_dot, ao_dot, c_dot):
    i, f, g, o, _, t = acts
    c2_dot = f * (1 - f) * af_dot * c + i * (1 - i) * ai_dot * g + i * (1 - g * g) * ag_dot
    if c_dot is not None:
        c2_dot = c2_dot + f * c_dot
    return o * (1 - o) * ao_dot * t + o * (1 - t * t) * c2_dot, c2_dot


def _join(parts):
    """The gate gradients side by side along the last axis (broadcast to one shape first
    when they differ: a c or h of a broadcastable shape)."""
    shape = parts[0].shape
    for p in parts:
        if p.shape != shape:
            return np.concatenate(np.broadcast_arrays(*parts), -1)
    return np.concatenate(parts, -1)


class LSTMCellAct(Function):
    """out = [o * tanh(c'), c'] with c' = f * c + i * g (see the module docstring).
    VJP and JVP: ``_vjp`` / ``_jvp``, on arrays or on tensors."""

    _arrays = True

    @staticmethod
    def forward(ctx, a, c):
        acts = _acts_arrays(a, c)
        ctx.save_for_backward(a, c)
        ctx.acts = acts
        h2, c2 = acts[3] * acts[5], acts[4]
        if h2.shape == c2.shape:
            return np.concatenate((h2, c2), -1)
        lead = np.broadcast_shapes(h2.shape, c2.shape)
        return np.concatenate([np.broadcast_to(h2, lead), np.broadcast_to(c2, lead)], -1)

    @staticmethod
    def backward(ctx, grad):
        from ..functions.shape import cat
        from ..tensor import Tensor

        a, c = ctx.saved_tensors
        if STATE.grad_enabled:  # recorded (create_graph=True): on tensors, differentiable
            gh, gc = grad.chunk(2, -1)
            da, dc = _vjp(_acts_tensors(a, c), c, gh, gc)
            return cat(list(da), -1), dc
        arrays = STATE.arrays == _ident()  # the engine's plain pass: arrays in and out
        gd = grad if arrays else grad._data
        h = gd.shape[-1] // 2
        da, dc = _vjp(ctx.acts, c if arrays else c._data, gd[..., :h], gd[..., h:])
        da, dc = _join(da), np.asarray(dc)
        if arrays:
            return da, dc
        return Tensor._make(da, False, None, 0), Tensor._make(dc, False, None, 0)

    @staticmethod
    def jvp(ctx, a_dot, c_dot):
        from ..functions.shape import cat

        a, c = ctx.saved_tensors
        dots = a_dot.chunk(4, -1) if a_dot is not None else (0.0,) * 4
        h_dot, c2_dot = _jvp(_acts_tensors(a, c), c, *dots, c_dot)
        return cat([h_dot, c2_dot], -1)


# -- GRU -------------------------------------------------------------------------------------
# gi = x W_ih^T + b_ih = [gi_r, gi_z, gi_n], gh = h W_hh^T + b_hh = [gh_r, gh_z, gh_n] (3H):
#   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
#   h' = n + z * (h - n)   (PyTorch's order of operations)
# VJP for G (``_gru_vjp``): dn = G (1 - z) (1 - n^2), dz = G (h - n) z (1 - z),
#   dr = dn * gh_n * r (1 - r):  d_gi = [dr, dz, dn], d_gh = [dr, dz, dn * r], dh = G z
# JVP (``_gru_jvp``): r' = r (1 - r) (gi_r' + gh_r'), z' = z (1 - z) (gi_z' + gh_z'),
#   n' = (1 - n^2) (gi_n' + r' gh_n + r gh_n'),  h'' = n' + z' (h - n) + z (h' - n')


def _gru_acts_arrays(gi, gh):
    k = gi.shape[-1] // 3
    r = _sigmoid(gi[..., :k] + gh[..., :k])
    z = _sigmoid(gi[..., k:2 * k] + gh[..., k:2 * k])
    hn = gh[..., 2 * k:]
    return r, z, np.tanh(gi[..., 2 * k:] + r * hn), hn


def _gru_acts_tensors(gi, gh):
    (ir, iz, i_n), (hr, hz, hn) = gi.chunk(3, -1), gh.chunk(3, -1)
    r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
    return r, z, (i_n + r * hn).tanh(), hn


def _gru_vjp(acts, h, g):
    r, z, n, hn = acts
    dn = g * (1 - z) * (1 - n * n)
    dz = g * (h - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    return (dr, dz, dn), (dr, dz, dn * r), g * z


def _gru_jvp(acts, h, gi_dot, gh_dot, h_dot):
    r, z, n, hn = acts
    r_dot = r * (1 - r) * (gi_dot[0] + gh_dot[0])
    z_dot = z * (1 - z) * (gi_dot[1] + gh_dot[1])
    n_dot = (1 - n * n) * (gi_dot[2] + r_dot * hn + r * gh_dot[2])
    out = n_dot + z_dot * (h - n) - z * n_dot
    return out if h_dot is None else out + z * h_dot


class GRUCellAct(Function):
    """h' = n + z * (h - n) from the GRU's two gate projections (see above).
    VJP and JVP: ``_gru_vjp`` / ``_gru_jvp``, on arrays or on tensors (as LSTMCellAct)."""

    _arrays = True

    @staticmethod
    def forward(ctx, gi, gh, h):
        acts = _gru_acts_arrays(gi, gh)
        ctx.save_for_backward(gi, gh, h)
        ctx.acts = acts
        n, z = acts[2], acts[1]
        return n + z * (h - n)

    @staticmethod
    def backward(ctx, grad):
        from ..functions.shape import cat
        from ..tensor import Tensor

        gi, gh, h = ctx.saved_tensors
        if STATE.grad_enabled:  # recorded (create_graph=True): on tensors, differentiable
            d_gi, d_gh, dh = _gru_vjp(_gru_acts_tensors(gi, gh), h, grad)
            return cat(list(d_gi), -1), cat(list(d_gh), -1), dh
        arrays = STATE.arrays == _ident()  # the engine's plain pass: arrays in and out
        d_gi, d_gh, dh = _gru_vjp(ctx.acts, h if arrays else h._data,
                                  grad if arrays else grad._data)
        res = (_join(d_gi), _join(d_gh), np.asarray(dh))
        if arrays:
            return res
        return tuple(Tensor._make(x, False, None, 0) for x in res)

    @staticmethod
    def jvp(ctx, gi_dot, gh_dot, h_dot):
        gi, gh, h = ctx.saved_tensors
        zero = (0.0, 0.0, 0.0)
        return _gru_jvp(_gru_acts_tensors(gi, gh), h,
                        zero if gi_dot is None else gi_dot.chunk(3, -1),
                        zero if gh_dot is None else gh_dot.chunk(3, -1), h_dot)
