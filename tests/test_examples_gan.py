"""A CI-sized run of examples/gan_2d.py: after a short adversarial training the generated
points are close to the ring of Gaussians in energy distance; the untrained generator's
points are not. Also checks the energy distance itself."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gan_2d.py"
BOUND = 0.1  # energy distance; two samples of the data themselves give ~0.003


def _example():
    spec = importlib.util.spec_from_file_location("gan_2d_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_energy_distance_separates_distributions():
    ex = _example()
    rng = np.random.default_rng(0)
    a, b = ex.ring_of_gaussians(800, rng=rng), ex.ring_of_gaussians(800, rng=rng)
    same = ex.energy_distance(a, b)
    assert 0 <= same < 0.02
    assert ex.energy_distance(a, a) == 0.0
    assert ex.energy_distance(a, b + np.float32(0.5)) > 10 * same


def test_short_gan_training_reaches_the_data_and_untrained_does_not():
    ex = _example()
    untrained, _ = ex.make_models(hidden=64)
    before = ex.evaluate(untrained)
    G, _, history = ex.train(steps=300, hidden=64, lr=2e-3, log_every=100, log=lambda s: None)
    after = ex.evaluate(G)
    assert before > BOUND, before
    assert after < BOUND, (after, history)
    assert after < 0.15 * before
    radius = np.linalg.norm(ex.generate(G, 500), axis=1)
    assert abs(np.median(radius) - 2.0) < 0.25  # the points sit on the ring
