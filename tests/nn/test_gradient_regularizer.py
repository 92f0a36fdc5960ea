"""nn.utils.vanishing_gradient_regularizer (Pascanu et al. 2013's Omega) and nn.utils.rnn_step:
the value against explicit Jacobians, its gradient against an independent torch computation
(explicit Jacobian formula, no double backward), agreement across the recurrent modules, the
errors, and its effect: a short training keeps ||d h_T / d h_t|| level where the plain RNN's
vanishes (examples/rnn_gradients.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rnn_gradients.py"
T, N, I, H = 6, 3, 2, 4


def _setup(seed=0):
    cr.manual_seed(seed)
    rnn, head = nn.RNN(I, H).double(), nn.Linear(H, 1).double()
    x = cr.randn(T, N, I, dtype=cr.float64)
    out, h_n = rnn(x)
    loss = (head(out) ** 2).sum() + (h_n ** 2).sum()  # reads every state, and h_n apart
    return rnn, head, x, out, h_n, loss


def _explicit(rnn, head, x, out):
    """Total adjoints g_t and Omega's terms from the Jacobians diag(1 - h_t^2) W_hh."""
    W = rnn.weight_hh_l0.detach().numpy()
    hs = out.detach().numpy()
    w, b = head.weight.detach().numpy(), head.bias.detach().numpy()
    d = 2 * (hs @ w.T + b) @ w
    d[-1] += 2 * hs[-1]
    g = np.zeros_like(d)
    g[-1] = d[-1]
    for t in range(T - 2, -1, -1):
        g[t] = d[t] + (g[t + 1] * (1 - hs[t + 1] ** 2)) @ W
    return g


def test_value_matches_explicit_jacobians():
    rnn, head, x, out, h_n, loss = _setup()
    omega = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out, loss,
                                                    h_n=h_n)
    g = _explicit(rnn, head, x, out)
    hs = out.detach().numpy()
    v = (g * (1 - hs ** 2)) @ rnn.weight_hh_l0.detach().numpy()
    ratio = np.linalg.norm(v, axis=-1) / np.linalg.norm(g, axis=-1)
    np.testing.assert_allclose(float(omega), ((ratio - 1) ** 2).mean(1).sum(), rtol=1e-12)
    mean = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out, loss,
                                                   h_n=h_n, reduction="mean")
    np.testing.assert_allclose(float(mean), float(omega) / T, rtol=1e-12)
    loss.backward()  # the loss's graph is still there
    assert rnn.weight_hh_l0.grad is not None


def test_gradient_matches_torch_explicit_formula(torch):
    """Omega's gradient (chainrule: double backward through the step) equals torch's
    first-order gradient of the explicit formula v = (g * (1 - h^2)) W_hh with
    h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh), h_prev and g held fixed."""
    rnn, head, x, out, h_n, loss = _setup(1)
    omega = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out, loss,
                                                    h_n=h_n)
    omega.backward()
    g = torch.tensor(_explicit(rnn, head, x, out))
    params = {n: torch.tensor(p.detach().numpy(), requires_grad=True)
              for n, p in rnn.named_parameters()}
    hs = out.detach().numpy()
    h_prev = torch.tensor(np.concatenate([np.zeros((1, N, H)), hs[:-1]]))
    h = torch.tanh(torch.tensor(x.numpy()) @ params["weight_ih_l0"].T + params["bias_ih_l0"]
                   + h_prev @ params["weight_hh_l0"].T + params["bias_hh_l0"])
    v = (g * (1 - h ** 2)) @ params["weight_hh_l0"]
    t_omega = ((v.norm(dim=-1) / g.norm(dim=-1) - 1) ** 2).mean(1).sum()
    t_omega.backward()
    np.testing.assert_allclose(float(omega), float(t_omega), rtol=1e-12)
    for name, p in rnn.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def _loop(step, x, h):
    outs = []
    for t in range(x.shape[0]):
        h = step(x[t], h)
        outs.append(h)
    return cr.stack(outs)


@pytest.mark.parametrize("kind", ["RNN", "GRU"])
def test_fused_layer_and_cell_loop_agree(kind):
    cr.manual_seed(2)
    layer = getattr(nn, kind)(I, H).double()
    cell = getattr(nn, kind + "Cell")(I, H).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.randn(T, N, I, dtype=cr.float64)
    h0 = cr.randn(N, H, dtype=cr.float64)
    results = []
    for model, out in ((layer, layer(x, h0[None])[0]), (cell, _loop(cell, x, h0))):
        loss = (out ** 3).sum()
        om = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(model), x, out, loss,
                                                     hx=h0)
        om.backward()
        results.append((float(om), [p.grad.numpy().copy() for p in model.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_leaky_relu_and_batch_first_variants():
    cr.manual_seed(3)
    leaky = nn.LeakyRNN(I, H, alpha=0.7, batch_first=True).double()
    x = cr.randn(N, T, I, dtype=cr.float64)
    out, _ = leaky(x)
    om = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(leaky), x, out,
                                                 out.pow(2).sum(), batch_first=True)
    om.backward()
    assert np.isfinite(float(om)) and np.any(leaky.weight_hh.grad.numpy() != 0)
    relu = nn.RNN(I, H, nonlinearity="relu").double()
    step = nn.utils.rnn_step(relu)
    xt, h = cr.randn(N, I, dtype=cr.float64), cr.randn(N, H, dtype=cr.float64)
    np.testing.assert_allclose(step(xt, h).detach().numpy(),
                               relu(xt[None], h[None])[0][0].detach().numpy(), rtol=1e-12)


def test_rows_without_error_are_left_out():
    rnn, head, x, out, h_n, _ = _setup()
    loss = (out[-1] ** 2).sum() * 0.0  # g = 0 everywhere
    om = nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out, loss)
    assert float(om) == 0.0
    om.backward()
    assert np.all(np.isfinite(rnn.weight_hh_l0.grad.numpy()))


def test_errors():
    with pytest.raises(TypeError, match="LSTM"):
        nn.utils.rnn_step(nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="num_layers=2"):
        nn.utils.rnn_step(nn.RNN(2, 3, num_layers=2))
    with pytest.raises(TypeError, match="unsupported"):
        nn.utils.rnn_step(nn.Linear(2, 3))
    rnn, head, x, out, h_n, loss = _setup()
    with pytest.raises(ValueError, match="reduction"):
        nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x, out, loss,
                                                reduction="max")
    with pytest.raises(ValueError, match="same T and N"):
        nn.utils.vanishing_gradient_regularizer(nn.utils.rnn_step(rnn), x[:-1], out, loss)


def test_short_training_keeps_the_gradient_level():
    """Start vanishing (radius 0.5), train 150 steps on a 30-step memory task: without Omega
    ||d h_T / d h_0|| / ||d h_T / d h_(T-1)|| is ~1e-9; with Omega it stays within 10x of 1."""
    spec = importlib.util.spec_from_file_location("rnn_gradients", EXAMPLE)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    ratios, losses = {}, {}
    for lam in (0.0, 1.0):
        rnn, _, task = ex.train_memory_task(lam, steps=150, T=30)
        norms = ex.state_jacobian_norms(rnn, 30)
        ratios[lam], losses[lam] = norms[0] / norms[-1], task[-20:].mean()
    assert ratios[0.0] < 1e-6, ratios
    assert 0.1 < ratios[1.0] < 10.0, ratios
    assert abs(np.log10(ratios[1.0])) < 0.2 * abs(np.log10(ratios[0.0]))
    assert losses[1.0] < 0.8 * losses[0.0]  # and the long-range task is learned
