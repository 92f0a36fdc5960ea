"""Matrix-structure functions, einsum and chainrule.linalg: values, gradients and forward
derivatives against torch (float64), and batching under vmap."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 4))
S = RNG.standard_normal((2, 3, 3))
SPD = S @ S.transpose(0, 2, 1) + 3 * np.eye(3)

CASES = [
    ("diag_vec", lambda L, x: L.diag(x[0], 1)),
    ("diag_mat", lambda L, x: L.diag(x, -1)),
    ("diagonal", lambda L, x: L.diagonal(x, 1, 1, 0)),
    ("diag_embed", lambda L, x: L.diag_embed(x, -1, 0, 2)),
    ("diagflat", lambda L, x: L.diagflat(x, 1)),
    ("tril_triu", lambda L, x: L.tril(x, -1) + 2 * L.triu(x, 1) + x.tril()),
    ("trace", lambda L, x: L.trace(x)),
    ("kron", lambda L, x: L.kron(x, x[:2, :2])),
    ("block_diag", lambda L, x: L.block_diag(x, x[:2, :2], x[0])),
    ("cdist", lambda L, x: L.cdist(x, x[:2] * 2)),
    ("cdist_p", lambda L, x: L.cdist(x, x[:2] + 0.1, p=1.5)),
    ("cartesian_prod", lambda L, x: L.cartesian_prod(x[0], x[1, :2])),
    ("combinations", lambda L, x: L.combinations(x[0], 3) + L.combinations(
        x[1], 3, with_replacement=True)[:4]),
    ("cross", lambda L, x: L.linalg.cross(x[:, :3], x[:, 1:]) + L.cross(x[:, :3], x[:, 1:])),
    ("einsum_implicit", lambda L, x: L.einsum("ij,kj", x, x)),
    ("einsum_ellipsis", lambda L, x: L.einsum("...j,kj->...k", x, x)),
    ("einsum_trace_diag", lambda L, x: L.einsum("ii", x[:, :3]) * L.einsum("ii->i", x[:, :3])),
    ("einsum_chain", lambda L, x: L.einsum("ij,jk,kl->il", x, x.T, x)),
    ("einsum_sublist", lambda L, x: L.einsum(x, [0, 1], x, [2, 1], [0, 2])),
    ("einsum_outer_bcast", lambda L, x: L.einsum("bi,bj->bij", x, x[:1])),
    ("vector_norm", lambda L, x: L.linalg.vector_norm(x, 3, dim=1)),
    ("vector_norm_inf", lambda L, x: L.linalg.vector_norm(x, float("inf"))),
    ("matrix_norms", lambda L, x: L.linalg.matrix_norm(x) + L.linalg.matrix_norm(x, 1)
        + L.linalg.matrix_norm(x, -float("inf")) + L.linalg.matrix_norm(x, "nuc")
        + L.linalg.matrix_norm(x, 2) + L.linalg.norm(x)),
]

SQ = [
    ("det", lambda L, m: L.linalg.det(m) + L.det(m)),
    ("slogdet", lambda L, m: L.linalg.slogdet(m)[1] + L.logdet(m)),
    ("inv", lambda L, m: L.linalg.inv(m) + L.inverse(m)),
    ("solve", lambda L, m: L.linalg.solve(m, m[..., :2]) + L.linalg.solve(m, m[..., 0:1, :],
                                                                          left=False).sum()),
    ("cholesky", lambda L, m: L.linalg.cholesky(m) + L.linalg.cholesky(m, upper=True)),
    ("eigh", lambda L, m: L.linalg.eigh(m)[0] + L.linalg.eigvalsh(m)),
    ("eigh_vectors", lambda L, m: L.linalg.eigh(m)[1].abs()),
    ("matrix_power", lambda L, m: L.linalg.matrix_power(m, 3) + L.linalg.matrix_power(m, -1)),
]


def _compare(torch, fn, x, tol=1e-9):
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    oc, ot = fn(cr, xc), fn(torch, xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    w = RNG.standard_normal(tuple(ot.shape))
    (oc * cr.tensor(w)).sum().backward()
    (ot * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    v = RNG.standard_normal(x.shape)
    jc = func.jvp(lambda a: fn(cr, a), (cr.tensor(x),), (cr.tensor(v),))[1]
    try:
        jt = torch.func.jvp(lambda a: fn(torch, a), (torch.tensor(x),), (torch.tensor(v),))[1]
    except NotImplementedError:  # torch has no forward rule (cdist): <w, J v> = <J^T w, v>
        np.testing.assert_allclose((jc.numpy() * w).sum(), (xc.grad.numpy() * v).sum())
        return
    np.testing.assert_allclose(jc.numpy(), jt.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_structure_functions_match_torch(torch, name, fn):
    _compare(torch, fn, A)


@pytest.mark.parametrize("name,fn", SQ, ids=[c[0] for c in SQ])
def test_linalg_matches_torch(torch, name, fn):
    _compare(torch, fn, SPD)


def test_indices_vander_and_errors(torch):
    for r, c, o in ((3, 4, 1), (4, 3, -1), (3, 3, 0)):
        np.testing.assert_array_equal(cr.tril_indices(r, c, o).numpy(),
                                      torch.tril_indices(r, c, o).numpy())
        np.testing.assert_array_equal(cr.triu_indices(r, c, o).numpy(),
                                      torch.triu_indices(r, c, o).numpy())
    x = A[0]
    np.testing.assert_allclose(cr.vander(cr.tensor(x), 3, increasing=True).numpy(),
                               torch.vander(torch.tensor(x), 3, increasing=True).numpy())
    with pytest.raises(RuntimeError, match="1D or 2D"):
        cr.diag(cr.zeros(2, 2, 2))
    with pytest.raises(RuntimeError, match="singular"):
        cr.linalg.inv(cr.zeros(2, 2))
    with pytest.raises(RuntimeError, match="square"):
        cr.linalg.det(cr.zeros(2, 3))
    with pytest.raises(RuntimeError, match="sizes don't match"):
        cr.einsum("ii", cr.zeros(2, 3))


def test_linalg_batches_under_vmap_without_fallback(torch):
    import warnings

    f = lambda L, m: (L.linalg.slogdet(m)[1] + L.linalg.eigh(m)[0].sum()  # noqa: E731
                      + L.linalg.solve(m, m[:, :1]).sum() + L.linalg.cholesky(m).sum()
                      + L.linalg.inv(m).sum() + L.linalg.det(m))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = func.vmap(func.grad(lambda m: f(cr, m)))(cr.tensor(SPD))
    want = torch.func.vmap(torch.func.grad(lambda m: f(torch, m)))(torch.tensor(SPD))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-8)


def test_second_derivatives_and_vmap(torch):
    f = lambda L, m: L.linalg.slogdet(m)[1] + (L.linalg.inv(m) * m.tril()).sum()  # noqa: E731
    hc = func.hessian(lambda m: f(cr, m))(cr.tensor(SPD[0]))
    ht = torch.func.hessian(lambda m: f(torch, m))(torch.tensor(SPD[0]))
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-7, atol=1e-9)
    g = lambda L, m: L.einsum("ij,jk->ik", m, m).diagonal().sum() + L.linalg.det(m)  # noqa: E731
    np.testing.assert_allclose(
        func.vmap(func.grad(lambda m: g(cr, m)))(cr.tensor(SPD)).numpy(),
        torch.func.vmap(torch.func.grad(lambda m: g(torch, m)))(torch.tensor(SPD)).numpy(),
        rtol=1e-9)


def test_tensor_methods_exist():
    m = cr.tensor(SPD[0])
    for name in ("diag", "diagonal", "diag_embed", "tril", "triu", "trace", "det", "logdet",
                 "inverse", "cholesky", "kron", "matrix_power"):
        assert hasattr(m, name), name
    np.testing.assert_allclose(m.trace().item(), np.trace(SPD[0]))
