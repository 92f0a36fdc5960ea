"""The fused recurrent layer (``RNNLayer``: one direction of one layer of nn.RNN/LSTM/GRU)
as ONNX's RNN, LSTM or GRU operator.

Layouts: chainrule keeps PyTorch's gate order, ONNX its own: GRU (r, z, n) -> (z, r, h)
with ``linear_before_reset=1`` (PyTorch applies the reset gate after the recurrent
product), LSTM (i, f, g, o) -> (i, o, f, c). ONNX wants W (1, G*H, I), R (1, G*H, H),
B (1, 2*G*H) = [W_b, R_b], initial states (1, N, H); the outputs Y (T, 1, N, H) and
Y_h (1, N, H) are squeezed back. Zero initial states are omitted (ONNX's default), so a
dynamic batch size needs no constant of the batch's size.
"""

from __future__ import annotations

import numpy as np

_ORDER = {"gru": (1, 0, 2), "lstm": (0, 3, 1, 2), "tanh": (0,), "relu": (0,)}
_OP = {"gru": "GRU", "lstm": "LSTM", "tanh": "RNN", "relu": "RNN"}


def _blocks(b, v, order, hint):
    """Rows of ``v`` (G*H, ...) regrouped in ONNX's gate order, with a leading axis of 1."""
    if v in b.known:
        arr = b.known[v]
        parts = np.split(arr, len(order), axis=0)
        return b.const(np.concatenate([parts[i] for i in order], axis=0)[None], hint)
    parts = b.op("Split", [b.inp(v)], n_out=len(order), axis=0,
                 num_outputs=len(order) if b.opset >= 18 else None)
    parts = parts if isinstance(parts, list) else [parts]
    return b.op("Unsqueeze", [b.op("Concat", [parts[i] for i in order], axis=0), b.ints([0])])


def _state(b, v):
    if v is None or (v in b.known and not b.known[v].any()):
        return ""  # zeros: ONNX's default initial state
    return b.op("Unsqueeze", [b.inp(v), b.ints([0])])


def rnn_layer(b, n):
    from .errors import UnsupportedOperatorError

    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, mask = n.args
    if w_hr is not None:
        raise UnsupportedOperatorError("RNNLayer with proj_size (LSTM projections have no ONNX operator)")
    if mask is not None:
        raise UnsupportedOperatorError("RNNLayer over packed sequences (export padded batches instead)")
    order = _ORDER[mode]
    hidden = w_hh.shape[1]
    g = len(order)
    W = _blocks(b, w_ih, order, "W")
    R = _blocks(b, w_hh, order, "R")
    if b_ih is None and b_hh is None:
        B = ""
    else:
        biases = []
        for bias in (b_ih, b_hh):
            if bias is None:
                biases.append(b.const(np.zeros((1, g * hidden), w_ih.dtype)))
            else:
                biases.append(_blocks(b, bias, order, "B"))
        B = b.op("Concat", biases, axis=1)
    attrs = {"hidden_size": int(hidden), "direction": "reverse" if reverse else "forward"}
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    if mode == "relu":
        attrs["activations"] = ["Relu"]
    ins = [b.inp(x), W, R, B, "", _state(b, h0)]
    if mode == "lstm":
        ins.append(_state(b, c0))
    while ins and ins[-1] == "":
        ins.pop()
    outs = b.op(_OP[mode], ins, n_out=3 if mode == "lstm" else 2, **attrs)
    y = b.op("Squeeze", [outs[0], b.ints([1])])
    res = [y, b.op("Squeeze", [outs[1], b.ints([0])])]
    if mode == "lstm":
        res.append(b.op("Squeeze", [outs[2], b.ints([0])]))
    return res
