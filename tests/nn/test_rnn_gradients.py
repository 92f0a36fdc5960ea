"""examples/rnn_gradients.py: the measured ||d h_T / d h_0|| decays for spectral radius 0.5,
grows for 1.5, and the measurement equals a finite-difference Jacobian."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import chainrule as cr

PATH = Path(__file__).resolve().parents[2] / "examples" / "rnn_gradients.py"


def _example():
    spec = importlib.util.spec_from_file_location("rnn_gradients", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_decay_and_growth_directions():
    ex = _example()
    steps = [1, 4, 8]
    small = ex.jacobian_norms("rnn", steps, hidden=8, radius=0.5)
    big = ex.jacobian_norms("rnn", steps, hidden=8, radius=1.5)
    assert np.all(np.diff(small) < 0) and small[-1] < 0.05 * small[0]
    assert np.all(np.diff(big) > 0) and big[-1] > 10 * big[0]
    leaky = ex.jacobian_norms("leaky", steps, hidden=8, radius=0.5, alpha=0.9)
    assert leaky[-1] / leaky[0] > small[-1] / small[0] * 20  # leaky units decay far slower
    assert np.all(np.isfinite(ex.jacobian_norms("lstm", steps, hidden=8)))


def test_norm_is_the_frobenius_norm_of_the_jacobian():
    ex = _example()
    H, T = 4, 3
    got = ex.jacobian_norms("rnn", [T], hidden=H, radius=0.9, input_scale=0.3)[0]
    m = ex._model("rnn", H, 0.9, 0.9, 0)
    with cr.no_grad():
        m.bias_ih_l0.mul_(0.3)
        m.bias_hh_l0.mul_(0.3)
    x = np.random.default_rng(1).standard_normal((T, 1, 1)) * 0.3

    def h_T(h0):
        with cr.no_grad():
            return m(cr.tensor(x), cr.tensor(h0[None, None]))[1].numpy()[0, 0]

    J = np.zeros((H, H))
    for j in range(H):
        e = np.zeros(H)
        e[j] = 1e-6
        J[:, j] = (h_T(e) - h_T(-e)) / 2e-6
    np.testing.assert_allclose(got, np.linalg.norm(J), rtol=1e-6)
