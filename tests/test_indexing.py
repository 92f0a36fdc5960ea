"""Indexing: ``x[idx]`` in every form NumPy/PyTorch accept, its gradient (repeated indices
accumulate), and ``x[idx] = v`` in both modes (in place, and recorded out of place)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

BASE = np.arange(24.0).reshape(4, 3, 2)

INDICES = [
    (2, 2), (-1, -1), (slice(1, 3), slice(1, 3)), (slice(None, None, 2), slice(None, None, 2)),
    ((None, 0), (None, 0)), ((Ellipsis, 1), (Ellipsis, 1)), ((1, Ellipsis, None), (1, ..., None)),
    (cr.tensor(1), 1), (cr.tensor([0, 2, 2]), np.array([0, 2, 2])), ([3, 0], np.array([3, 0])),
    ((slice(None), cr.tensor([[0, 1], [2, 2]])), (slice(None), np.array([[0, 1], [2, 2]]))),
    (cr.tensor([True, False, True, True]), np.array([True, False, True, True])),
    (cr.tensor(BASE > 10), BASE > 10),
    ((cr.tensor([1, 2]), slice(None), cr.tensor([1, 0])),
     (np.array([1, 2]), slice(None), np.array([1, 0]))),
]


@pytest.mark.parametrize("idx, np_idx", INDICES, ids=range(len(INDICES)))
def test_getitem_matches_numpy_and_its_gradient_accumulates(idx, np_idx):
    x = cr.tensor(BASE, requires_grad=True)
    out = x[idx]
    expected = BASE[np_idx]
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    g = np.random.default_rng(0).standard_normal(expected.shape)
    out.backward(cr.from_numpy(g))
    want = np.zeros_like(BASE)
    np.add.at(want, np_idx, g)  # repeated indices add up
    np.testing.assert_allclose(x.grad.numpy(), want)


def test_repeated_index_gradient_counts_each_use():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_basic_indexing_is_a_view_on_plain_tensors():
    t = cr.zeros(3, 2)
    row = t[1]
    t[1, 0] = 5.0
    assert row[0].item() == 5.0 or row.tolist() == [0.0, 0.0]  # a view or a copy is allowed
    assert t[1, 0].item() == 5.0


def test_setitem_in_place_forms():
    y = cr.zeros(3)
    y[1] = 5.0
    y[cr.tensor([True, False, False])] = cr.tensor(2.0)
    assert y.tolist() == [2.0, 5.0, 0.0]
    z = cr.zeros(2, 3)
    z[:, 1] = cr.tensor([1.0, 2.0])
    z[0] = 7
    assert z.tolist() == [[7.0, 7.0, 7.0], [0.0, 2.0, 0.0]]
    i = cr.tensor([1, 2])
    i[0] = 3
    assert i.tolist() == [3, 2] and i.dtype == cr.int64


def test_setitem_under_no_grad_modifies_a_leaf_in_place():
    w = cr.zeros(2, 3, requires_grad=True)
    arr = w.detach().numpy()
    v0 = w._version
    with cr.no_grad():
        w[0, 0] = 1.0
    assert w.is_leaf and w.requires_grad and w._version == v0 + 1
    assert arr[0, 0] == 1.0  # the same memory


def test_setitem_recorded_out_of_place_gives_gradients_to_both_sides():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1.0
    y[:, 1] = v  # recorded: y takes the IndexPut history
    assert y.grad_fn is not None and y.grad_fn.name() == "IndexPutBackward0"
    np.testing.assert_array_equal(y.detach().numpy(), [[1, 10, 3], [4, 20, 6]])
    (y * cr.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 3], [1, 0, 3]])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 2.0])


def test_setitem_with_a_broadcast_value_sums_its_gradient():
    x = cr.zeros(3, 2, dtype=cr.float64)
    v = cr.tensor([1.5], dtype=cr.float64, requires_grad=True)
    x[1:] = v
    assert x.requires_grad
    x.sum().backward()
    assert v.grad.item() == 4.0


def test_setitem_after_a_saved_use_fails_loudly():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = w * 2
    b = a * a
    a[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_index_errors():
    x = cr.zeros(4, 3, 2)
    with pytest.raises(IndexError, match=r"index: index 5 is out of bounds for axis 0 with size 4 "
                                         r"\(tensor shape \(4, 3, 2\)\)"):
        x[5]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int or bool"):
        x[cr.tensor([0.0])]
    with pytest.raises(RuntimeError, match=r"^setitem: shape mismatch: a value of shape \(4,\) "
                                           r"cannot be broadcast to the indexed result of shape "
                                           r"\(3, 2\) \(tensor shape \(4, 3, 2\)\)$"):
        x[0] = cr.ones(4)
    y = cr.zeros(3) * cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: shape mismatch"):
        y[0:2] = cr.ones(3)


def test_gather_index_select_take_along_dim_masked_fill():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    g = x.gather(1, cr.tensor([[2, 0], [1, 1]]))
    assert g.tolist() == [[3.0, 1.0], [5.0, 5.0]]
    s = x.index_select(1, cr.tensor([2, 2]))
    assert s.tolist() == [[3.0, 3.0], [6.0, 6.0]]
    t = cr.take_along_dim(x, cr.tensor([[0], [2]]), 1)
    assert t.tolist() == [[1.0], [6.0]]
    m = x.masked_fill(x > 4, -1.0)
    assert m.tolist() == [[1.0, 2.0, 3.0], [4.0, -1.0, -1.0]]
    (g.sum() + s.sum() + t.sum() + m.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1 + 0 + 1 + 1, 0 + 1, 1 + 2 + 1],
                                                   [0 + 1, 2 + 0, 2 + 1]])
    with pytest.raises(RuntimeError, match="masked_fill: expected a bool mask"):
        x.masked_fill(cr.tensor([[1, 0, 1], [0, 0, 0]]), 0.0)


def test_scatter_writes_and_repeated_indices_do_not_add_up():
    src = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    index = cr.tensor([[0, 2, 2], [1, 1, 3]])
    out = cr.zeros(2, 4).scatter(1, index, src)
    # row 0: 1 at col 0, and one of {2, 3} at col 2; row 1: one of {4, 5} at col 1, 6 at col 3
    o = out.detach().numpy()
    assert o[0, 0] == 1.0 and o[0, 2] in (2.0, 3.0) and o[0, 1] == o[0, 3] == 0.0
    assert o[1, 1] in (4.0, 5.0) and o[1, 3] == 6.0 and o[1, 0] == o[1, 2] == 0.0
    out.sum().backward()
    g = src.grad.numpy()
    np.testing.assert_array_equal(g.sum(1), [2.0, 2.0])  # one gradient per written element
    filled = cr.ones(2, 4).scatter(1, cr.tensor([[3], [0]]), 7.5)
    assert filled.tolist() == [[1.0, 1.0, 1.0, 7.5], [7.5, 1.0, 1.0, 1.0]]
