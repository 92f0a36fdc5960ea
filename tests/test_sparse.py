"""chainrule.sparse: COO tensors, their products with dense matrices, and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import sparse as sparse_ops
from chainrule.ops.sparse import SparseMM

IDX = [[0, 1, 1, 0, 3], [2, 0, 0, 2, 1]]  # (0, 2) and (1, 0) appear twice


def _sp(values=(1.0, 2.0, 3.0, 4.0, 5.0), size=(4, 3), dtype=cr.float64, **kw):
    return cr.sparse_coo_tensor(IDX, cr.tensor(values, dtype=dtype), size, **kw)


def _t(torch, values=(1.0, 2.0, 3.0, 4.0, 5.0), size=(4, 3)):
    return torch.sparse_coo_tensor(torch.tensor(IDX), torch.tensor(values, dtype=torch.float64),
                                   size, check_invariants=True)


@pytest.fixture(params=["numpy", "scipy"])
def backend(request, monkeypatch):
    """Run a product test on both kernels: NumPy's sliced ELL, and SciPy's CSR if present."""
    if request.param == "numpy":
        monkeypatch.setattr(sparse_ops, "_SCIPY", False)
    else:
        pytest.importorskip("scipy.sparse")
        monkeypatch.setattr(sparse_ops, "_SCIPY", None)
    return request.param


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# -- construction and structure ---------------------------------------------------------------
def test_construction_structure_and_repr():
    s = _sp()
    assert s.is_sparse and not cr.ones(2).is_sparse
    assert s.layout is cr.sparse_coo and cr.ones(2).layout is cr.strided
    assert isinstance(s, cr.Tensor) and s.shape == (4, 3) and s.dtype == cr.float64
    assert (s.sparse_dim(), s.dense_dim(), s._nnz(), s.is_coalesced()) == (2, 0, 5, False)
    assert s.numel() == 12 and s.dim() == 2
    inferred = cr.sparse_coo_tensor(IDX, [1.0] * 5)
    assert inferred.shape == (4, 3) and inferred.dtype == cr.float32
    hybrid = cr.sparse_coo_tensor([[0, 2]], cr.ones(2, 3))
    assert hybrid.shape == (3, 3) and (hybrid.sparse_dim(), hybrid.dense_dim()) == (1, 1)
    text = repr(_sp(size=(4, 3)).coalesce())
    assert text.startswith("tensor(indices=tensor([[0, 1, 3],\n                       [2, 0, 1]]),"
                           "\n       values=tensor([5., 5., 5.], dtype=chainrule.float64),")
    assert "size=(4, 3), nnz=3, layout=chainrule.sparse_coo" in text
    assert "requires_grad=True" in repr(_sp(requires_grad=True))


def test_construction_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="for dim 0, size is 2 but found index 3"):
        cr.sparse_coo_tensor(IDX, [1.0] * 5, (2, 3))
    with pytest.raises(ValueError, match="indices have 5 entries .* values have 4"):
        cr.sparse_coo_tensor(IDX, [1.0] * 4, (4, 3))
    with pytest.raises(ValueError, match="indices must be 2-D"):
        cr.sparse_coo_tensor([0, 1], [1.0, 2.0], (2,))
    with pytest.raises(TypeError, match="indices must be integers"):
        cr.sparse_coo_tensor([[0.5]], [1.0], (2,))
    with pytest.raises(ValueError, match="size .* does not fit"):
        cr.sparse_coo_tensor(IDX, [1.0] * 5, (4, 3, 2))
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.sparse_coo_tensor(IDX, [1.0] * 5, (4, 3), device="cuda")


def test_to_dense_coalesce_indices_values_match_torch(torch):
    s, ts = _sp(), _t(torch)
    np.testing.assert_array_equal(_np(s.to_dense()), ts.to_dense().numpy())
    c, tc = s.coalesce(), ts.coalesce()
    assert c.is_coalesced() and c.coalesce() is c
    np.testing.assert_array_equal(c.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(_np(c.values()), tc.values().numpy())
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError, match=f"Cannot get {name} on an uncoalesced tensor"):
            getattr(s, name)()
    np.testing.assert_array_equal(s._indices().numpy(), IDX)
    hyb = cr.sparse_coo_tensor([[2, 0, 2]], cr.arange(6.0).reshape(3, 2), (4, 2))
    thyb = torch.sparse_coo_tensor(torch.tensor([[2, 0, 2]]), torch.arange(6.0).reshape(3, 2),
                                   (4, 2), check_invariants=True)
    np.testing.assert_array_equal(_np(hyb.to_dense()), thyb.to_dense().numpy())
    np.testing.assert_array_equal(_np(hyb.coalesce()._values()),
                                  thyb.coalesce().values().numpy())


@pytest.mark.parametrize("sparse_dim", [None, 1])
def test_to_sparse_matches_torch_and_is_differentiable(torch, sparse_dim):
    x = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, -1.0]])
    s = cr.tensor(x).to_sparse(sparse_dim) if sparse_dim else cr.tensor(x).to_sparse()
    ts = torch.tensor(x).to_sparse(sparse_dim) if sparse_dim else torch.tensor(x).to_sparse()
    assert s.is_coalesced() == ts.is_coalesced()
    np.testing.assert_array_equal(s.indices().numpy(), ts.indices().numpy())
    np.testing.assert_array_equal(_np(s.values()), ts.values().numpy())
    xt = cr.tensor(x, requires_grad=True)
    cr.sparse.mm(xt.to_sparse(), cr.ones(3, 2, dtype=cr.float64)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.sparse.mm(tx.to_sparse(), torch.ones(3, 2, dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), tx.grad.numpy())  # masked to the non-zeros
    d = cr.ones(2)
    assert d.to_dense() is d and d.sparse_dim() == 0 and d.dense_dim() == 1
    with pytest.raises(RuntimeError, match="is_coalesced expected sparse coordinate tensor"):
        d.is_coalesced()


# -- products ---------------------------------------------------------------------------------
def test_every_product_spelling_matches_torch(torch, backend):
    rng = np.random.default_rng(0)
    d = rng.standard_normal((3, 5))
    s, ts = _sp(), _t(torch)
    ref = torch.sparse.mm(ts, torch.tensor(d)).numpy()
    dt = cr.tensor(d)
    for out in (cr.sparse.mm(s, dt), cr.spmm(s, dt), cr.mm(s, dt), cr.matmul(s, dt), s @ dt,
                s.mm(dt), s.matmul(dt), s.coalesce() @ dt):
        np.testing.assert_allclose(_np(out), ref, rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(3)
    np.testing.assert_allclose(_np(s @ cr.tensor(v)), (ts @ torch.tensor(v)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(cr.sparse.addmm(cr.ones(4, 5, dtype=cr.float64), s, dt,
                                                   beta=0.5, alpha=2.0)),
                               torch.sparse.addmm(torch.ones(4, 5, dtype=torch.float64), ts,
                                                  torch.tensor(d), beta=0.5, alpha=2.0).numpy())
    np.testing.assert_allclose(_np(cr.mm(dt.T, dt)), d.T @ d)  # dense mm unchanged
    empty = cr.sparse_coo_tensor(np.zeros((2, 0), np.int64), cr.zeros(0, dtype=cr.float64),
                                 (4, 3))
    assert np.all(_np(empty @ dt) == 0) and (empty @ dt).shape == (4, 5)


def test_product_errors():
    s = _sp()
    with pytest.raises(RuntimeError, match=r"inner dimensions 3 and 4 differ"):
        s @ cr.ones(4, 2, dtype=cr.float64)
    with pytest.raises(RuntimeError, match="same dtype"):
        s @ cr.ones(3, 2)
    with pytest.raises(NotImplementedError, match="sparse @ sparse"):
        cr.sparse.mm(s, s.t())
    with pytest.raises(NotImplementedError, match="__rmatmul__|not supported"):
        cr.ones(2, 4, dtype=cr.float64) @ s


def _gcn(lib, a, x, w1, w2):
    h = lib.relu(lib.sparse.mm(a, x @ w1))
    return lib.sparse.mm(a, h @ w2).log_softmax(-1)


def test_gcn_layer_gradients_match_torch(torch, backend):
    """A two-layer GCN, A_hat @ relu(A_hat @ X W1) W2, on a random graph with self-loops and
    symmetric normalisation; learnable edge weights too. float64, to 1e-10."""
    rng = np.random.default_rng(1)
    n, f, h, c = 30, 6, 8, 3
    src, dst = rng.integers(0, n, 90), rng.integers(0, n, 90)
    idx = np.concatenate([np.stack([src, dst]), np.stack([dst, src]), np.stack([np.arange(n)] * 2)],
                         axis=1)
    deg = np.bincount(idx[0], minlength=n).astype(np.float64)
    w = 1.0 / np.sqrt(deg[idx[0]] * deg[idx[1]])
    x, w1, w2 = rng.standard_normal((n, f)), rng.standard_normal((f, h)), rng.standard_normal((h, c))
    y = rng.integers(0, c, n)
    mine = [cr.tensor(a, requires_grad=True) for a in (w, x, w1, w2)]
    ref = [torch.tensor(a, requires_grad=True) for a in (w, x, w1, w2)]
    a_mine = cr.sparse_coo_tensor(idx, mine[0], (n, n))
    a_ref = torch.sparse_coo_tensor(torch.tensor(idx), ref[0], (n, n), check_invariants=True)
    out_m = _gcn(cr, a_mine, *mine[1:])
    out_r = _gcn(torch, a_ref, *ref[1:])
    np.testing.assert_allclose(_np(out_m), out_r.detach().numpy(), rtol=1e-10, atol=1e-12)
    cr.nn.functional.nll_loss(out_m, cr.tensor(y)).backward()
    torch.nn.functional.nll_loss(out_r, torch.tensor(y)).backward()
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m.grad.numpy(), r.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sparse_leaf_grad_is_sparse_like_torch_sparse_mm(torch):
    d = np.arange(6.0).reshape(3, 2)
    s = _sp(requires_grad=True)
    (s @ cr.tensor(d)).pow(2).sum().backward()
    ts = _t(torch).requires_grad_(True)
    torch.sparse.mm(ts, torch.tensor(d)).pow(2).sum().backward()
    assert s.grad.is_sparse and s.grad.is_coalesced() and s.is_leaf
    tg = ts.grad.coalesce()
    np.testing.assert_array_equal(s.grad.indices().numpy(), tg.indices().numpy())
    np.testing.assert_allclose(_np(s.grad.values()), tg.values().numpy(), rtol=1e-12)
    v = cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=cr.float64, requires_grad=True)
    nonleaf = cr.sparse_coo_tensor(IDX, v, (4, 3))
    assert not nonleaf.is_leaf and nonleaf.grad is None


def test_sparse_mm_backward_and_forward_mode_are_exact(backend):
    rng = np.random.default_rng(2)
    vals = cr.tensor(rng.standard_normal(5), requires_grad=True)
    dense = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    pattern = _sp()._pattern()

    def f(v, d):
        return SparseMM.apply(v, d, pattern)

    assert cr.autograd.gradcheck(f, (vals, dense))
    assert cr.autograd.gradgradcheck(f, (vals, dense))
    tv, td = cr.tensor(rng.standard_normal(5)), cr.tensor(rng.standard_normal((3, 4)))
    _, jv = cr.func.jvp(f, (vals.detach(), dense.detach()), (tv, td))
    u = cr.tensor(rng.standard_normal((4, 4)))
    _, vjp_fn = cr.func.vjp(f, vals.detach(), dense.detach())
    gv, gd = vjp_fn(u)
    # <u, J t> == <J^T u, t>, no finite differences involved
    lhs = (u * jv).sum().item()
    rhs = (gv * tv).sum().item() + (gd * td).sum().item()
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))


def test_large_power_law_graph_matches_dense_product(backend):
    """Rows from empty to very long (several ELL slices), duplicates, and an inf in a row of
    D that only padding slots would touch."""
    rng = np.random.default_rng(3)
    n, nnz, p = 2000, 20000, 16
    rows = np.minimum((rng.pareto(1.2, nnz) * 20).astype(np.int64), n - 1)
    idx = np.stack([rows, rng.integers(1, n, nnz)])
    vals = rng.standard_normal(nnz)
    d = rng.standard_normal((n, p))
    d[0] = np.inf  # column 0 never appears in idx
    s = cr.sparse_coo_tensor(idx, cr.tensor(vals), (n, n))
    dense = np.zeros((n, n))
    np.add.at(dense, tuple(idx), vals)
    got = _np(s @ cr.tensor(d))
    assert np.isfinite(got).all()
    d[0] = 0
    np.testing.assert_allclose(got, dense @ d, rtol=1e-10, atol=1e-10)
    assert s._pattern().ell()[6] is False  # some rows do span several slices


# -- sums and arithmetic --------------------------------------------------------------------
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_sparse_sum_matches_torch(torch, dim):
    s, ts = _sp(), _t(torch)
    got = cr.sparse.sum(s) if dim is None else cr.sparse.sum(s, dim)
    ref = torch.sparse.sum(ts) if dim is None else torch.sparse.sum(ts, dim)
    assert got.is_sparse == ref.is_sparse
    if ref.is_sparse:
        assert got.is_coalesced() and tuple(got.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(got.indices().numpy(), ref.indices().numpy())
        np.testing.assert_allclose(_np(got.values()), ref.values().numpy())
    else:
        np.testing.assert_allclose(_np(got), ref.numpy())


def test_arithmetic_matches_torch(torch):
    s, ts = _sp(), _t(torch)
    s2, ts2 = _sp((5.0, 4.0, 3.0, 2.0, 1.0)), _t(torch, (5.0, 4.0, 3.0, 2.0, 1.0))
    d = np.arange(12.0).reshape(4, 3)
    cases = [(s + s2, ts + ts2), (s - s2, ts - ts2), (s * 2, ts * 2), (3 * s, 3 * ts),
             (s / 4, ts / 4), (-s, -ts), (s * cr.tensor(d), ts * torch.tensor(d)),
             (s.coalesce() + s2.coalesce(), ts.coalesce() + ts2.coalesce()), (s.t(), ts.t())]
    for got, ref in cases:
        assert got.is_sparse and got.is_coalesced() == ref.is_coalesced()
        np.testing.assert_allclose(_np(got.to_dense()), ref.to_dense().numpy())
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + cr.tensor(d)
    for got, ref in [(cr.tensor(d) + s, torch.tensor(d) + ts),
                     (cr.tensor(d) - s, torch.tensor(d) - ts)]:
        assert not got.is_sparse
        np.testing.assert_allclose(_np(got), ref.numpy())
    assert s.to(cr.float32).dtype == cr.float32 and s.double().dtype == cr.float64
    assert s.detach().is_sparse and s.clone()._nnz() == 5


def test_unsupported_operations_are_refused_clearly():
    s = _sp()
    with pytest.raises(NotImplementedError, match="Tensor.exp: not supported for sparse COO"):
        s.exp()
    with pytest.raises(NotImplementedError, match="sparse COO tensor"):
        cr.exp(s)
    with pytest.raises(NotImplementedError, match="sparse COO tensor"):
        cr.add(s, s)  # the dense function, not the sparse method
    with pytest.raises(NotImplementedError, match="sparse COO"):
        s[0]
    with pytest.raises(NotImplementedError, match="sparse COO"):
        s.backward()
    with pytest.raises(TypeError, match="NumPy array"):
        np.asarray(s)
    with pytest.raises(NotImplementedError, match="torch.sparse.softmax"):
        cr.sparse.softmax(s, 0)
    with pytest.raises(NotImplementedError, match="layout"):
        cr.ones(2, 2).to_sparse(layout="sparse_csr")
    with pytest.raises(AttributeError):
        _ = cr.sparse.no_such_function
