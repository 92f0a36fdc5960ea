"""Fused whole-sequence recurrent primitive: one layer, one direction of RNN, LSTM or GRU.

Running a recurrence as ~15 tensor operations per time step costs far more in per-operation
overhead than in arithmetic for the small hidden sizes recurrent nets use. ``RNNLayer`` does
the whole sequence in one graph node instead:

* the input projection of all time steps is one GEMM before the loop:
  ``xi = x W_ih^T + b_ih`` over (T * N) rows;
* the time loop runs in NumPy (one GEMM ``h W_hh^T`` per step plus in-place gate math),
  saving the gates;
* backpropagation through time is a second NumPy loop (one GEMM per step); the weight
  gradients are one GEMM each over all steps at the end:
  ``dW_ih = dXi^T x``, ``dW_hh = dGh^T h_prev``, ``db = sum of dXi (dGh) over T and N``.

Gate formulas (PyTorch's orders; ``a * b`` elementwise; ``s`` = sigmoid):

* ``tanh``/``relu``: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``
* ``lstm`` (gates i, f, g, o): ``i, f, o = s(.)``, ``g = tanh(.)``, ``c' = f * c + i * g``,
  ``h' = o * tanh(c')``, and with a projection ``h' = (o * tanh(c')) W_hr^T``
* ``gru`` (gates r, z, n): ``r, z = s(.)``, ``n = tanh(x W_in^T + b_in + r * (h W_hn^T +
  b_hn))``, ``h' = (1 - z) * n + z * h``

An optional boolean ``mask`` (T, N, 1) freezes the state of finished sequences (packed
input): where it is False, ``h' = h`` and ``c' = c``. With ``reverse`` the loop runs from
t = T-1 down to 0, so a masked reverse pass starts each sequence at its own last element.

Limits: the backward rule computes in NumPy, so there is no double backward (it raises
under ``create_graph=True``) and no forward mode (``jvp`` raises). The cells
(``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``) are composed from tensor operations and
support both.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..tensor import Tensor

GATES = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}


def _sigmoid_(a):
    """a <- sigmoid(a) in place (1 / (1 + exp(-a)); exp overflow gives the right limit 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _state_ext(T, h0, reverse):
    """(T+1, N, H) buffer holding h0 and the T states; returns (buffer, states, previous)."""
    ext = np.empty((T + 1,) + h0.shape, h0.dtype)
    if reverse:
        ext[T] = h0
        return ext, ext[:T], ext[1:]
    ext[0] = h0
    return ext, ext[1:], ext[:T]


class RNNLayer(Function):
    """(out, h_n[, c_n]) = one recurrent layer over x (T, N, I) from h0 (N, H_out) [c0 (N, H)].

    VJP: backpropagation through time (see the module docstring); returns gradients for
    x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr.   JVP: not implemented (use the cells).
    """

    _arrays = True

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, mask):
        T, N, I = x.shape
        G = GATES[mode]
        H = w_hh.shape[0] // G
        xi = np.matmul(x.reshape(T * N, I), w_ih.T).reshape(T, N, G * H)
        if b_ih is not None:
            xi += b_ih
        if b_hh is not None:
            if mode == "gru":
                xi[:, :, :2 * H] += b_hh[:2 * H]
            else:
                xi += b_hh
        w_hh_t = np.ascontiguousarray(w_hh.T)
        order = range(T - 1, -1, -1) if reverse else range(T)
        ext, hs, _ = _state_ext(T, h0, reverse)
        saved = {}
        with np.errstate(over="ignore"):
            if mode == "lstm":
                saved = RNNLayer._lstm(xi, hs, h0, c0, w_hh_t, w_hr, order, mask, reverse)
                c_n = saved["c_n"]
            elif mode == "gru":
                saved = RNNLayer._gru(xi, hs, h0, w_hh_t, b_hh, order, mask)
            else:
                saved = RNNLayer._simple(xi, hs, h0, w_hh_t, mode, order, mask)
        h_n = hs[order[-1]] if T else h0
        ctx.mode, ctx.reverse, ctx.mask = mode, reverse, mask
        keys = sorted(k for k in saved if k != "c_n")
        ctx.keys = keys
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, w_hr, b_hh, ext, *[saved[k] for k in keys])
        out = hs if T else np.empty((0,) + h0.shape, h0.dtype)
        if mode == "lstm":
            return out, h_n.copy(), c_n.copy()
        return out, h_n.copy()

    # -- forward loops -------------------------------------------------------------------
    @staticmethod
    def _simple(xi, hs, h, w_hh_t, mode, order, mask):
        new_all = np.empty_like(xi) if mask is not None else hs
        for t in order:
            a = new_all[t]
            np.matmul(h, w_hh_t, out=a)
            a += xi[t]
            if mode == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            if mask is not None:
                np.copyto(hs[t], np.where(mask[t], a, h))
            h = hs[t]
        return {"new": new_all}

    @staticmethod
    def _gru(xi, hs, h, w_hh_t, b_hh, order, mask):
        T, N, G3 = xi.shape
        H = G3 // 3
        rz = np.empty((T, N, 2 * H), xi.dtype)
        ns = np.empty((T, N, H), xi.dtype)
        ghn = np.empty((T, N, H), xi.dtype)
        for t in order:
            gh = h @ w_hh_t
            a = rz[t]
            np.add(xi[t, :, :2 * H], gh[:, :2 * H], out=a)
            _sigmoid_(a)
            g = ghn[t]
            np.copyto(g, gh[:, 2 * H:])
            if b_hh is not None:
                g += b_hh[2 * H:]
            n = ns[t]
            np.multiply(a[:, :H], g, out=n)
            n += xi[t, :, 2 * H:]
            np.tanh(n, out=n)
            new = hs[t]
            np.subtract(h, n, out=new)  # h' = n + z (h - n)
            new *= a[:, H:]
            new += n
            if mask is not None:
                np.copyto(new, h, where=~mask[t])
            h = new
        return {"rz": rz, "n": ns, "ghn": ghn}

    @staticmethod
    def _lstm(xi, hs, h, c, w_hh_t, w_hr, order, mask, reverse):
        T, N, G4 = xi.shape
        H = G4 // 4
        acts = np.empty_like(xi)
        cext, cs, _ = _state_ext(T, c, reverse)
        tcs = np.empty((T, N, H), xi.dtype)
        ms = np.empty((T, N, H), xi.dtype) if w_hr is not None else None
        for t in order:
            a = acts[t]
            np.matmul(h, w_hh_t, out=a)
            a += xi[t]
            _sigmoid_(a[:, :2 * H])
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            _sigmoid_(a[:, 3 * H:])
            cn = cs[t]
            np.multiply(a[:, H:2 * H], c, out=cn)
            cn += a[:, :H] * a[:, 2 * H:3 * H]
            tc = tcs[t]
            np.tanh(cn, out=tc)
            if ms is not None:
                m = ms[t]
                np.multiply(a[:, 3 * H:], tc, out=m)
                np.matmul(m, w_hr.T, out=hs[t])
            else:
                np.multiply(a[:, 3 * H:], tc, out=hs[t])
            if mask is not None:
                keep = ~mask[t]
                np.copyto(cn, c, where=keep)
                np.copyto(hs[t], h, where=keep)
            h, c = hs[t], cn
        out = {"acts": acts, "cext": cext, "tc": tcs, "c_n": c}
        if ms is not None:
            out["m"] = ms
        return out

    # -- backward --------------------------------------------------------------------------
    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn=None):
        if STATE.grad_enabled:
            raise NotImplementedError(
                "RNNLayer (the fused sequence op behind nn.RNN/LSTM/GRU): double backward "
                "(create_graph=True) is not supported; unroll nn.RNNCell/LSTMCell/GRUCell "
                "for higher-order derivatives")
        vals = [None if s is None else s._data for s in ctx.saved_tensors]
        x, h0, c0, w_ih, w_hh, w_hr, b_hh, ext = vals[:8]
        saved = dict(zip(ctx.keys, vals[8:]))
        grads = _bptt(ctx.mode, ctx.reverse, ctx.mask, x, h0, c0, w_ih, w_hh, w_hr, b_hh,
                      ext, saved, g_out, g_hn, g_cn, ctx.needs_input_grad)
        out = tuple(None if g is None else Tensor._make(g, False, None, 0) for g in grads)
        return out + (None, None, None)


