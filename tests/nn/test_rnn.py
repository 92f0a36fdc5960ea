"""Recurrent cells against NumPy formulas, layers against their cells unrolled, float64
gradchecks of the layers and of the fused sequence primitive (incl. masks and reverse)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.ops.rnn_ops import RNNLayer


def sig(a):
    return 1 / (1 + np.exp(-a))


def _np(t):
    return t.detach().numpy()


def _cell_params(cell):
    return [_np(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_formula(nonlinearity):
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity).double()
    x, h = np.random.randn(2, 3), np.random.randn(2, 4)
    wi, wh, bi, bh = _cell_params(cell)
    a = x @ wi.T + bi + h @ wh.T + bh
    want = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    np.testing.assert_allclose(_np(cell(cr.tensor(x), cr.tensor(h))), want, atol=1e-12)


def test_lstm_cell_formula():
    cell = nn.LSTMCell(3, 4).double()
    x, h, c = np.random.randn(2, 3), np.random.randn(2, 4), np.random.randn(2, 4)
    wi, wh, bi, bh = _cell_params(cell)
    a = x @ wi.T + bi + h @ wh.T + bh
    i, f, g, o = sig(a[:, :4]), sig(a[:, 4:8]), np.tanh(a[:, 8:12]), sig(a[:, 12:])
    c2 = f * c + i * g
    h2, c2_ = cell(cr.tensor(x), (cr.tensor(h), cr.tensor(c)))
    np.testing.assert_allclose(_np(c2_), c2, atol=1e-12)
    np.testing.assert_allclose(_np(h2), o * np.tanh(c2), atol=1e-12)


def test_gru_cell_formula():
    cell = nn.GRUCell(3, 4).double()
    x, h = np.random.randn(2, 3), np.random.randn(2, 4)
    wi, wh, bi, bh = _cell_params(cell)
    gi, gh = x @ wi.T + bi, h @ wh.T + bh
    r, z = sig(gi[:, :4] + gh[:, :4]), sig(gi[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gi[:, 8:] + r * gh[:, 8:])
    np.testing.assert_allclose(_np(cell(cr.tensor(x), cr.tensor(h))), (1 - z) * n + z * h,
                               atol=1e-12)


def test_cells_unbatched_and_zero_state():
    cell = nn.GRUCell(3, 4)
    x = cr.randn(3)
    out = cell(x)
    assert out.shape == (4,)
    np.testing.assert_allclose(_np(out), _np(cell(x.unsqueeze(0), cr.zeros(1, 4))[0]))
    h, c = nn.LSTMCell(3, 4)(x)
    assert h.shape == c.shape == (4,)


def test_cell_init_bounds_and_errors():
    cell = nn.LSTMCell(3, 16)
    assert cell.weight_ih.shape == (64, 3) and cell.weight_hh.shape == (64, 16)
    assert all(float(p.abs().max()) <= 0.25 for p in cell.parameters())
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRUCell(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\).*\(2, 5\)"):
        nn.GRUCell(3, 4)(cr.randn(2, 5))


def _unroll(layer, cell_fn, x, state, reverse=False):
    """Run a one-layer, one-direction layer's weights as cells over time (x: (T, N, I))."""
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outs = [None] * x.shape[0]
    for t in steps:
        state = cell_fn(x[t], state)
        outs[t] = state[0] if isinstance(state, tuple) else state
    return cr.stack(outs), state


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_layer_equals_unrolled_cells(kind):
    cr.manual_seed(1)
    layer = getattr(nn, kind)(3, 4, bidirectional=True).double()
    x = cr.randn(5, 2, 3, dtype=cr.float64)
    out, hn = layer(x)
    hn = hn[0] if kind == "LSTM" else hn
    from chainrule.nn._rnn_cells import gru_cell, lstm_cell, rnn_tanh_cell
    fn = {"RNN": rnn_tanh_cell, "LSTM": lstm_cell, "GRU": gru_cell}[kind]
    for d, sfx in enumerate(["_l0", "_l0_reverse"]):
        ws = [getattr(layer, n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        z = cr.zeros(2, 4, dtype=cr.float64)
        state = (z, z) if kind == "LSTM" else z
        want, last = _unroll(layer, lambda xt, s: fn(xt, s, *ws), x, state, reverse=d == 1)
        last = last[0] if kind == "LSTM" else last
        np.testing.assert_allclose(_np(out[..., 4 * d:4 * d + 4]), _np(want), atol=1e-12)
        np.testing.assert_allclose(_np(hn[d]), _np(last), atol=1e-12)


def test_layer_shapes_and_errors():
    lstm = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    out, (h, c) = lstm(cr.randn(4, 7, 3))
    assert out.shape == (4, 7, 4) and h.shape == (4, 4, 2) and c.shape == (4, 4, 6)
    out, h = nn.GRU(3, 5, num_layers=3)(cr.randn(7, 3))  # unbatched
    assert out.shape == (7, 5) and h.shape == (3, 5)
    names = [n for n, _ in nn.LSTM(3, 6, proj_size=2).named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    with pytest.raises(ValueError, match="input_size=3"):
        nn.GRU(3, 5)(cr.randn(7, 2, 4))
    with pytest.raises(RuntimeError, match=r"h0 of shape \(1, 2, 5\)"):
        nn.GRU(3, 5)(cr.randn(7, 2, 3), cr.zeros(2, 2, 5))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 5, proj_size=5)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 5, dropout=1.5)


def test_dropout_between_layers_only():
    gru = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = cr.randn(4, 2, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(_np(a), _np(b))  # eval: deterministic
    gru.train()
    c, _ = gru(x)
    assert not np.allclose(_np(a), _np(c))
    one = nn.GRU(3, 8, num_layers=1, dropout=0.5)  # nothing to drop after the last layer
    np.testing.assert_array_equal(_np(one(x)[0]), _np(one.eval()(x)[0]))


def test_bptt_1000_steps():
    rnn = nn.RNN(2, 8)
    x = cr.randn(1000, 3, 2, requires_grad=True)
    out, h = rnn(x)
    h.sum().backward()
    assert x.grad.shape == (1000, 3, 2) and np.isfinite(_np(x.grad)).all()
    assert np.abs(_np(x.grad[-1])).sum() > 0


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("T", [1, 3, 6])
def test_layer_gradcheck(kind, T):
    layer = getattr(nn, kind)(2, 3, bidirectional=T == 3).double()
    x = cr.randn(T, 2, 2, dtype=cr.float64, requires_grad=True)
    D = 2 if T == 3 else 1
    h0 = cr.randn(D, 2, 3, dtype=cr.float64, requires_grad=True)
    params = list(layer.parameters())

    def f(x, h0, *ps):
        out, hn = layer(x, (h0, h0 * 0.5) if kind == "LSTM" else h0)
        hn = hn[0] * hn[1] if kind == "LSTM" else hn
        return out.tanh().sum() + (hn * hn).sum()

    assert cr.autograd.gradcheck(f, (x, h0, *params))


@pytest.mark.parametrize("mode", ["tanh", "relu", "lstm", "gru", "lstm-proj"])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_primitive_gradcheck_with_mask(mode, reverse):
    proj = mode == "lstm-proj"
    mode = "lstm" if proj else mode
    G = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}[mode]
    H, Ho, T, N = 3, (2 if proj else 3), 4, 3

    def r(*s):
        return cr.randn(*s, dtype=cr.float64, requires_grad=True)

    args = [r(T, N, 2), r(N, Ho), r(N, H) if mode == "lstm" else None, r(G * H, 2),
            r(G * H, Ho), r(G * H), r(G * H), r(Ho, H) if proj else None]
    lengths = np.array([4, 2, 1])
    mask = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]

    def f(*a):
        outs = RNNLayer.apply(*a, mode, reverse, mask)
        return sum((o * o).sum() for o in outs[1:]) + outs[0].sum()

    assert cr.autograd.gradcheck(f, [a for a in args])


def test_double_backward_is_refused_with_a_clear_error():
    gru = nn.GRU(2, 3)
    x = cr.randn(4, 1, 2, requires_grad=True)
    (g,) = cr.autograd.grad(gru(x)[0].sum(), x, create_graph=False)
    assert g.shape == x.shape
    with pytest.raises(NotImplementedError, match="double backward"):
        cr.autograd.grad(gru(x)[0].sum(), x, create_graph=True)


def test_dtype_mismatch_is_an_error():
    with pytest.raises(RuntimeError, match="dtype"):
        nn.GRU(2, 3)(cr.randn(4, 1, 2, dtype=cr.float64))
