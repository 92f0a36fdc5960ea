"""Recurrent cells (one time step): ``RNNCell``, ``LSTMCell``, ``GRUCell`` and their
functional forms ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``, composed
from tensor operations (the LSTM's and GRU's gate arithmetic are one primitive each,
``LSTMCellAct`` and ``GRUCellAct``, whose rules are differentiable too). They support double backward and forward mode (the
whole-sequence layers in ``nn.rnn`` use a first-order fused primitive instead).
"""

from __future__ import annotations

import math

from .. import _dtype
from ..creation import empty, zeros
from ..ops.rnn_cell_ops import GRUCellAct, LSTMCellAct
from ..ops.shape import Getitem
from ..tensor import Tensor
from . import init
from ._functional_layers import linear
from .module import Module
from .parameter import Parameter


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    return linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _gates(input, hx, w_ih, w_hh, b_ih, b_hh).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _gates(input, hx, w_ih, w_hh, b_ih, b_hh).relu()


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):  # noqa: A002
    """(h', c') of one LSTM step; gates (i, f, g, o) = chunks of x W_ih^T + b_ih + h W_hh^T + b_hh.

    i, f, o = sigmoid(.), g = tanh(.), c' = f * c + i * g, h' = o * tanh(c')
    (times W_hr^T when a projection weight is given).
    """
    h, c = hx
    out = LSTMCellAct.apply(_gates(input, h, w_ih, w_hh, b_ih, b_hh), c)
    # out.chunk(2, -1), without chunk's argument handling (the same Getitem nodes)
    n = out._data.shape[-1] // 2
    lead = (slice(None),) * (out._data.ndim - 1)
    h2, c2 = Getitem.apply(out, lead + (slice(0, n),)), Getitem.apply(out, lead + (slice(n, 2 * n),))
    if w_hr is not None:
        h2 = linear(h2, w_hr)
    return h2, c2


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """h' of one GRU step, gates (r, z, n):

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.
    """
    return GRUCellAct.apply(linear(input, w_ih, b_ih), linear(hx, w_hh, b_hh), hx)


class RNNCellBase(Module):
    """Holds weight_ih (G*H, I), weight_hh (G*H, H) and biases, all ~ U(-1/sqrt(H), 1/sqrt(H))."""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = dtype or _dtype.get_default_dtype()
        g = self._gates * hidden_size
        self.weight_ih = Parameter(empty(g, input_size, dtype=dt))
        self.weight_hh = Parameter(empty(g, hidden_size, dtype=dt))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dt))
            self.bias_hh = Parameter(empty(g, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx):  # noqa: A002
        """Check shapes; add a batch dim to unbatched input; default state zeros."""
        shape = input._data.shape
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}({self.input_size}, {self.hidden_size}): expected "
                f"input of shape (N, {self.input_size}) or ({self.input_size},), got "
                f"{tuple(shape)}")
        batched = len(shape) == 2
        if not batched:
            input = input.unsqueeze(0)
        n = input._data.shape[0]
        states = hx if isinstance(hx, tuple) else (hx,)
        out = []
        for s in states:
            if s is None:
                out.append(zeros(n, self.hidden_size, dtype=input.dtype))
                continue
            want = (n, self.hidden_size) if batched else (self.hidden_size,)
            if s._data.shape != want:
                raise ValueError(
                    f"{type(self).__name__}({self.input_size}, {self.hidden_size}): hidden "
                    f"state of shape {tuple(s._data.shape)}, expected {want}")
            out.append(s if batched else s.unsqueeze(0))
        return input, out, batched


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.

    Args:
        input_size, hidden_size: sizes I and H.  bias: use b_ih and b_hh (default True).
        nonlinearity: "tanh" (default) or "relu".

    Shape: input (N, I) or (I,), hx (N, H) or (H,) (zeros if omitted), output like hx.

    Example::

        >>> cell = nn.RNNCell(3, 5)
        >>> cell(cr.randn(2, 3)).shape
        chainrule.Size([2, 5])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx)
        fn = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = fn(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') with gates (i, f, g, o): i, f, o = sigmoid(.), g = tanh(.) of
    x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f * c + i * g,  h' = o * tanh(c').

    Shape: input (N, I) or (I,); hx = (h, c) each (N, H) or (H,) (zeros if omitted);
    output (h', c') of the same shapes. Parameters: weight_ih (4H, I), weight_hh (4H, H).

    Example::

        >>> h, c = nn.LSTMCell(3, 5)(cr.randn(2, 3))
    """

    _gates = 4

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        x, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h2, c2 = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            return h2.squeeze(0), c2.squeeze(0)
        return h2, c2


class GRUCell(RNNCellBase):
    """h' = (1 - z) * n + z * h with r, z = sigmoid(.) and
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (gate order r, z, n).

    Shape: input (N, I) or (I,), hx (N, H) or (H,) (zeros if omitted), output like hx.
    Parameters: weight_ih (3H, I), weight_hh (3H, H).

    Example::

        >>> nn.GRUCell(3, 5)(cr.randn(2, 3)).shape
        chainrule.Size([2, 5])
    """

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx)
        out = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)
