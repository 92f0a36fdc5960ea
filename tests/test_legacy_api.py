"""PyTorch's legacy and device API (chainrule._legacy, accelerator, nn.modules paths)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_tensor_constructor_forms_match_torch(torch):
    for L in (cr, torch):
        assert tuple(L.Tensor(2, 3).shape) == (2, 3)
        assert tuple(L.Tensor(2).shape) == (2,)  # sizes, not the value 2
        assert L.Tensor([2]).tolist() == [2.0] and L.Tensor([2]).dtype == L.float32
        assert tuple(L.Tensor().shape) == (0,)
        assert tuple(L.Tensor(L.Size([2, 3])).shape) == (2, 3)
        assert L.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is a sequence
        a = L.tensor([1, 2])
        assert L.Tensor(a).dtype == L.int64  # Tensor(tensor) aliases it
        b = L.ones(2)
        c = L.Tensor(b)
        c[0] = 5
        assert b.tolist() == [5.0, 1.0]
        assert L.Tensor(np.array([1, 2])).dtype == L.float32
        with pytest.raises(TypeError):
            L.Tensor(3.5)


def test_typed_constructors_and_isinstance(torch):
    for L in (cr, torch):
        assert L.LongTensor([1.7, 2]).tolist() == [1, 2]
        assert L.LongTensor([1]).dtype == L.int64
        assert tuple(L.FloatTensor(3, 4).shape) == (3, 4)
        assert L.DoubleTensor([1]).dtype == L.float64
        assert L.IntTensor([1]).dtype == L.int32 and L.ByteTensor([1]).dtype == L.uint8
        assert L.BoolTensor([1, 0]).tolist() == [True, False]
        assert L.HalfTensor([1]).dtype == L.float16
        assert isinstance(L.ones(2), L.FloatTensor) and not isinstance(L.ones(2), L.LongTensor)
        assert isinstance(L.ones(2, dtype=L.int64), L.LongTensor)
        with pytest.raises(TypeError):
            L.LongTensor(L.ones(2))  # a float tensor is not a LongTensor
    assert cr.ones(2).type() == "chainrule.FloatTensor"
    for L in (cr, torch):  # t.type(typed constructor / its name / a dtype) converts
        x = L.tensor([1.5, -2.0])
        assert x.type(L.LongTensor).dtype == L.int64 and x.type(L.LongTensor).tolist() == [1, -2]
        assert x.type("torch.DoubleTensor").dtype == L.float64
        assert x.type(L.int32).dtype == L.int32
        assert x.type(L.FloatTensor) is x


def test_variable_is_deprecated_tensor(torch):
    for L in (cr, torch):
        from importlib import import_module

        Variable = import_module(L.__name__ + ".autograd").Variable
        t = L.ones(2)
        v = Variable(t, requires_grad=True)
        assert v is not t and v.requires_grad and not t.requires_grad
        assert isinstance(t, Variable)
        (v * 3).sum().backward()
        assert v.grad.tolist() == [3.0, 3.0]
        assert callable(Variable._execution_engine.queue_callback)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        cr.autograd.Variable(cr.ones(1), volatile=True)
    assert "volatile" in str(w[0].message)


def test_default_device_and_flags(torch):
    for L in (cr, torch):
        L.set_default_device("cpu")
        L.set_default_device(None)
        assert str(L.get_default_device()) == "cpu"
        t = L.ones(2)
        assert not (t.is_xpu or t.is_mps or t.is_meta or t.is_quantized or t.is_sparse)
        assert t.is_cpu and not t.is_complex()
        assert t.layout == L.strided
        assert L.device("cpu").type == "cpu" and L.device("cpu").index is None
        assert L.device("cuda:1").index == 1
        assert L.accelerator.is_available() is False
        assert L.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.set_default_device("cuda")


def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            cr.set_default_tensor_type(cr.DoubleTensor)
        assert cr.ones(1).dtype == cr.float64
        with pytest.warns(UserWarning):
            cr.set_default_tensor_type("torch.FloatTensor")
        assert cr.ones(1).dtype == cr.float32
    finally:
        cr.set_default_dtype(cr.float32)


def test_nn_modules_paths(torch):
    from chainrule.nn.modules.batchnorm import _BatchNorm
    from chainrule.nn.modules.container import Sequential
    from chainrule.nn.modules.conv import Conv2d
    from chainrule.nn.modules.linear import Linear
    from chainrule.nn.modules.loss import _Loss, _WeightedLoss, CrossEntropyLoss
    from chainrule.nn.modules.module import Module
    from chainrule.nn.modules.rnn import LSTM, RNNBase

    assert Linear is nn.Linear and Conv2d is nn.Conv2d and LSTM is nn.LSTM
    assert Module is nn.Module and Sequential is nn.Sequential
    assert issubclass(CrossEntropyLoss, _WeightedLoss) and issubclass(_WeightedLoss, _Loss)
    assert isinstance(nn.BatchNorm1d(3), _BatchNorm) and issubclass(nn.GRU, RNNBase)
    assert nn.modules.Linear is nn.Linear

    class MyLoss(_Loss):  # custom losses subclass torch's private base, as real code does
        def forward(self, a, b):
            return ((a - b) ** 2).mean() if self.reduction == "mean" else ((a - b) ** 2).sum()

    assert MyLoss(reduction="sum")(cr.ones(2), cr.zeros(2)).item() == 2.0
    with pytest.raises(ImportError):
        from chainrule.nn.modules.loss import NoSuchLoss  # noqa: F401
    # every path torch has exists in chainrule
    import pkgutil

    import torch.nn.modules as tm

    for m in pkgutil.iter_modules(tm.__path__):
        if not m.name.startswith("_") and not m.name.startswith("linear_cross"):
            __import__(f"chainrule.nn.modules.{m.name}")


def test_flatten_parameters_and_channel_dropout_ranks(torch):
    gru = nn.GRU(3, 4)
    gru.flatten_parameters()  # a no-op, as on the CPU
    x = cr.ones(4, 6)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = nn.Dropout2d(0.5)(x)  # (N, C): element-wise, with torch's warning
    assert set(np.unique(y.numpy())) <= {0.0, 2.0}
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        nn.Dropout2d(0.5)(cr.ones(2, 3, 4))
    z = nn.Dropout1d(0.5)(cr.ones(8, 5)).numpy()  # unbatched (C, L): whole channels
    assert np.all((z == 0).all(-1) | (z == 2.0).all(-1))
    w = nn.Dropout3d(0.5)(cr.ones(3, 2, 2, 2)).numpy()  # unbatched (C, D, H, W)
    assert np.all((w.reshape(3, -1) == 0).all(-1) | (w.reshape(3, -1) == 2.0).all(-1))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        nn.Dropout1d(0.5)(cr.ones(2, 2, 2, 2))
    for L in (cr, torch):
        d = L.nn.Dropout2d(0.5)
        d.eval()
        assert d(L.ones(2, 3)).tolist() == [[1.0] * 3] * 2


def test_inplace_activation_flag_overwrites_input(torch):
    for L in (cr, torch):
        x = L.tensor([-1.0, 2.0], requires_grad=True)
        h = x * 1
        y = L.nn.ReLU(inplace=True)(h)
        assert y is h and h.tolist() == [0.0, 2.0]
        y.sum().backward()
        assert x.grad.tolist() == [0.0, 1.0]
        a = x * 1
        L.nn.functional.leaky_relu(a, 0.1, inplace=True)
        assert np.allclose(a.tolist(), [-0.1, 2.0])
        d = x * 1
        L.nn.Dropout(0.5, inplace=True).eval()(d)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            L.nn.functional.relu(x, inplace=True)
