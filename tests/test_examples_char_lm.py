"""A CI-sized run of examples/char_lm.py: a small causal Transformer trained for 200
steps on the Python language reference predicts characters far better than a uniform guess
(log(vocab) nats), and its parts behave: the positional encoding's formula, causality."""

import importlib.util
import math
from pathlib import Path

import numpy as np

import chainrule as cr

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "char_lm.py"


def _example():
    spec = importlib.util.spec_from_file_location("char_lm_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_positional_encoding_is_the_sinusoid_table():
    ex = _example()
    pe = ex.PositionalEncoding(6, dropout=0.0, max_len=10)
    got = pe(cr.zeros(1, 10, 6)).numpy()[0]
    pos = 7  # dims 4 and 5 (i = 2): frequency 10000^(-4/6)
    assert np.isclose(got[pos, 4], math.sin(pos * 10000 ** (-4 / 6)), atol=1e-6)
    assert np.isclose(got[pos, 5], math.cos(pos * 10000 ** (-4 / 6)), atol=1e-6)
    assert "pe" in pe.state_dict() and not any(True for _ in pe.parameters())


def test_model_is_causal():
    ex = _example()
    model = ex.CharTransformer(20, d_model=16, nhead=2, num_layers=1, dim_feedforward=32,
                               dropout=0.0, context=12)
    model.eval()
    x = cr.randint(0, 20, (2, 12))
    y = x.clone()
    y[:, 8:] = (y[:, 8:] + 1) % 20  # change the future
    with cr.no_grad():
        a, b = model(x).numpy(), model(y).numpy()
    np.testing.assert_allclose(a[:, :8], b[:, :8], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 8:], b[:, 8:])


def test_short_training_beats_the_uniform_guess_by_far():
    ex = _example()
    model, vocab, history = ex.train(steps=200, batch_size=32, context=32, d_model=32,
                                     lr=5e-3, eval_every=100, log=lambda s: None)
    uniform = math.log(len(vocab))
    (_, _, first_val), (_, last_train, last_val) = history[0], history[-1]
    assert last_val < 0.5 * uniform, history  # ~2.15 nats vs log(vocab) ~ 4.6
    assert last_val < first_val and last_train < uniform
    text = ex.sample(model, vocab, "The ", n=20)
    assert text.startswith("The ") and len(text) == 24
