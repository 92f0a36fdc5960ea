"""Tensors print like PyTorch's: ``tensor([ 0.1000, -1.5000])``, dtype and autograd suffixes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("make, text", [
    (lambda: cr.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: cr.tensor([[0.1, -1.5]]), "tensor([[ 0.1000, -1.5000]])"),
    (lambda: cr.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: cr.tensor([[1, -2], [30, 4]]), "tensor([[ 1, -2],\n        [30,  4]])"),
    (lambda: cr.tensor([-1.0, 2.0]), "tensor([-1.,  2.])"),
    (lambda: cr.tensor(2.5, requires_grad=True), "tensor(2.5000, requires_grad=True)"),
    (lambda: cr.tensor(3), "tensor(3)"),
    (lambda: cr.tensor(0.0), "tensor(0.)"),
    (lambda: cr.zeros(2, 3), "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"),
    (lambda: cr.tensor([True, False]), "tensor([ True, False])"),
    (lambda: cr.tensor([True, True]), "tensor([True, True])"),
    (lambda: cr.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: cr.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: cr.tensor([[1.5, -200.25], [3.0, 4.0]]),
     "tensor([[   1.5000, -200.2500],\n        [   3.0000,    4.0000]])"),
    (lambda: cr.tensor([float("nan"), 1.5, float("-inf")]), "tensor([   nan, 1.5000,   -inf])"),
    (lambda: cr.tensor([1.0, 2.0], dtype=cr.float64), "tensor([1., 2.], dtype=chainrule.float64)"),
    (lambda: cr.tensor([1, 2], dtype=cr.int32), "tensor([1, 2], dtype=chainrule.int32)"),
    (lambda: cr.tensor([]), "tensor([])"),
    (lambda: cr.tensor([1.0, 2.0], requires_grad=True) * 2,
     "tensor([2., 4.], grad_fn=<MulBackward0>)"),
])
def test_repr(make, text):
    assert repr(make()) == text
    assert str(make()) == text


def test_grad_fn_names_follow_pytorch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr((x + 1).grad_fn) == "<AddBackward0>"
    assert (x.exp().sum()).grad_fn.name() == "SumBackward0"
    assert type(x.sum().grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"


def test_size_and_dtype_repr():
    assert repr(cr.zeros(2, 3).shape) == "chainrule.Size([2, 3])"
    assert repr(cr.float32) == "chainrule.float32"
    assert f"{cr.tensor(2.5):.2f}" == "2.50"


@pytest.mark.parametrize("values", [
    [[0.1, -1.5], [2.25, 3.0]], [1.0, 2.0, 3.0], [[1e-5, -1.0], [100.0, 2.0]], [0.0, 0.0],
    [-1.0, 2.0], [123456.0, 0.5], [1e9, 1.0], [float("nan"), 1.5, float("-inf")],
    [[1.5, -200.25], [3.0, 4.0]], 2.5, [[[1.0, 2.0]], [[3.0, -4.5]]],
])
def test_repr_matches_pytorch(torch, values):
    ours = repr(cr.tensor(values))
    theirs = repr(torch.tensor(values))
    assert ours == theirs
    ints = (np.asarray(values) * 4).astype(np.int64) if np.isfinite(values).all() else [1, -20]
    assert repr(cr.tensor(ints)) == repr(torch.tensor(ints))
