"""The course's remedies for vanishing and exploding gradients in recurrent nets (no PyTorch
counterpart): leaky units (``LeakyRNN``), skip connections through time (``SkipRNN``) and
echo-state networks (``EchoStateNetwork``, a fixed random reservoir with a learned readout).

All three are composed from tensor operations (one GEMM for the input projection of all
steps, then a few operations per step), so any derivative order works. Their interface
follows ``nn.RNN``: input (L, N, H_in) (or (N, L, H_in) with ``batch_first``, or unbatched
(L, H_in)), optional h_0 of shape (1, N, H) (unbatched (1, H)), returning (output, h_n).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ..creation import empty
from ..random import _gen
from ..functions.shape import stack
from ..tensor import Tensor
from . import init
from ._functional_layers import linear
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["LeakyRNN", "SkipRNN", "EchoStateNetwork"]


def _check_pos(v, name, owner):
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")


def _to_time_major(module, input, hx, size):  # noqa: A002
    """(x (L, N, I), h0 (N, H) or None, batched) after checking shapes."""
    owner = f"{type(module).__name__}({module.input_size}, {size})"
    if not isinstance(input, Tensor) or input.dim() not in (2, 3) \
            or input.shape[-1] != module.input_size:
        raise ValueError(f"{owner}: expected input (L, N, {module.input_size}) (or batch_first, "
                         f"or unbatched (L, {module.input_size})), got "
                         f"{tuple(getattr(input, 'shape', ()))}")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(1)
    if batched and module.batch_first:
        x = x.transpose(0, 1)
    h0 = None
    if hx is not None:
        want = (1, x.shape[1], size) if batched else (1, size)
        if tuple(hx.shape) != want:
            raise ValueError(f"{owner}: h_0 of shape {tuple(hx.shape)}, expected {want}")
        h0 = hx[0] if batched else hx
    return x, h0, batched


def _from_time_major(module, outs, h, batched):
    out = stack(outs)
    if not batched:
        return out.squeeze(1), h.unsqueeze(0).squeeze(1)
    if module.batch_first:
        out = out.transpose(0, 1)
    return out, h.unsqueeze(0)


class _SimpleRecurrent(Module):
    def __init__(self, input_size, hidden_size, bias, batch_first, dtype):
        super().__init__()
        _check_pos(input_size, "input_size", type(self).__name__)
        _check_pos(hidden_size, "hidden_size", type(self).__name__)
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, batch_first
        dt = dtype or _dtype.get_default_dtype()
        self.weight_ih = Parameter(empty(hidden_size, input_size, dtype=dt))
        self.weight_hh = Parameter(empty(hidden_size, hidden_size, dtype=dt))
        self.bias = Parameter(empty(hidden_size, dtype=dt)) if bias else None
        if not bias:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as nn.RNN."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _zeros(self, x):
        return Tensor._make(np.zeros((x.shape[1], self.hidden_size), x._data.dtype), False,
                            None, 0)


class LeakyRNN(_SimpleRecurrent):
    """Leaky-unit RNN: h_t = alpha h_{t-1} + (1 - alpha) tanh(W h_{t-1} + U x_t + b).

    With alpha close to 1 the state changes slowly, and d h_t / d h_{t-1} = alpha I +
    (1 - alpha) diag(1 - tanh^2) W stays near the identity, so gradients survive many steps.

    Args:
        input_size, hidden_size: H_in and H.
        alpha: leak in [0, 1] (0 gives a plain tanh RNN; 1 freezes the state).
        bias: learn b (default True).  batch_first: (N, L, *) layout.

    Parameters: weight_ih = U (H, H_in), weight_hh = W (H, H), bias b (H,).

    Shape: input (L, N, H_in); h_0 (1, N, H); output (L, N, H); h_n (1, N, H).

    Example::

        >>> out, h = nn.LeakyRNN(3, 8, alpha=0.9)(cr.randn(20, 4, 3))
    """

    def __init__(self, input_size: int, hidden_size: int, alpha: float = 0.9,
                 bias: bool = True, batch_first: bool = False, dtype=None):
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(f"LeakyRNN: alpha must be a number in [0, 1], got {alpha!r}")
        super().__init__(input_size, hidden_size, bias, batch_first, dtype)
        self.alpha = float(alpha)
        self.reset_parameters()

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        x, h, batched = _to_time_major(self, input, hx, self.hidden_size)
        h = self._zeros(x) if h is None else h
        xi = linear(x, self.weight_ih, self.bias)
        a = self.alpha
        outs = []
        for t in range(x.shape[0]):
            h = h * a + (xi[t] + linear(h, self.weight_hh)).tanh() * (1 - a)
            outs.append(h)
        return _from_time_major(self, outs, h, batched)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, alpha={self.alpha}"


class SkipRNN(_SimpleRecurrent):
    """RNN with a skip connection through time:
    h_t = tanh(U x_t + W h_{t-1} + W_skip h_{t-d} + b), with h_{t-d} = h_0 for t <= d.

    The path h_{t-d} -> h_t shortens the chain of Jacobians between distant steps by a
    factor d, so gradients from far back decay d times fewer times.

    Args:
        input_size, hidden_size: H_in and H.  skip: the delay d >= 1.
        bias: learn b (default True).  batch_first: (N, L, *) layout.

    Parameters: weight_ih (H, H_in), weight_hh (H, H), weight_skip (H, H), bias (H,).

    Shape: input (L, N, H_in); h_0 (1, N, H); output (L, N, H); h_n (1, N, H).

    Example::

        >>> out, h = nn.SkipRNN(3, 8, skip=4)(cr.randn(20, 4, 3))
    """

    def __init__(self, input_size: int, hidden_size: int, skip: int = 2, bias: bool = True,
                 batch_first: bool = False, dtype=None):
        _check_pos(skip, "skip", "SkipRNN")
        super().__init__(input_size, hidden_size, bias, batch_first, dtype)
        self.skip = skip
        self.weight_skip = Parameter(empty(hidden_size, hidden_size,
                                           dtype=self.weight_hh.dtype))
        self.reset_parameters()

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        x, h0, batched = _to_time_major(self, input, hx, self.hidden_size)
        h0 = self._zeros(x) if h0 is None else h0
        xi = linear(x, self.weight_ih, self.bias)
        hist = [h0]  # hist[k] = h_k, h_0 the initial state
        for t in range(1, x.shape[0] + 1):
            back = hist[max(t - self.skip, 0)]
            pre = xi[t - 1] + linear(hist[-1], self.weight_hh) + linear(back, self.weight_skip)
            hist.append(pre.tanh())
        return _from_time_major(self, hist[1:], hist[-1], batched)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, skip={self.skip}"


class EchoStateNetwork(Module):
    """Echo-state network: a fixed random reservoir and a learned linear readout.

    s_t = (1 - leak) s_{t-1} + leak tanh(W_in u_t + W s_{t-1} + b),   y_t = W_out s_t + b_out.

    W is random (normal), a fraction ``sparsity`` of its entries set to zero, then rescaled
    so its spectral radius (largest |eigenvalue|) is ``spectral_radius`` (< 1 keeps the echo
    state property: the state forgets its start). W_in ~ U(-input_scaling, input_scaling),
    b ~ U(-bias_scaling, bias_scaling). W_in, W and b are buffers (saved in the state_dict,
    never trained); only ``readout`` (an ``nn.Linear``) is learned — by gradient descent, or
    in closed form by ridge regression with ``fit_readout``.

    Args:
        input_size, reservoir_size, output_size: H_in, R and H_out.
        spectral_radius: target largest |eigenvalue| of W (default 0.9).
        sparsity: fraction of zero entries of W, in [0, 1) (default 0: dense).
        input_scaling: range of W_in (default 1).  bias_scaling: range of b (default 0).
        leak: leaking rate in (0, 1] (default 1: no leak).
        batch_first: (N, L, *) layout.  generator: a ``chainrule.Generator`` (default: global).

    Shape: input (L, N, H_in) (or batch_first / unbatched); output (L, N, H_out);
    reservoir states (L, N, R).

    Example::

        >>> esn = nn.EchoStateNetwork(1, 200, 1, spectral_radius=0.9)
        >>> esn.fit_readout(u, y, alpha=1e-6, washout=100)   # u, y: (L, 1)
        >>> pred, _ = esn(u)
    """

    def __init__(self, input_size: int, reservoir_size: int, output_size: int,
                 spectral_radius: float = 0.9, sparsity: float = 0.0,
                 input_scaling: float = 1.0, bias_scaling: float = 0.0, leak: float = 1.0,
                 batch_first: bool = False, generator=None, dtype=None):
        super().__init__()
        for name, v in (("input_size", input_size), ("reservoir_size", reservoir_size),
                        ("output_size", output_size)):
            _check_pos(v, name, "EchoStateNetwork")
        if not spectral_radius > 0:
            raise ValueError(f"EchoStateNetwork: spectral_radius must be > 0, got "
                             f"{spectral_radius!r}")
        if not 0 <= sparsity < 1:
            raise ValueError(f"EchoStateNetwork: sparsity must be in [0, 1), got {sparsity!r}")
        if not 0 < leak <= 1:
            raise ValueError(f"EchoStateNetwork: leak must be in (0, 1], got {leak!r}")
        self.input_size, self.hidden_size, self.batch_first = input_size, reservoir_size, \
            batch_first
        self.spectral_radius, self.sparsity, self.leak = spectral_radius, sparsity, float(leak)
        dt = (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).np
        g = _gen(generator)
        R = reservoir_size
        w = g.standard_normal((R, R))
        if sparsity > 0:
            w *= g.random((R, R)) >= sparsity
        radius = np.abs(np.linalg.eigvals(w)).max()
        if radius == 0:
            raise ValueError(f"EchoStateNetwork: the sparse reservoir (sparsity={sparsity}, "
                             f"size {R}) has spectral radius 0; lower sparsity")
        w *= spectral_radius / radius
        w_in = (2 * g.random((R, input_size)) - 1) * input_scaling
        b = (2 * g.random(R) - 1) * bias_scaling
        for name, a in (("weight_in", w_in), ("weight_res", w), ("bias_res", b)):
            self.register_buffer(name, Tensor._make(a.astype(dt), False, None, 0))
        self.readout = Linear(R, output_size, dtype=_dtype.from_np(dt))

    def states(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        """(reservoir states (L, N, R) in the input's layout, final state (1, N, R))."""
        x, s, batched = _to_time_major(self, input, hx, self.hidden_size)
        if s is None:
            s = Tensor._make(np.zeros((x.shape[1], self.hidden_size), x._data.dtype), False,
                             None, 0)
        xi = linear(x, self.weight_in, self.bias_res)
        leak = self.leak
        outs = []
        for t in range(x.shape[0]):
            new = (xi[t] + linear(s, self.weight_res)).tanh()
            s = new if leak == 1 else s * (1 - leak) + new * leak
            outs.append(s)
        return _from_time_major(self, outs, s, batched)

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        """(readout of every state (L, N, H_out), final reservoir state (1, N, R))."""
        states, h = self.states(input, hx)
        return self.readout(states), h

    def fit_readout(self, input: Tensor, target: Tensor, alpha: float = 1e-6,  # noqa: A002
                    washout: int = 0) -> EchoStateNetwork:
        """Set the readout by ridge regression on the reservoir states after ``washout``
        steps: [W_out b_out] = argmin ||S W^T + b - Y||^2 + alpha ||W||^2, i.e.
        W^T = (S_c^T S_c + alpha I)^-1 S_c^T Y_c on centred S, Y (b is not penalised).

        Shape: input as ``forward``; target (L, N, H_out) in the same layout (or (L, H_out)).
        """
        if alpha < 0 or not isinstance(washout, int) or washout < 0:
            raise ValueError(f"EchoStateNetwork.fit_readout: need alpha >= 0 and an integer "
                             f"washout >= 0, got alpha={alpha!r}, washout={washout!r}")
        with no_grad():
            states, _ = self.states(input)
        S, Y = states._data, np.asarray(target._data if isinstance(target, Tensor) else target)
        if Y.shape[:-1] != S.shape[:-1]:
            raise ValueError(f"EchoStateNetwork.fit_readout: target of shape {Y.shape} does "
                             f"not match the states' leading shape {S.shape[:-1]}")
        tdim = 1 if (self.batch_first and S.ndim == 3) else 0
        if washout >= S.shape[tdim]:
            raise ValueError(f"EchoStateNetwork.fit_readout: washout={washout} leaves no "
                             f"steps of a length-{S.shape[tdim]} sequence")
        S = np.moveaxis(S, tdim, 0)[washout:].reshape(-1, S.shape[-1]).astype(np.float64)
        Y = np.moveaxis(Y, tdim, 0)[washout:].reshape(-1, Y.shape[-1]).astype(np.float64)
        s_mean, y_mean = S.mean(0), Y.mean(0)
        Sc, Yc = S - s_mean, Y - y_mean
        W = np.linalg.solve(Sc.T @ Sc + alpha * np.eye(S.shape[1]), Sc.T @ Yc).T
        b = y_mean - W @ s_mean
        dt = self.readout.weight._data.dtype
        with no_grad():
            self.readout.weight.copy_(Tensor._make(W.astype(dt), False, None, 0))
            self.readout.bias.copy_(Tensor._make(b.astype(dt), False, None, 0))
        return self

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, spectral_radius="
                f"{self.spectral_radius}, sparsity={self.sparsity}, leak={self.leak}")
