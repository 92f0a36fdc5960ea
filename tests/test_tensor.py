"""The Tensor's attributes, conversions, autograd bookkeeping and PyTorch type promotion."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_shape_attributes():
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, cr.Size)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == x.ndim == 3
    assert x.numel() == 24 and cr.numel(x) == 24 and x.shape.numel() == 24
    assert len(x) == 2
    assert cr.tensor(5.0).dim() == 0 and cr.tensor(5.0).shape == ()
    with pytest.raises(IndexError, match="size: dimension out of range"):
        x.size(3)


def test_item_tolist_numpy_and_python_conversions():
    assert cr.tensor(2.5).item() == 2.5
    assert isinstance(cr.tensor(3).item(), int)
    assert cr.tensor([[1]]).item() == 1
    assert cr.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(3)) == 3 and bool(cr.tensor(1))
    t = cr.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 9.0  # numpy() shares memory, like PyTorch
    assert t[0].item() == 9.0
    assert isinstance(np.asarray(t), np.ndarray)
    assert [r.tolist() for r in cr.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_detach_clone_contiguous():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 2)))
    t = x.T
    assert not t.is_contiguous()
    tc = t.contiguous()
    assert tc.is_contiguous()
    np.testing.assert_array_equal(tc.detach().numpy(), [[1, 3], [2, 4]])
    assert x.contiguous() is x


def test_requires_grad_grad_is_leaf_grad_fn_data():
    x = cr.zeros(2)
    assert not x.requires_grad and x.grad is None and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert x.data.requires_grad is False
    assert x.data.numpy() is x.detach().numpy() or np.shares_memory(x.data.numpy(),
                                                                    x.detach().numpy())
    with pytest.raises(RuntimeError, match="use .detach()"):
        y.requires_grad_(False)
    x.data = cr.ones(2)  # replacing the data keeps the leaf
    assert x.requires_grad and x.detach().tolist() == [1.0, 1.0]


def test_transposes():
    x = cr.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(x.T.numpy(), np.arange(6.0).reshape(2, 3).T)
    b = cr.arange(24.0).reshape(2, 3, 4)
    assert b.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(b.mT.numpy(), np.swapaxes(np.arange(24.0).reshape(2, 3, 4), 1, 2))


def test_dtype_conversions():
    x = cr.tensor([1.7, -2.2])
    assert x.float() is x
    assert x.double().dtype == cr.float64
    assert x.long().dtype == cr.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == cr.int32
    assert x.bool().dtype == cr.bool and x.bool().tolist() == [True, True]
    assert x.to(cr.float64).dtype == cr.float64
    assert x.to("cpu") is x
    assert x.to(cr.zeros(1, dtype=cr.int32)).dtype == cr.int32
    assert x.type_as(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64
    assert x.is_floating_point() and not x.long().is_floating_point()


def test_dtype_conversion_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == cr.float64
    y.sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert not x.long().requires_grad


@pytest.mark.parametrize("make, dtype", [
    (lambda: cr.tensor([1.0, 2.0]) * 2.5, cr.float32),  # a Python float never widens
    (lambda: cr.tensor([1.0, 2.0]) * np.float64(2.5), cr.float32),
    (lambda: cr.tensor([1, 2]) + 0.5, cr.float32),  # int tensor + float -> default float
    (lambda: cr.tensor([1, 2]) * 2, cr.int64),
    (lambda: cr.tensor([1, 2]) / 2, cr.float32),  # true division
    (lambda: cr.tensor([1, 2]) // 2, cr.int64),
    (lambda: cr.tensor([1, 2]) + cr.tensor([1.0, 2.0]), cr.float32),  # int64 + float32
    (lambda: cr.tensor([1.0]) + cr.tensor(1.0, dtype=cr.float64), cr.float32),  # 0-dim
    (lambda: cr.tensor([1.0]) + cr.tensor([1.0], dtype=cr.float64), cr.float64),
    (lambda: cr.tensor([1, 2]) + cr.tensor(1.5, dtype=cr.float64), cr.float64),  # higher kind
    (lambda: cr.tensor([1], dtype=cr.int32) + cr.tensor(5), cr.int32),
    (lambda: cr.tensor([1], dtype=cr.uint8) + cr.tensor([1], dtype=cr.int8), cr.int16),
    (lambda: cr.tensor([True]) + 1, cr.int64),
    (lambda: cr.tensor([True]) * 2.5, cr.float32),
    (lambda: cr.tensor(2) + 2.5, cr.float32),
    (lambda: cr.tensor([1.0], dtype=cr.float16) + cr.tensor(1.0, dtype=cr.float64), cr.float16),
    (lambda: 2 ** cr.tensor([1, 2]), cr.int64),
    (lambda: cr.tensor([1, 2]).sum(), cr.int64),
    (lambda: cr.tensor([True, False]).sum(), cr.int64),
])
def test_type_promotion_follows_pytorch(make, dtype):
    assert make().dtype == dtype


def test_type_promotion_matches_torch(torch):
    cases = [(np.float32, 2.5), (np.int64, 0.5), (np.int32, 3), (np.bool_, 1.5), (np.uint8, 3)]
    for dt, scalar in cases:
        a = np.array([1, 2]).astype(dt)
        ours = (cr.from_numpy(a) * scalar).dtype.name
        theirs = str((torch.from_numpy(a) * scalar).dtype).replace("torch.", "")
        assert ours == theirs, (dt, scalar)
    dts = [np.float32, np.float64, np.int64, np.int32, np.bool_]
    for da in dts:
        for db in dts:
            for zero_dim in (False, True):
                a = np.ones(2, da)
                b = np.ones(() if zero_dim else 2, db)
                ours = (cr.from_numpy(a) + cr.from_numpy(b)).dtype.name
                theirs = str((torch.from_numpy(a) + torch.from_numpy(b)).dtype)
                assert ours == theirs.replace("torch.", ""), (da, db, zero_dim)


def test_clamp_of_integer_tensors():
    i = cr.tensor([[1, 2], [3, 4]])
    assert i.clamp(2, 3).tolist() == [[2, 2], [3, 3]] and i.clamp(2, 3).dtype == cr.int64
    f = i.clamp(min=2.5)
    assert f.dtype == cr.float32 and f.tolist() == [[2.5, 2.5], [3.0, 4.0]]


def test_in_place_ops_under_no_grad_bump_the_version():
    w = cr.ones(3, requires_grad=True)
    v0 = w._version
    with cr.no_grad():
        w.mul_(2.0).add_(1.0)
        w.sub_(cr.ones(3), alpha=0.5)
    np.testing.assert_array_equal(w.detach().numpy(), [2.5, 2.5, 2.5])
    assert w._version == v0 + 3
    z = cr.zeros(2)
    z.fill_(3.0)
    z.zero_()
    assert z.tolist() == [0.0, 0.0]


def test_not_picklable():
    with pytest.raises(TypeError, match="not picklable"):
        cr.zeros(2).__reduce_ex__(2)  # what pickle would call
