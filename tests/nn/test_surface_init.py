"""torch.nn surface: nn.init against PyTorch -- calculate_gain for every nonlinearity, the fan
rules, deterministic fills exactly, random fills by their distribution, deprecated aliases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None),
])
def test_calculate_gain(torch, name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (6, 4, 3, 3), (2, 8, 1, 2, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_fans(torch, shape, mode):
    t = torch.empty(shape)
    assert init._calculate_fan_in_and_fan_out(cr.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(t)
    assert init._calculate_correct_fan(cr.empty(*shape), mode) == \
        torch.nn.init._calculate_correct_fan(t, mode)


@pytest.mark.parametrize("name,shape,kw", [
    ("eye_", (3, 5), {}), ("dirac_", (4, 2, 3), {}), ("dirac_", (6, 3, 3, 3), {"groups": 2}),
    ("dirac_", (4, 4, 3, 3, 3), {"groups": 4}), ("ones_", (2, 3), {}), ("zeros_", (4,), {}),
    ("constant_", (2, 2), {"val": 0.3}),
])
def test_deterministic_fills(torch, name, shape, kw):
    a = getattr(init, name)(cr.randn(*shape), **kw)
    b = getattr(torch.nn.init, name)(torch.randn(shape), **kw)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name,kw,std", [
    ("xavier_uniform_", {"gain": 2.0}, 2.0 * math.sqrt(2 / (300 + 200))),
    ("xavier_normal_", {}, math.sqrt(2 / (300 + 200))),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 300)),
    ("kaiming_normal_", {"a": 0.1}, math.sqrt(2 / (1 + 0.01)) / math.sqrt(200)),
    ("trunc_normal_", {"std": 0.02, "a": -0.04, "b": 0.04}, None),
    ("orthogonal_", {"gain": 1.5}, None), ("sparse_", {"sparsity": 0.3}, 0.01),
])
def test_random_fills(name, kw, std):
    w = getattr(init, name)(cr.empty(300, 200, dtype=cr.float64), **kw).numpy()
    if std is not None and name != "sparse_":
        assert abs(w.std() / std - 1) < 0.03
    if name == "trunc_normal_":
        assert w.min() >= -0.04 and w.max() <= 0.04
    if name == "orthogonal_":
        np.testing.assert_allclose(w.T @ w, 1.5 ** 2 * np.eye(200), atol=1e-10)
    if name == "sparse_":
        assert np.all((w == 0).sum(0) == math.ceil(0.3 * 300))
    g = cr.Generator().manual_seed(3)  # generator= makes it reproducible
    a = getattr(init, name)(cr.empty(30, 20), **kw, generator=g).numpy()
    g.manual_seed(3)
    b = getattr(init, name)(cr.empty(30, 20), **kw, generator=g).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
                                 "xavier_normal", "kaiming_uniform", "kaiming_normal",
                                 "orthogonal", "sparse"])
def test_deprecated_aliases_warn(old):
    args = {"constant": (0.5,), "sparse": (0.1,)}.get(old, ())
    shape = (4, 2, 3) if old == "dirac" else (4, 3)
    with pytest.warns(FutureWarning, match=f"nn.init.{old}` is now deprecated"):
        getattr(init, old)(cr.empty(*shape), *args)


def test_init_keeps_parameter_identity_and_grad_state():
    lin = nn.Linear(3, 2)
    w = lin.weight
    init.xavier_uniform_(lin.weight)
    assert lin.weight is w and w.requires_grad and w.grad_fn is None
