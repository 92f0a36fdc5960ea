"""Creation functions, dtypes by default, random generators and seeding, thread control."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_tensor_infers_pytorch_default_dtypes_and_copies():
    assert cr.tensor([1.0, 2.0]).dtype == cr.float32
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor([1, 2.5]).dtype == cr.float32
    assert cr.tensor(np.array([1.0])).dtype == cr.float64  # NumPy arrays keep their dtype
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 9.0
    assert t[0].item() == 1.0  # a copy
    t2 = cr.tensor(t)
    t2.data[1] = 7.0  # changing the copy's array leaves t alone
    assert t[1].item() == 2.0


def test_as_tensor_and_from_numpy_share_memory():
    a = np.array([1.0, 2.0])
    t = cr.from_numpy(a)
    a[0] = 5.0
    assert t[0].item() == 5.0 and t.dtype == cr.float64
    u = cr.as_tensor(a)
    a[1] = 6.0
    assert u[1].item() == 6.0
    assert cr.as_tensor(t) is t
    assert cr.as_tensor([1, 2]).dtype == cr.int64
    assert cr.as_tensor(a, dtype=cr.float32).dtype == cr.float32
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray, got list"):
        cr.from_numpy([1.0])


@pytest.mark.parametrize("fn, fill", [(cr.zeros, 0.0), (cr.ones, 1.0)])
def test_zeros_ones(fn, fill):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3) and t.dtype == cr.float32
        np.testing.assert_array_equal(t.numpy(), fill)
    assert fn(2, dtype=cr.int64).dtype == cr.int64
    assert fn(2, requires_grad=True).requires_grad
    assert fn(()).shape == ()


def test_full_empty_eye():
    np.testing.assert_array_equal(cr.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5))
    assert cr.full((2,), 7.5).dtype == cr.float32
    assert cr.full((2,), 7).dtype == cr.int64
    assert cr.full((2,), True).dtype == cr.bool
    assert cr.empty(3, 4).shape == (3, 4) and cr.empty(3).dtype == cr.float32
    np.testing.assert_array_equal(cr.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(cr.eye(2, 3).numpy(), np.eye(2, 3))


def test_arange_and_linspace():
    assert cr.arange(5).tolist() == [0, 1, 2, 3, 4] and cr.arange(5).dtype == cr.int64
    assert cr.arange(1, 7, 2).tolist() == [1, 3, 5]
    t = cr.arange(0, 1, 0.25)
    assert t.dtype == cr.float32 and t.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert cr.arange(3, dtype=cr.float64).dtype == cr.float64
    lin = cr.linspace(0, 1, 5)
    assert lin.dtype == cr.float32
    np.testing.assert_allclose(lin.numpy(), [0, 0.25, 0.5, 0.75, 1.0])


def test_random_creation_shapes_dtypes_and_ranges():
    r = cr.rand(1000)
    assert r.dtype == cr.float32 and 0 <= r.min().item() and r.max().item() < 1
    n = cr.randn(2000, dtype=cr.float64)
    assert n.dtype == cr.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    i = cr.randint(3, 7, (500,))
    assert i.dtype == cr.int64 and set(i.tolist()) == {3, 4, 5, 6}
    assert cr.randint(4, (2, 2)).shape == (2, 2)
    assert cr.randn(2, 3).shape == (2, 3) and cr.rand((4,)).shape == (4,)


def test_like_functions_keep_shape_and_dtype():
    base = cr.zeros(2, 3, dtype=cr.float64)
    for t, fill in ((cr.zeros_like(base), 0), (cr.ones_like(base), 1),
                    (cr.full_like(base, 3.5), 3.5)):
        assert t.shape == (2, 3) and t.dtype == cr.float64
        np.testing.assert_array_equal(t.numpy(), fill)
    assert cr.empty_like(base).shape == (2, 3)
    assert cr.rand_like(base).dtype == cr.float64
    assert cr.randn_like(base).shape == (2, 3)
    assert cr.zeros_like(base, dtype=cr.int64).dtype == cr.int64
    ri = cr.randint_like(cr.zeros(50, dtype=cr.int64), 2, 4)
    assert set(ri.tolist()) <= {2, 3}


def _draws(generator=None):
    return np.concatenate([
        cr.rand(3, generator=generator).numpy(), cr.randn(3, generator=generator).numpy(),
        cr.randint(0, 100, (3,), generator=generator).numpy().astype(np.float32),
        cr.randperm(5, generator=generator).numpy().astype(np.float32)])


def test_manual_seed_makes_draws_bit_for_bit_repeatable():
    cr.manual_seed(123)
    a = _draws()
    cr.manual_seed(123)
    b = _draws()
    assert a.tobytes() == b.tobytes()
    cr.manual_seed(124)
    assert _draws().tobytes() != a.tobytes()
    assert cr.initial_seed() == 124


def test_generator_objects_are_independent_and_seedable():
    g1 = cr.Generator().manual_seed(7)
    g2 = cr.Generator()
    g2.manual_seed(7)
    cr.manual_seed(0)
    a = _draws(g1)
    cr.rand(10)  # the global generator does not disturb g2
    b = _draws(g2)
    assert a.tobytes() == b.tobytes()
    assert g1.initial_seed() == 7
    s = g1.seed()
    assert g1.initial_seed() == s
    g3 = cr.Generator().manual_seed(s)
    assert _draws(g1).tobytes() == _draws(g3).tobytes()


def test_rng_state_round_trip():
    state = cr.get_rng_state()
    a = cr.randn(4).numpy().copy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(cr.randn(4).numpy(), a)


def test_set_and_get_num_threads():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
    finally:
        cr.set_num_threads(before)
    assert cr.get_num_threads() == before
    with pytest.raises(ValueError, match="set_num_threads: expected a positive number"):
        cr.set_num_threads(0)


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match=r"invalid size \(2, -1\)"):
        cr.zeros(2, -1)
