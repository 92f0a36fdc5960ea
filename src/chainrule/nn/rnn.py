"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` (whole sequences, PyTorch's parameters and
shapes) and the cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Each layer and direction runs as one fused primitive (``ops.rnn_ops.RNNLayer``): the input
projection of all steps is one GEMM, the time loop and backpropagation through time run in
NumPy. The layers therefore support first-order gradients only (no double backward, no
forward mode); unroll the cells, which are composed from tensor operations, for those.

``PackedSequence`` input is supported (any ``enforce_sorted``): it is unpacked to a padded
batch and run with a per-step mask that freezes finished sequences, so the final states are
each sequence's own last state (reverse direction: each starts at its own last element).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..creation import empty
from ..ops.rnn_ops import RNNLayer
from ..functions.shape import cat, stack
from ..tensor import Tensor
from . import init
from ._functional_layers import dropout as _dropout
from ._rnn_cells import (  # noqa: F401
    GRUCell, LSTMCell, RNNCell, RNNCellBase, gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell,
)
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, packed_to_padded

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_MODES = {"RNN_TANH": "tanh", "RNN_RELU": "relu", "LSTM": "lstm", "GRU": "gru"}


def _positive_int(v, name, owner, allow_zero=False):
    if not isinstance(v, int) or isinstance(v, bool) or v < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}: {name} must be a {kind} integer, got {v!r}")


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (parameters, shapes, layers and directions)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        _positive_int(input_size, "input_size", owner)
        _positive_int(hidden_size, "hidden_size", owner)
        _positive_int(num_layers, "num_layers", owner)
        _positive_int(proj_size, "proj_size", owner, allow_zero=True)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{owner}: dropout must be a number in [0, 1], got {dropout!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{owner}: proj_size is only supported by LSTM, got "
                             f"proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{owner}: proj_size ({proj_size}) must be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
        D = 2 if bidirectional else 1
        real_h = proj_size or hidden_size
        dt = dtype or _dtype.get_default_dtype()
        self._flat_weights_names = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else real_h * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates * hidden_size, in_size)),
                          ("weight_hh", (gates * hidden_size, real_h))]
                if bias:
                    shapes += [("bias_ih", (gates * hidden_size,)),
                               ("bias_hh", (gates * hidden_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(empty(*shape, dtype=dt)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self) -> list:
        D = 2 if self.bidirectional else 1
        names = self._flat_weights_names
        per = len(names) // (self.num_layers * D)
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _layer_params(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx), get("weight_hr" + sfx))

    def flatten_parameters(self) -> None:
        """PyTorch compacts the weights into one cuDNN buffer; on the CPU there is nothing
        to do (as in PyTorch without cuDNN)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s

    def _check_state(self, s, want, what):
        if tuple(s.shape) != want:
            raise RuntimeError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): "
                               f"expected {what} of shape {want}, got {tuple(s.shape)}")

    def forward(self, input, hx=None):  # noqa: A002
        owner = f"{type(self).__name__}({self.input_size}, {self.hidden_size})"
        packed = isinstance(input, PackedSequence)
        mask = None
        if packed:
            x, lens = packed_to_padded(input)
            T = x.shape[0]
            mask = (np.arange(T)[:, None] < lens[None, :])[:, :, None]
            batched = True
        else:
            if not isinstance(input, Tensor) or input.dim() not in (2, 3):
                raise ValueError(f"{owner}: expected input of shape (L, N, H_in), (N, L, H_in) "
                                 f"with batch_first, or unbatched (L, H_in); got "
                                 f"{getattr(input, 'shape', type(input).__name__)}")
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{owner}: input has {x.shape[-1]} features in its last "
                             f"dimension, expected input_size={self.input_size}")
        w_dt = self.weight_ih_l0._data.dtype
        if x._data.dtype != w_dt:
            raise RuntimeError(f"{owner}: input dtype {x.dtype} does not match the parameters' "
                               f"dtype ({w_dt}); convert one with .to(...) or .double()")
        if x.shape[0] == 0:
            raise ValueError(f"{owner}: got an empty sequence (length 0)")
        N = x.shape[1]
        D = 2 if self.bidirectional else 1
        LD = self.num_layers * D
        real_h = self.proj_size or self.hidden_size
        lstm = self.mode == "LSTM"
        h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
        states = []
        for s, size, what in ((h0, real_h, "h0"), (c0, self.hidden_size, "c0")):
            if s is None:
                states.append(None)
                continue
            want = (LD, N, size) if batched else (LD, size)
            self._check_state(s, want, what)
            s = s if batched else s.unsqueeze(1)
            if packed and input.sorted_indices is not None:
                s = s[:, input.sorted_indices._data]
            states.append(s)
        h0, c0 = states
        zeros_h = zeros_c = None
        if h0 is None:
            zeros_h = Tensor._make(np.zeros((N, real_h), x._data.dtype), False, None, 0)
        if lstm and c0 is None:
            zeros_c = Tensor._make(np.zeros((N, self.hidden_size), x._data.dtype), False, None, 0)
        mode = _MODES[self.mode]
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                h = zeros_h if h0 is None else h0[k]
                c = None if not lstm else (zeros_c if c0 is None else c0[k])
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, d)
                res = RNNLayer.apply(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, mode, d == 1, mask)
                outs.append(res[0])
                hs.append(res[1])
                if lstm:
                    cs.append(res[2])
            x = outs[0] if D == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        h_n = stack(hs, 0)
        c_n = stack(cs, 0) if lstm else None
        if packed:
            T, B = x.shape[0], x.shape[1]
            bs = input.batch_sizes._data
            flat = np.concatenate([t * B + np.arange(n) for t, n in enumerate(bs)])
            out = PackedSequence(x.reshape(T * B, x.shape[-1])[flat], input.batch_sizes,
                                 input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                un = input.unsorted_indices._data
                h_n = h_n[:, un]
                c_n = c_n[:, un] if lstm else None
        else:
            out = x
            if not batched:
                out, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
            elif self.batch_first:
                out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args:
        input_size, hidden_size: H_in and H.  num_layers: stacked layers (default 1).
        nonlinearity: "tanh" (default) or "relu".  bias: use biases (default True).
        batch_first: input/output as (N, L, *) instead of (L, N, *).
        dropout: dropout on the outputs of every layer but the last (training only).
        bidirectional: also run each layer backwards in time and concatenate.

    Shape: input (L, N, H_in) / (N, L, H_in) / unbatched (L, H_in) or a PackedSequence;
    h_0 (D * num_layers, N, H) (zeros if omitted); output (L, N, D * H);
    h_n (D * num_layers, N, H), D = 2 if bidirectional else 1.
    Parameters weight_ih_l{k}[_reverse], weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}.

    Example::

        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> out, h_n = rnn(cr.randn(5, 3, 10))
        >>> out.shape, h_n.shape
        (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory over a sequence; per step (gates i, f, g, o):
    i, f, o = sigmoid(.), g = tanh(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh,
    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (then h_t W_hr^T if proj_size > 0).

    Args: as ``RNN`` (no nonlinearity), plus proj_size: project h_t to this size (0: off).

    Shape: input as ``RNN``; hx = (h_0 (D * num_layers, N, H_out), c_0 (D * num_layers, N,
    H)) (zeros if omitted), H_out = proj_size or hidden_size; output (L, N, D * H_out);
    (h_n, c_n) shaped like (h_0, c_0). Extra parameter weight_hr_l{k} (proj_size, H).

    Example::

        >>> out, (h, c) = nn.LSTM(4, 8, batch_first=True)(cr.randn(2, 5, 4))
        >>> out.shape
        chainrule.Size([2, 5, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit over a sequence; per step (gates r, z, n):
    r, z = sigmoid(.) of x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*,
    n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}.

    Args and shapes: as ``RNN`` (no nonlinearity); weight_ih_l{k} is (3H, H_in).

    Example::

        >>> gru = nn.GRU(1, 64, batch_first=True)
        >>> out, h_n = gru(cr.randn(8, 40, 1))
        >>> out[:, -1].shape
        chainrule.Size([8, 64])
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)
