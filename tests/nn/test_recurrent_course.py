"""LeakyRNN, SkipRNN and EchoStateNetwork against their formulas written in NumPy; the
echo-state readout fitted by ridge regression; gradchecks in float64."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _np(t):
    return t.detach().numpy()


def test_leaky_rnn_formula():
    m = nn.LeakyRNN(3, 4, alpha=0.7).double()
    x, h0 = np.random.randn(5, 2, 3), np.random.randn(1, 2, 4)
    U, W, b = _np(m.weight_ih), _np(m.weight_hh), _np(m.bias)
    h, want = h0[0], []
    for t in range(5):
        h = 0.7 * h + 0.3 * np.tanh(h @ W.T + x[t] @ U.T + b)
        want.append(h)
    out, hn = m(cr.tensor(x), cr.tensor(h0))
    np.testing.assert_allclose(_np(out), np.stack(want), atol=1e-12)
    np.testing.assert_allclose(_np(hn), h[None], atol=1e-12)


def test_leaky_rnn_alpha_zero_is_a_tanh_rnn():
    m = nn.LeakyRNN(3, 4, alpha=0.0, batch_first=True).double()
    rnn = nn.RNN(3, 4, batch_first=True, bias=False).double()
    with cr.no_grad():
        rnn.weight_ih_l0.copy_(m.weight_ih)
        rnn.weight_hh_l0.copy_(m.weight_hh)
        m.bias.zero_()
    x = cr.randn(2, 6, 3, dtype=cr.float64)
    np.testing.assert_allclose(_np(m(x)[0]), _np(rnn(x)[0]), atol=1e-12)


def test_skip_rnn_formula():
    m = nn.SkipRNN(2, 3, skip=2).double()
    x = np.random.randn(5, 2)  # unbatched
    U, W, S, b = (_np(p) for p in (m.weight_ih, m.weight_hh, m.weight_skip, m.bias))
    hs = [np.zeros(3)]
    for t in range(1, 6):
        hs.append(np.tanh(U @ x[t - 1] + W @ hs[t - 1] + S @ hs[max(t - 2, 0)] + b))
    out, hn = m(cr.tensor(x))
    np.testing.assert_allclose(_np(out), np.stack(hs[1:]), atol=1e-12)
    assert hn.shape == (1, 3)


@pytest.mark.parametrize("cls,kw", [(nn.LeakyRNN, dict(alpha=0.8)), (nn.SkipRNN, dict(skip=2))])
def test_course_rnns_gradcheck(cls, kw):
    m = cls(2, 3, **kw).double()
    x = cr.randn(4, 2, 2, dtype=cr.float64, requires_grad=True)

    def f(x, *ps):
        out, h = m(x)
        return (out ** 2).sum() + h.sum()

    assert cr.autograd.gradcheck(f, (x, *m.parameters()))


def test_bad_hyper_parameters():
    with pytest.raises(ValueError, match="alpha"):
        nn.LeakyRNN(2, 3, alpha=1.5)
    with pytest.raises(ValueError, match="skip"):
        nn.SkipRNN(2, 3, skip=0)
    with pytest.raises(ValueError, match="spectral_radius"):
        nn.EchoStateNetwork(1, 10, 1, spectral_radius=0)
    with pytest.raises(ValueError, match="sparsity"):
        nn.EchoStateNetwork(1, 10, 1, sparsity=1.0)
    with pytest.raises(ValueError, match=r"LeakyRNN\(2, 3\).*\(4, 5\)"):
        nn.LeakyRNN(2, 3)(cr.randn(4, 5))


def test_esn_reservoir_radius_sparsity_and_buffers():
    esn = nn.EchoStateNetwork(2, 80, 1, spectral_radius=1.3, sparsity=0.8,
                              generator=cr.Generator().manual_seed(3))
    W = _np(esn.weight_res).astype(np.float64)
    assert abs(np.abs(np.linalg.eigvals(W)).max() - 1.3) < 1e-4
    assert 0.7 < (W == 0).mean() < 0.9
    assert {n for n, _ in esn.named_parameters()} == {"readout.weight", "readout.bias"}
    assert {"weight_in", "weight_res", "bias_res"} <= set(esn.state_dict())
    out, h = esn(cr.randn(7, 3, 2))
    assert out.shape == (7, 3, 1) and h.shape == (1, 3, 80)
    out.sum().backward()  # only the readout learns by gradient descent
    assert esn.readout.weight.grad is not None and esn.weight_res.grad is None
    same = nn.EchoStateNetwork(2, 80, 1, spectral_radius=1.3, sparsity=0.8,
                               generator=cr.Generator().manual_seed(3))
    np.testing.assert_array_equal(_np(same.weight_res), _np(esn.weight_res))


def test_esn_state_update_formula_with_leak():
    esn = nn.EchoStateNetwork(1, 5, 2, leak=0.4, bias_scaling=0.5, dtype=cr.float64)
    Win, W, b = _np(esn.weight_in), _np(esn.weight_res), _np(esn.bias_res)
    u = np.random.randn(6, 1)
    s, want = np.zeros(5), []
    for t in range(6):
        s = 0.6 * s + 0.4 * np.tanh(Win @ u[t] + W @ s + b)
        want.append(s)
    states, _ = esn.states(cr.tensor(u))
    np.testing.assert_allclose(_np(states), np.stack(want), atol=1e-12)


def test_esn_ridge_readout_predicts_shifted_sine():
    t = np.arange(0, 120, 0.1)
    u = np.sin(t)[:, None].astype(np.float32)
    y = np.sin(t + 0.1)[:, None].astype(np.float32)
    esn = nn.EchoStateNetwork(1, 100, 1, spectral_radius=0.9,
                              generator=cr.Generator().manual_seed(0))
    esn.fit_readout(cr.tensor(u[:900]), cr.tensor(y[:900]), alpha=1e-6, washout=100)
    pred, _ = esn(cr.tensor(u))
    mse = float(np.mean((_np(pred)[900:] - y[900:]) ** 2))  # held-out continuation
    assert mse < 1e-4
    with pytest.raises(ValueError, match="washout"):
        esn.fit_readout(cr.tensor(u[:50]), cr.tensor(y[:50]), washout=50)
