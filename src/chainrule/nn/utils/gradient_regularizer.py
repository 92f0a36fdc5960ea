"""The gradient regulariser across time of Pascanu, Mikolov & Bengio (2013), "On the
difficulty of training recurrent neural networks" (section 3.3): a penalty Omega that pushes
each step of a recurrent network to preserve the norm of the back-propagated error, so that
long-range gradients neither vanish nor (with clipping) explode.

``vanishing_gradient_regularizer`` computes Omega for any recurrent model whose state
update is a function ``step(x_t, h_{t-1}) -> h_t`` of tensors; ``rnn_step`` gives that
function for ``nn.RNN``/``nn.GRU`` (one layer, one direction), ``nn.RNNCell``,
``nn.GRUCell`` and ``nn.LeakyRNN``. Omega's gradient is a second derivative (the derivative
of a vector-Jacobian product), so ``step`` is recomputed from composed tensor operations:
it works with the fused ``nn.RNN``/``nn.GRU`` layers too, whose own backward is first-order
only. (LSTM: its state is the pair (h, c), which ``nn.LSTM`` does not return per step.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...autograd.engine import grad as _grad
from ...autograd.grad_mode import enable_grad, no_grad
from ...functions.shape import cat, stack
from ...tensor import Tensor
from .._functional_layers import linear
from .._rnn_cells import GRUCell, RNNCell, gru_cell, rnn_relu_cell, rnn_tanh_cell

__all__ = ["rnn_step", "vanishing_gradient_regularizer"]


def rnn_step(module) -> Callable[[Tensor, Tensor], Tensor]:
    """The one-step state update ``h_t = step(x_t, h_{t-1})`` of a recurrent module, written
    with composed tensor operations on the module's own parameters (so it can be
    differentiated twice), for ``vanishing_gradient_regularizer``.

    Supported: ``nn.RNN`` and ``nn.GRU`` with one layer and one direction, ``nn.RNNCell``,
    ``nn.GRUCell`` (which are such functions already) and ``nn.LeakyRNN``.

    Shape: x_t (N, H_in), h_{t-1} (N, H) -> h_t (N, H).
    """
    from ..recurrent_course import LeakyRNN, SkipRNN
    from ..rnn import GRU, LSTM, RNN

    if isinstance(module, (RNNCell, GRUCell)):
        return module
    if isinstance(module, (RNN, GRU)):
        if module.num_layers != 1 or module.bidirectional:
            raise ValueError(
                f"rnn_step: {type(module).__name__} with num_layers={module.num_layers}, "
                f"bidirectional={module.bidirectional}: only one layer in one direction has a "
                "single state h_t; regularise a stack layer by layer with nn.RNNCell steps")
        w_ih, w_hh = module.weight_ih_l0, module.weight_hh_l0
        b_ih = getattr(module, "bias_ih_l0", None)
        b_hh = getattr(module, "bias_hh_l0", None)
        if isinstance(module, GRU):
            return lambda x, h: gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
        cell = rnn_relu_cell if module.mode == "RNN_RELU" else rnn_tanh_cell
        return lambda x, h: cell(x, h, w_ih, w_hh, b_ih, b_hh)
    if isinstance(module, LeakyRNN):
        a = module.alpha

        def leaky(x, h):
            pre = linear(x, module.weight_ih, module.bias) + linear(h, module.weight_hh)
            return h * a + pre.tanh() * (1 - a)
        return leaky
    if isinstance(module, (LSTM, SkipRNN)):
        raise TypeError(
            f"rnn_step: {type(module).__name__}'s state is not a single h_t ("
            f"{'(h, c) pairs' if isinstance(module, LSTM) else 'h_t depends on h_{t-skip}'}); "
            "write step(x, state) on the concatenated state and run it in a Python loop")
    raise TypeError(f"rnn_step: unsupported module {type(module).__name__}; pass a function "
                    "step(x_t, h_prev) -> h_t instead")


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _detached(t: Tensor) -> Tensor:
    return _const(t._data)


def _total_adjoints(step, xs, hs_prev, direct):
    """g_t = dE/dh_t (through all later steps), from the direct partials d_t and the
    recursion g_t = d_t + g_{t+1} (dh_{t+1}/dh_t), t = T..1 (first-order VJPs)."""
    T = len(xs)
    g = [None] * T
    g[T - 1] = direct[T - 1]
    for t in range(T - 2, -1, -1):
        h = _detached(hs_prev[t + 1]).requires_grad_()
        with enable_grad():
            (vjp,) = _grad(step(xs[t + 1], h), h, g[t + 1])
        g[t] = direct[t] + vjp
    return g


def vanishing_gradient_regularizer(step: Callable[[Tensor, Tensor], Tensor], input: Tensor,  # noqa: A002
                                   output: Tensor, loss: Tensor, hx: Tensor | None = None,
                                   h_n: Tensor | None = None, batch_first: bool = False,
                                   reduction: str = "sum", eps: float = 1e-20) -> Tensor:
    """Omega of Pascanu, Mikolov & Bengio (2013), eq. (9):

        Omega = sum_t mean_n ( ||g_t (dh_t / dh_{t-1})|| / ||g_t|| - 1 )^2,
        g_t = dE/dh_t  (the error back-propagated to h_t through all later steps),

    for the transitions h_{t-1} -> h_t, t = 1..T, of each sequence n of the batch. Each term
    is 0 when the step keeps the norm of the error flowing back through it, so adding
    ``lambda * Omega`` to the loss pushes every ||dh_t / dh_{t-1}|| (in the direction that
    matters, g_t) towards 1: gradients neither vanish nor explode across time. As in the
    paper, g_t is a constant and h_{t-1}, x_t are held fixed when Omega is differentiated
    (the paper's "immediate" partial derivatives d+), so Omega's gradient reaches only the
    parameters of ``step``: one batched double-backward through ``step`` for all T steps.
    Rows with g_t = 0 (||g_t||^2 <= eps) are left out.

    Args:
        step: the state update ``step(x_t, h_{t-1}) -> h_t`` (``rnn_step(module)``, a cell,
            or any function of tensors).
        input: x_1..x_T, (T, N, H_in) ((N, T, H_in) with ``batch_first``).
        output: h_1..h_T that the model computed and ``loss`` read, (T, N, H) (or batch
            first), e.g. the first output of a one-layer ``nn.RNN`` or ``nn.LeakyRNN``.
        loss: the scalar E (its graph is kept: call ``loss.backward()`` afterwards, or
            backpropagate ``loss + lambda * Omega`` at once).
        hx: h_0, (N, H) or (1, N, H) (default zeros).
        h_n: the final state if ``loss`` read it as a separate tensor (as ``nn.RNN`` returns
            it): its gradient is added to g_T.
        reduction: "sum" over time steps (the paper; the default) or "mean".
        eps: threshold on ||g_t||^2 below which a row is left out.

    Returns: Omega, a scalar tensor.

    Example::

        >>> rnn, head = nn.RNN(1, 16), nn.Linear(16, 1)
        >>> x = cr.randn(30, 8, 1)
        >>> out, h_n = rnn(x)
        >>> loss = F.mse_loss(head(out[-1]), cr.randn(8, 1))
        >>> omega = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out,
        ...                                                  loss)
        >>> (loss + 2.0 * omega).backward()
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"vanishing_gradient_regularizer: reduction must be 'sum' or 'mean', "
                         f"got {reduction!r}")
    wrt = [output] if h_n is None else [output, h_n]  # differentiate the tensors loss read
    with enable_grad():
        grads = _grad(loss, wrt, retain_graph=True, allow_unused=True)
    x_arr, out_arr = input._data, output._data  # states and inputs are constants here
    if batch_first:
        x_arr, out_arr = np.swapaxes(x_arr, 0, 1), np.swapaxes(out_arr, 0, 1)
    if x_arr.ndim != 3 or out_arr.ndim != 3 or x_arr.shape[:2] != out_arr.shape[:2]:
        raise ValueError(
            "vanishing_gradient_regularizer: expected input (T, N, H_in) and output (T, N, H) "
            f"with the same T and N, got {x_arr.shape} and {out_arr.shape} (pass "
            "batch_first=True for (N, T, .) tensors; add a batch dim to unbatched ones)")
    T, N, H = out_arr.shape
    if grads[0] is None:
        direct = np.zeros(out_arr.shape, out_arr.dtype)
    else:
        direct = np.swapaxes(grads[0]._data, 0, 1) if batch_first else grads[0]._data
    if h_n is not None and grads[1] is not None:
        direct = direct.copy()
        direct[-1] += grads[1]._data.reshape(N, H)
    h0 = np.zeros((N, H), out_arr.dtype) if hx is None else hx._data.reshape(N, H)
    hs_prev = [_const(h0)] + [_const(out_arr[t]) for t in range(T - 1)]
    xs = [_const(x_arr[t]) for t in range(T)]
    g = _total_adjoints(step, xs, hs_prev, [Tensor._make(direct[t], False, None, 0)
                                            for t in range(T)])
    with no_grad():
        G = stack(g).reshape(T * N, H)
    g_sq = (G._data.astype(np.float64) ** 2).sum(-1)
    keep = g_sq > eps
    with enable_grad():
        h_prev = _detached(cat(hs_prev)).requires_grad_()
        h_next = step(_detached(cat(xs)), h_prev)
        (v,) = _grad(h_next, h_prev, G, create_graph=True)
        v_sq = (v * v).sum(-1)
        g_norm = np.sqrt(np.where(keep, g_sq, 1.0)).astype(v._data.dtype)
        tiny = np.finfo(v._data.dtype).tiny  # sqrt stays differentiable where v = 0
        safe = Tensor._make(np.where(keep, tiny, 1.0).astype(v._data.dtype), False, None, 0)
        ratio = (v_sq + safe).sqrt() / Tensor._make(g_norm, False, None, 0)
        weight = Tensor._make((keep / np.maximum(1, keep.reshape(T, N).sum(1)).repeat(N))
                              .astype(v._data.dtype), False, None, 0)
        per_row = (ratio - 1.0) ** 2 * weight  # each step: mean over its kept rows
        omega = per_row.sum()
        if reduction == "mean":
            omega = omega / max(1, int(keep.reshape(T, N).any(1).sum()))
    return omega
