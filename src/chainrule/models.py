"""A small model zoo: ``mlp``, ``lenet5``, ``resnet``, ``cnn1d`` and ``rnn_classifier``.

Each builder returns an ordinary ``nn.Module`` (mostly ``nn.Sequential``) made of chainrule
layers, so it trains with any optimizer and saves with ``state_dict``.

Example::

    >>> from chainrule import models
    >>> net = models.mlp([13, 32, 32, 2], activation="relu", dropout=0.1)
    >>> net(cr.randn(8, 13)).shape
    chainrule.Size([8, 2])
"""

from __future__ import annotations

from . import nn
from .tensor import Tensor

__all__ = ["mlp", "lenet5", "resnet", "cnn1d", "rnn_classifier", "RNNClassifier"]

_ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU, "softplus": nn.Softplus,
}


def _activation(activation, where: str):
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{where}: unknown activation {activation!r}; choose one of "
                             f"{sorted(_ACTIVATIONS)} or pass a Module class")
        return _ACTIVATIONS[activation]()
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    if callable(activation):
        return activation()
    raise TypeError(f"{where}: activation must be a name or a Module class, got "
                    f"{type(activation).__name__}")


def _ints(values, name: str, where: str, min_len: int = 1) -> tuple:
    vals = tuple(values)
    if len(vals) < min_len or any(not isinstance(v, int) or isinstance(v, bool) or v <= 0
                                  for v in vals):
        raise ValueError(f"{where}: {name} must be at least {min_len} positive integers, got "
                         f"{values!r}")
    return vals


def mlp(sizes, activation="relu", dropout: float = 0.0, batchnorm: bool = False) -> nn.Sequential:
    """Multilayer perceptron: Linear(sizes[0], sizes[1]) [-> BatchNorm1d] -> activation
    [-> Dropout] -> ... -> Linear(sizes[-2], sizes[-1]) (no activation after the last layer:
    the output is logits or a regression value, for the loss to interpret).

    Args:
        sizes: [in_features, hidden..., out_features] (at least two).
        activation: name ("relu", "tanh", "sigmoid", "gelu", ...) or a Module class.
        dropout: dropout probability after each hidden activation (0: none).
        batchnorm: BatchNorm1d after each hidden Linear.

    Shape: input (N, sizes[0]), output (N, sizes[-1]).
    """
    sizes = _ints(sizes, "sizes", "mlp", min_len=2)
    if not 0 <= dropout < 1:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout!r}")
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(_activation(activation, "mlp"))
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def lenet5(num_classes: int = 10, in_channels: int = 1, image_size: int = 28) -> nn.Sequential:
    """LeNet-5 (with ReLU and max pooling): conv 5x5 (6, padding 2) -> pool 2 -> conv 5x5
    (16) -> pool 2 -> Linear(16 * s * s, 120) -> Linear(120, 84) -> Linear(84, num_classes),
    s = ((image_size // 2) - 4) // 2 (5 for 28x28 MNIST images).

    Shape: input (N, in_channels, image_size, image_size), output (N, num_classes).
    """
    _ints((num_classes, in_channels, image_size), "num_classes/in_channels/image_size",
          "lenet5")
    s = (image_size // 2 - 4) // 2
    if s < 1:
        raise ValueError(f"lenet5: image_size={image_size} is too small (need >= 12)")
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * s * s, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def resnet(depths=(2, 2, 2), widths=(16, 32, 64), num_classes: int = 10,
           in_channels: int = 3) -> nn.Sequential:
    """Residual network for small images: a stem conv 3x3 (widths[0]) + BatchNorm2d + ReLU,
    then one stage per width of ``depths[i]`` ``ResidualBlock``s (the first block of every
    stage after the first has stride 2 and a projection shortcut), global average pooling and
    a Linear head. depths=(3, 3, 3) gives the CIFAR ResNet-20.

    Shape: input (N, in_channels, H, W), output (N, num_classes).
    """
    depths = _ints(depths, "depths", "resnet")
    widths = _ints(widths, "widths", "resnet")
    if len(depths) != len(widths):
        raise ValueError(f"resnet: depths {depths} and widths {widths} must have the same "
                         "length (one per stage)")
    layers = [nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
              nn.BatchNorm2d(widths[0]), nn.ReLU()]
    c = widths[0]
    for i, (depth, width) in enumerate(zip(depths, widths)):
        for j in range(depth):
            stride = 2 if (i > 0 and j == 0) else 1
            layers.append(nn.ResidualBlock(c, width, stride))
            c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


def cnn1d(in_channels: int, num_classes: int, length: int, channels=(32, 32, 32),
          kernel_size: int = 5, stride: int = 2, padding: int = 1,
          activation="relu") -> nn.Sequential:
    """1-D CNN (e.g. for MNIST-1D: in_channels=1, length=40): per entry of ``channels`` a
    Conv1d(kernel_size, stride, padding) and an activation, then Flatten and a Linear head.

    Shape: input (N, in_channels, length), output (N, num_classes).
    """
    channels = _ints(channels, "channels", "cnn1d")
    _ints((in_channels, num_classes, length, kernel_size, stride),
          "in_channels/num_classes/length/kernel_size/stride", "cnn1d")
    layers, c, L = [], in_channels, length
    for width in channels:
        L = (L + 2 * padding - kernel_size) // stride + 1
        if L < 1:
            raise ValueError(f"cnn1d: length {length} shrinks to nothing after "
                             f"{len(layers) // 2 + 1} convolutions; use fewer channels entries "
                             "or a smaller stride/kernel")
        layers += [nn.Conv1d(c, width, kernel_size, stride=stride, padding=padding),
                   _activation(activation, "cnn1d")]
        c = width
    layers += [nn.Flatten(), nn.Linear(c * L, num_classes)]
    return nn.Sequential(*layers)


class RNNClassifier(nn.Module):
    """Sequence classifier: an RNN/LSTM/GRU (batch_first) and a Linear head on the last
    layer's final hidden state (both directions' concatenated when bidirectional).

    Shape: input (N, L, input_size), or (N, L) when input_size == 1; output (N, num_classes).
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_classes: int,
                 num_layers: int = 1, bidirectional: bool = False):
        super().__init__()
        layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in layers:
            raise ValueError(f"rnn_classifier: kind must be 'rnn', 'lstm' or 'gru', got {kind!r}")
        self.kind, self.input_size = kind, input_size
        self.rnn = layers[kind](input_size, hidden_size, num_layers=num_layers,
                                batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2 and self.input_size == 1:
            x = x.unsqueeze(-1)
        if x.dim() != 3:
            raise ValueError(f"rnn_classifier: expected input (N, L, {self.input_size})"
                             f"{' or (N, L)' if self.input_size == 1 else ''}, got "
                             f"{tuple(x.shape)}")
        _, h = self.rnn(x)
        if self.kind == "lstm":
            h = h[0]
        last = h[-2:].permute(1, 0, 2).reshape(x.shape[0], -1) if self.rnn.bidirectional \
            else h[-1]
        return self.head(last)


def rnn_classifier(kind: str = "gru", input_size: int = 1, hidden_size: int = 64,
                   num_classes: int = 10, num_layers: int = 1,
                   bidirectional: bool = False) -> RNNClassifier:
    """An ``RNNClassifier``: kind in "gru", "lstm", "rnn"; see its docstring."""
    return RNNClassifier(kind, input_size, hidden_size, num_classes, num_layers, bidirectional)
