"""GradientMonitor: norms recorded, vanishing/exploding gradients named, dead ReLU fraction."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import GradientMonitor


def _step(model, X, y, monitor, steps=1):
    for _ in range(steps):
        model.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        monitor.on_batch_end(0, {"loss": float(loss)})


def test_norms_match_numpy():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    mon = GradientMonitor(model, warn=False)
    X, y = cr.randn(8, 3), cr.randn(8, 1)
    _step(model, X, y, mon, steps=2)
    for name, p in model.named_parameters():
        assert mon.history["grad_norm"][name][-1] == pytest.approx(
            np.sqrt((p.grad.numpy().astype(np.float64) ** 2).sum()), rel=1e-6)
        assert mon.history["weight_norm"][name][-1] == pytest.approx(
            np.sqrt((p.detach().numpy().astype(np.float64) ** 2).sum()), rel=1e-6)
    assert mon.history["step"] == [0, 1]
    assert mon.warnings == []


def test_every():
    model = nn.Linear(2, 1)
    mon = GradientMonitor(model, every=3, warn=False)
    _step(model, cr.randn(4, 2), cr.randn(4, 1), mon, steps=7)
    assert mon.history["step"] == [0, 3, 6]


def test_vanishing_gradients_in_deep_sigmoid_network():
    cr.manual_seed(0)
    layers = []
    for _ in range(10):
        lin = nn.Linear(32, 32)
        nn.init.normal_(lin.weight, std=0.01)
        layers += [lin, nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 1))
    with pytest.warns(RuntimeWarning, match="vanishing gradient"):
        mon = GradientMonitor(model)
        _step(model, cr.randn(16, 32), cr.randn(16, 1), mon)
    first = [w for w in mon.warnings if w.startswith("model.0 ")]
    assert first and "Linear(32 -> 32)" in first[0] and "vanishing" in first[0]
    # the layer next to the output does not vanish
    assert not any(w.startswith("model.20 ") for w in mon.warnings)
    g = mon.history["grad_norm"]
    assert g["0.weight"][0] < 1e-7 * mon.history["weight_norm"]["0.weight"][0]


def test_exploding_gradients_in_badly_scaled_network():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    X = cr.randn(32, 4) * 1e4  # unscaled inputs
    y = cr.randn(32, 1) * 1e3
    with pytest.warns(RuntimeWarning, match="exploding gradient"):
        mon = GradientMonitor(model)
        _step(model, X, y, mon)
    assert any(w.startswith("model.0 (Linear(4 -> 16))") and "exploding" in w
               for w in mon.warnings)
    # reported once per parameter and kind, not at every step
    n = len(mon.warnings)
    _step(model, X, y, mon, steps=2)
    assert len(mon.warnings) == n


def test_dead_relu_fraction():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 20), nn.ReLU(), nn.Linear(20, 1))
    with cr.no_grad():
        model[0].bias[:10] = -100.0  # half of the units can never fire on N(0, 1) inputs
    X = cr.randn(64, 5)
    mon = GradientMonitor(model, dead_threshold=0.4)
    with pytest.warns(RuntimeWarning, match="dead"):
        _step(model, X, cr.randn(64, 1), mon)
    pre = (X.numpy() @ model[0].weight.detach().numpy().T + model[0].bias.detach().numpy())
    expected = np.mean(np.all(pre <= 0, axis=0))
    assert mon.history["dead_relu"]["1"][0] == pytest.approx(expected)
    assert expected >= 0.5
    assert any(w.startswith("model.1 (ReLU") for w in mon.warnings)
    mon.remove()
    model(X)
    assert len(model[1]._forward_hooks) == 0


def test_bad_hyper_parameters():
    with pytest.raises(ValueError, match="every"):
        GradientMonitor(nn.Linear(2, 2), every=0)
    with pytest.raises(ValueError, match="explode_threshold"):
        GradientMonitor(nn.Linear(2, 2), explode_threshold=-1)
    with pytest.raises(TypeError, match="nn.Module"):
        GradientMonitor(object())


def test_as_fit_callback():
    train = pytest.importorskip("chainrule.train")
    if not hasattr(train, "fit"):
        pytest.skip("chainrule.train.fit not available yet")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    X, y = cr.randn(32, 3), cr.randn(32, 1)
    mon = GradientMonitor(model, warn=False)
    train.fit(model, (X, y), loss=nn.MSELoss(), optimizer="sgd", epochs=2, batch_size=16,
              verbose=0, callbacks=[mon])
    assert len(mon.history["step"]) == 4
    assert len(mon.history["grad_norm"]["0.weight"]) == 4


def test_message_names_the_module_path_and_layer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            return self.fc2(cr.relu(self.fc1(x)))

    cr.manual_seed(0)
    net = Net()
    mon = GradientMonitor(net, explode_threshold=1e-3, warn=False)  # everything "explodes"
    loss = net(cr.randn(4, 6)).pow(2).sum()
    loss.backward()
    mon.record()
    assert any(w.startswith("model.fc2 (Linear(128 -> 10)): exploding gradient: ||grad weight||")
               for w in mon.warnings)
    assert set(mon.history["grad_norm"]) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
