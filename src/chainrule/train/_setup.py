"""What ``fit`` accepts, turned into what it uses: loaders, losses, optimizers."""

from __future__ import annotations

from .. import optim
from ..tensor import Tensor
from ..utils.data import DataLoader, Dataset, TensorDataset
from ._finite import check_finite

#: optimizer names accepted by ``fit(optimizer=...)`` and the CLI
OPTIMIZERS = {
    "sgd": optim.SGD, "momentum": optim.Momentum, "adam": optim.Adam, "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta,
    "adamax": optim.Adamax, "nadam": optim.NAdam, "gd": optim.GD, "lbfgs": optim.LBFGS,
    "newton": optim.Newton, "bfgs": optim.BFGS, "linesearchgd": optim.LineSearchGD,
}
#: default learning rates when a name is given without ``lr``
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "gd": 0.01, "adam": 1e-3, "adamw": 1e-3,
              "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0, "adamax": 2e-3,
              "nadam": 2e-3, "lbfgs": 1.0, "newton": 1.0, "bfgs": 1.0, "linesearchgd": 1.0}
_CLOSURE = (optim.LBFGS, optim.BFGS, optim.Newton, optim.LineSearchGD)


def make_optimizer(name: str, params, lr: float | None = None, weight_decay: float = 0.0):
    """An optimizer from its name (``"adam"``, ``"sgd"``, ``"momentum"``, ``"rmsprop"``,
    ``"lbfgs"``, ``"newton"``, ...) with ``lr`` (default: :data:`DEFAULT_LR`).

    Example::

        opt = make_optimizer("adam", model.parameters(), lr=1e-2, weight_decay=1e-4)
    """
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)} "
                         "(or pass an optimizer instance)")
    kwargs = {"lr": DEFAULT_LR[key] if lr is None else float(lr)}
    if weight_decay:
        if key in ("lbfgs", "newton", "bfgs", "linesearchgd", "gd", "momentum"):
            raise ValueError(f"optimizer {name!r} has no weight_decay")
        kwargs["weight_decay"] = float(weight_decay)
    return OPTIMIZERS[key](list(params), **kwargs)


def needs_closure(optimizer) -> str | None:
    """``"newton"`` (closure returns the loss un-backpropagated), ``"backward"`` (LBFGS,
    BFGS, LineSearchGD: the closure calls backward) or None."""
    if isinstance(optimizer, optim.Newton):
        return "newton"
    return "backward" if isinstance(optimizer, _CLOSURE) else None


def as_dataset(data, name: str) -> Dataset:
    if isinstance(data, tuple) and len(data) >= 2 and all(isinstance(t, Tensor) for t in data):
        n = {t.shape[0] for t in data}
        if len(n) != 1:
            raise ValueError(f"fit: {name} tensors have different numbers of samples "
                             f"{[t.shape[0] for t in data]}; expected (X, y) with equal N")
        check_finite(data, f"fit ({name} data)" if name in ("train", "val") else "evaluate")
        return TensorDataset(*data)
    if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")
                                     and not isinstance(data, (tuple, list))):
        return data
    raise TypeError(f"fit: {name} must be a Dataset, a DataLoader or an (X, y) tuple of "
                    f"tensors, got {type(data).__name__}")


def as_loader(data, batch_size, shuffle: bool, generator, name: str):
    """A DataLoader over ``data`` (a given DataLoader is used as is). ``batch_size=None``
    means the whole dataset as one batch."""
    if isinstance(data, DataLoader):
        return data
    ds = as_dataset(data, name)
    if len(ds) == 0:
        raise ValueError(f"fit: {name} has no samples")
    bs = len(ds) if batch_size is None else int(batch_size)
    return DataLoader(ds, batch_size=bs, shuffle=shuffle, generator=generator)


def split_batch(batch):
    """``(inputs, target)``: the last element of a batch is the target."""
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise ValueError("fit: each batch must be (inputs..., target); got "
                     f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}")


def loss_module(loss):
    if loss is None:
        raise ValueError("fit: loss is required (a module like nn.MSELoss() or a callable "
                         "loss(output, target); see chainrule.train.tasks.head_for)")
    if isinstance(loss, str):
        from .. import nn

        names = {"mse": nn.MSELoss, "bce": nn.BCEWithLogitsLoss,
                 "cross_entropy": nn.CrossEntropyLoss, "crossentropy": nn.CrossEntropyLoss,
                 "poisson": lambda: nn.PoissonNLLLoss(log_input=True), "l1": nn.L1Loss,
                 "mae": nn.L1Loss}
        if loss.lower() not in names:
            raise ValueError(f"fit: unknown loss {loss!r}; known: {', '.join(names)}")
        return names[loss.lower()]()
    if not callable(loss):
        raise TypeError(f"fit: loss must be callable, got {type(loss).__name__}")
    return loss