def _arr(g, shape, dtype):
    return np.zeros(shape, dtype) if g is None else np.array(g._data, dtype, copy=True)


def _bptt(mode, reverse, mask, x, h0, c0, w_ih, w_hh, w_hr, b_hh, ext, saved, g_out, g_hn,
          g_cn, need):
    """Gradients (x, h0, c0, W_ih, W_hh, b_ih, b_hh, W_hr) of one layer by BPTT in NumPy."""
    T, N, I = x.shape
    G = GATES[mode]
    H = w_hh.shape[0] // G
    dt = x.dtype
    hprev = ext[1:] if reverse else ext[:T]
    dh = _arr(g_hn, h0.shape, dt)
    gout = None if g_out is None else g_out._data
    dxi = np.empty((T, N, G * H), dt)
    dgh = np.empty_like(dxi) if mode == "gru" else dxi
    dhnew = np.empty((T, N, h0.shape[1]), dt) if w_hr is not None else None
    order = range(T) if reverse else range(T - 1, -1, -1)
    dc = _arr(g_cn, (N, H), dt) if mode == "lstm" else None
    if mode == "lstm":
        cext = saved["cext"]
        cprev = cext[1:] if reverse else cext[:T]
    for t in order:
        if gout is not None:
            dh += gout[t]
        keep = None
        if mask is not None:
            keep = dh * ~mask[t]
            dh = dh * mask[t]
        if mode == "gru":
            r, z = saved["rz"][t, :, :H], saved["rz"][t, :, H:]
            n = saved["n"][t]
            dan = dh * (1 - z) * (1 - n * n)
            dar = dan * saved["ghn"][t] * r * (1 - r)
            daz = dh * (hprev[t] - n) * z * (1 - z)
            dxi[t, :, :H] = dar
            dxi[t, :, H:2 * H] = daz
            dxi[t, :, 2 * H:] = dan
            dgh[t, :, :2 * H] = dxi[t, :, :2 * H]
            np.multiply(dan, r, out=dgh[t, :, 2 * H:])
            dh = dh * z + dgh[t] @ w_hh
        elif mode == "lstm":
            if dhnew is not None:
                dhnew[t] = dh
                dm = dh @ w_hr
            else:
                dm = dh
            keep_c = None
            if mask is not None:
                keep_c = dc * ~mask[t]
                dc = dc * mask[t]
            a = saved["acts"][t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = saved["tc"][t]
            dc = dc + dm * o * (1 - tc * tc)
            d = dxi[t]
            np.multiply(dc * g, i * (1 - i), out=d[:, :H])
            np.multiply(dc * cprev[t], f * (1 - f), out=d[:, H:2 * H])
            np.multiply(dc * i, 1 - g * g, out=d[:, 2 * H:3 * H])
            np.multiply(dm * tc, o * (1 - o), out=d[:, 3 * H:])
            dc = dc * f
            if keep_c is not None:
                dc += keep_c
            dh = d @ w_hh
        else:
            new = saved["new"][t]
            d = dxi[t]
            if mode == "tanh":
                np.multiply(dh, 1 - new * new, out=d)
            else:
                np.multiply(dh, new > 0, out=d)
            dh = d @ w_hh
        if keep is not None:
            dh += keep
    gx = gh0 = gc0 = gw_ih = gw_hh = gb_ih = gb_hh = gw_hr = None
    if need[0]:
        gx = (dxi.reshape(T * N, G * H) @ w_ih).reshape(T, N, I)
    if need[1]:
        gh0 = dh
    if need[2] and mode == "lstm":
        gc0 = dc
    if need[3]:
        gw_ih = dxi.reshape(T * N, G * H).T @ x.reshape(T * N, I)
    if need[4]:
        gw_hh = dgh.reshape(T * N, G * H).T @ hprev.reshape(T * N, -1)
    if need[5]:
        gb_ih = dxi.sum(axis=(0, 1))
    if need[6]:
        gb_hh = dgh.sum(axis=(0, 1))
    if need[7] and w_hr is not None:
        gw_hr = dhnew.reshape(T * N, -1).T @ saved["m"].reshape(T * N, H)
    return gx, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh, gw_hr
