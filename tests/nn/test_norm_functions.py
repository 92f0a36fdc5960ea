"""Norm-based functions at and near zero against PyTorch: values and gradients of
cosine_similarity, normalize, pairwise_distance, pdist and their modules."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

DTYPES = {"float32": (np.float32, 2e-6), "float64": (np.float64, 1e-12)}


def _inputs(rng, shapes, dtype, zero_rows=(), tiny_rows=()):
    arrays = []
    for shape in shapes:
        a = rng.normal(size=shape).astype(dtype)
        for k in zero_rows:
            a[k] = 0
        for k, scale in tiny_rows:
            a[k] = a[k] * scale
        arrays.append(a)
    return arrays


def _compare(torch, ours, theirs, arrays, tol, seed=0):
    """Values and gradients (w.r.t. every input, with a random upstream gradient)."""
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    assert tuple(y.shape) == tuple(ty.shape) and str(y.dtype).split(".")[-1] == \
        str(ty.dtype).split(".")[-1]
    np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=tol, atol=tol)
    w = np.random.default_rng(seed).normal(size=ty.shape).astype(arrays[0].dtype)
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        # PyTorch leaves .grad None where the gradient is undefined-as-zero (p = 0 norms)
        g, tg = x.grad._data, np.zeros_like(t.detach().numpy()) if t.grad is None else \
            t.grad.numpy()
        assert np.isfinite(g).all()
        scale = max(np.abs(tg).max(), 1.0)
        np.testing.assert_allclose(g, tg, rtol=tol * 10, atol=tol * 10 * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["random", "x1 zero", "both zero", "tiny", "mixed scales"])
def test_cosine_similarity_at_and_near_zero(torch, dtype, case):
    np_dtype, tol = DTYPES[dtype]
    rng = np.random.default_rng(1)
    zero = {"x1 zero": [0, 2], "both zero": [1]}.get(case, [])
    tiny = {"tiny": [(0, 1e-10), (3, 1e-7)], "mixed scales": [(1, 1e-9), (2, 1e6)]}.get(case, [])
    a, b = _inputs(rng, [(4, 5), (4, 5)], np_dtype, zero, tiny)
    if case == "both zero":
        b[1] = 0
    _compare(torch, F.cosine_similarity, torch.nn.functional.cosine_similarity, [a, b], tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes, kw", [
    (((2, 1, 3), (4, 3)), {"dim": -1}),
    (((3, 4), (3, 4)), {"dim": 0}),
    (((2, 3, 4), (2, 3, 4)), {"dim": 1, "eps": 1e-3}),
    (((5,), (5,)), {"dim": 0}),
])
def test_cosine_similarity_broadcasting_and_dims(torch, dtype, shapes, kw):
    np_dtype, tol = DTYPES[dtype]
    a, b = _inputs(np.random.default_rng(2), shapes, np_dtype)
    a[..., 0] = 0  # some zero vectors along whichever dim
    _compare(torch, lambda x, y: F.cosine_similarity(x, y, **kw),
             lambda x, y: torch.nn.functional.cosine_similarity(x, y, **kw), [a, b], tol)


def test_cosine_similarity_zero_vector_gradient_is_finite():
    x1 = cr.zeros(1, 3, dtype=cr.float64, requires_grad=True)
    x2 = cr.tensor([[1.0, 2.0, 3.0]], dtype=cr.float64, requires_grad=True)
    F.cosine_similarity(x1, x2).sum().backward()
    np.testing.assert_allclose(x1.grad._data, [[1, 2, 3]] / (1e-8 * np.sqrt(14)), rtol=1e-12)
    assert np.array_equal(x2.grad._data, np.zeros((1, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("dim", [1, 0, -1, (0, 1)])
def test_normalize_at_and_near_zero(torch, dtype, p, dim):
    np_dtype, tol = DTYPES[dtype]
    (a,) = _inputs(np.random.default_rng(3), [(4, 3)], np_dtype, zero_rows=[1],
                   tiny_rows=[(2, 1e-14)])
    a[3, 0] = 0  # a zero entry in a non-zero vector
    _compare(torch, lambda x: F.normalize(x, p=p, dim=dim),
             lambda x: torch.nn.functional.normalize(x, p=p, dim=dim), [a], tol)


def test_normalize_out_and_errors(torch):
    x = cr.tensor([[3.0, 4.0]])
    out = cr.zeros(1, 2)
    assert F.normalize(x, out=out) is out and out.tolist() == [[0.6000000238418579,
                                                                  0.800000011920929]]
    with pytest.raises(RuntimeError, match="floating point"):
        F.normalize(cr.ones(3, dtype=cr.int64), dim=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), -1.0, 0.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_with_equal_rows(torch, dtype, p, keepdim):
    np_dtype, tol = DTYPES[dtype]
    a, b = _inputs(np.random.default_rng(4), [(4, 3), (4, 3)], np_dtype)
    b[0] = a[0]  # equal rows: the difference is eps
    b[2] = a[2] + np_dtype(1e-9)
    _compare(torch, lambda x, y: F.pairwise_distance(x, y, p=p, keepdim=keepdim),
             lambda x, y: torch.nn.functional.pairwise_distance(x, y, p=p, keepdim=keepdim),
             [a, b], tol)


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), (3,)), ((2, 1, 3), (4, 3))])
def test_pairwise_distance_broadcasting(torch, shapes):
    a, b = _inputs(np.random.default_rng(5), shapes, np.float64)
    _compare(torch, lambda x, y: F.pairwise_distance(x, y, eps=1e-3),
             lambda x, y: torch.nn.functional.pairwise_distance(x, y, eps=1e-3), [a, b], 1e-12)


def test_pairwise_distance_of_integers_is_float(torch):
    y = F.pairwise_distance(cr.ones(3, dtype=cr.int64), cr.zeros(3, dtype=cr.int64))
    ty = torch.nn.functional.pairwise_distance(torch.ones(3, dtype=torch.int64),
                                               torch.zeros(3, dtype=torch.int64))
    assert y.dtype == cr.float32 and y.item() == pytest.approx(ty.item(), rel=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0])
def test_pdist_with_duplicate_rows(torch, p):
    (a,) = _inputs(np.random.default_rng(6), [(5, 3)], np.float64)
    a[3] = a[1]  # a zero distance
    _compare(torch, lambda x: F.pdist(x, p), lambda x: torch.nn.functional.pdist(x, p), [a],
             1e-12)


def test_pdist_errors():
    with pytest.raises(RuntimeError, match="only supports 2D tensors, got: 3D"):
        F.pdist(cr.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="non-negative p"):
        F.pdist(cr.ones(2, 2), -1.0)


def test_cosine_similarity_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="floating point"):
        F.cosine_similarity(cr.ones(2, 3, dtype=cr.int64), cr.ones(2, 3, dtype=cr.int64))


def test_modules_match_torch(torch):
    a, b = _inputs(np.random.default_rng(7), [(3, 4), (3, 4)], np.float32)
    a[0] = 0
    _compare(torch, nn.CosineSimilarity(dim=0, eps=1e-6),
             torch.nn.CosineSimilarity(dim=0, eps=1e-6), [a, b], 2e-6)
    _compare(torch, nn.PairwiseDistance(p=1.0, keepdim=True),
             torch.nn.PairwiseDistance(p=1.0, keepdim=True), [a, b], 2e-6)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"
    assert nn.PairwiseDistance(3.0).norm == 3.0
