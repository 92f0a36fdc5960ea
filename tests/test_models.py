"""The model zoo builds, runs forward and backward on small inputs, and has the layers its
docstring promises."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule import models, nn


def _fwd_bwd(model, x, out_shape):
    y = model(x)
    assert tuple(y.shape) == out_shape
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_mlp():
    net = models.mlp([5, 16, 8, 3], activation="tanh", dropout=0.2, batchnorm=True)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout",
                     "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    _fwd_bwd(net, cr.randn(4, 5), (4, 3))
    assert [type(m).__name__ for m in models.mlp([2, 3])] == ["Linear"]
    with pytest.raises(ValueError, match="activation"):
        models.mlp([2, 3, 1], activation="swish2")
    with pytest.raises(ValueError, match="sizes"):
        models.mlp([2])


def test_lenet5():
    net = models.lenet5(num_classes=10, in_channels=1)
    _fwd_bwd(net, cr.randn(2, 1, 28, 28), (2, 10))
    _fwd_bwd(models.lenet5(3, in_channels=3, image_size=32), cr.randn(2, 3, 32, 32), (2, 3))


def test_resnet():
    net = models.resnet(depths=(1, 2), widths=(4, 8), num_classes=5, in_channels=3)
    blocks = [m for m in net if isinstance(m, nn.ResidualBlock)]
    assert [(b.in_channels, b.out_channels, b.stride) for b in blocks] == \
        [(4, 4, 1), (4, 8, 2), (8, 8, 1)]
    _fwd_bwd(net, cr.randn(2, 3, 8, 8), (2, 5))
    with pytest.raises(ValueError, match="same length"):
        models.resnet(depths=(1, 1), widths=(4,))


def test_cnn1d():
    net = models.cnn1d(1, 10, 40, channels=(8, 8, 8))
    assert sum(isinstance(m, nn.Conv1d) for m in net) == 3
    _fwd_bwd(net, cr.randn(3, 1, 40), (3, 10))
    with pytest.raises(ValueError, match="shrinks"):
        models.cnn1d(1, 10, 4, channels=(8, 8, 8, 8))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_classifier(kind, bidirectional):
    net = models.rnn_classifier(kind, input_size=1, hidden_size=6, num_classes=4,
                                num_layers=2, bidirectional=bidirectional)
    _fwd_bwd(net, cr.randn(3, 7), (3, 4))  # (N, L) input
    x = cr.randn(3, 7, 1)
    y = net(x)
    _, h = net.rnn(x)
    h = h[0] if kind == "lstm" else h
    last = cr.cat([h[-2], h[-1]], -1) if bidirectional else h[-1]
    assert cr.allclose(y, net.head(last))
    with pytest.raises(ValueError, match="kind"):
        models.rnn_classifier("transformer", 1, 4, 2)
