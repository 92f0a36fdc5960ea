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

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from .unary import _sigmoid


def _acts_arrays(a, c):
    h = a.shape[-1] // 4
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
        gd = grad._data
        h = gd.shape[-1] // 2
        da, dc = _vjp(ctx.acts, c._data, gd[..., :h], gd[..., h:])
        da = np.concatenate(np.broadcast_arrays(*da), -1)
        return Tensor._make(da, False, None, 0), Tensor._make(np.asarray(dc), False, None, 0)

    @staticmethod
    def jvp(ctx, a_dot, c_dot):
        from ..functions.shape import cat

        a, c = ctx.saved_tensors
        dots = a_dot.chunk(4, -1) if a_dot is not None else (0.0,) * 4
        h_dot, c2_dot = _jvp(_acts_tensors(a, c), c, *dots, c_dot)
        return cat([h_dot, c2_dot], -1)
