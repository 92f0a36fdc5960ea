"""Triangular solves, the LU family, Cholesky/inverse/solve with info, Householder
products, tensorinv/tensorsolve, vander and the top-level aliases, against PyTorch in
float64 (values, gradients, JVPs, vmap); the single Solve primitive."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func
from tests.test_linalg_decomp import RNG, check

SQUARE = RNG.normal(size=(5, 5))
RHS = RNG.normal(size=(5, 2))
SPD = SQUARE @ SQUARE.T + np.eye(5)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_matches_torch(torch, upper, left, unit):
    A = SQUARE + 3 * np.eye(5)  # the other triangle is not read: it must get no gradient
    B = RHS if left else RHS.T
    check(torch, lambda L, a, b: L.linalg.solve_triangular(a, b, upper=upper, left=left,
                                                           unitriangular=unit), A, B)


def test_solve_triangular_broadcasts_and_checks(torch):
    A = np.triu(RNG.normal(size=(2, 1, 4, 4))) + 2 * np.eye(4)
    B = RNG.normal(size=(3, 4, 2))
    c = cr.linalg.solve_triangular(cr.tensor(A), cr.tensor(B), upper=True)
    t = torch.linalg.solve_triangular(torch.tensor(A), torch.tensor(B), upper=True)
    np.testing.assert_allclose(c.numpy(), t.numpy(), atol=1e-12)
    singular = cr.tensor([[1.0, 2.0], [0.0, 0.0]])
    assert not np.isfinite(cr.linalg.solve_triangular(singular, cr.ones(2, 1), upper=True)
                           .numpy()).all()
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.linalg.solve_triangular(cr.tensor(A[0, 0]), cr.ones(4, dtype=cr.float64), upper=True)
    with pytest.raises(TypeError):
        cr.linalg.solve_triangular(cr.tensor(A[0, 0]), cr.tensor(B[0]))  # upper is required


@pytest.mark.parametrize("shape", [(5, 5), (5, 3), (3, 5), (2, 4, 4)],
                         ids=lambda s: "x".join(map(str, s)))
def test_lu_factor_and_lu_match_torch(torch, shape):
    A = RNG.normal(size=shape)
    check(torch, lambda L, a: list(L.linalg.lu_factor(a)), A)  # pivots compared exactly
    check(torch, lambda L, a: list(L.linalg.lu(a)), A)
    LU, piv, info = cr.linalg.lu_factor_ex(cr.tensor(A))
    assert piv.dtype == cr.int32 and info.dtype == cr.int32 and not info.numpy().any()


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_matches_torch(torch, left, adjoint):
    B = RHS if left else RHS.T
    check(torch, lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=left,
                                                   adjoint=adjoint), SQUARE, B)


def test_lu_singular_and_unpack(torch):
    S = np.array([[1.0, 2.0], [2.0, 4.0]])
    LU, piv, info = cr.linalg.lu_factor_ex(cr.tensor(S))
    LUt, pivt, infot = torch.linalg.lu_factor_ex(torch.tensor(S))
    assert info.item() == infot.item() == 2 and piv.tolist() == pivt.tolist()
    with pytest.raises(RuntimeError, match=r"U\[2,2\] is zero"):
        cr.linalg.lu_factor(cr.tensor(S))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): U\[2,2\] is zero"):
        cr.linalg.lu_factor(cr.tensor(np.stack([np.eye(2), S])))
    with pytest.raises(RuntimeError, match="without pivoting"):
        cr.linalg.lu_factor(cr.tensor(S), pivot=False)
    A = RNG.normal(size=(4, 3))
    for kw in ({}, {"unpack_data": False}, {"unpack_pivots": False}):
        c = cr.lu_unpack(*cr.linalg.lu_factor(cr.tensor(A)), **kw)
        t = torch.lu_unpack(*torch.linalg.lu_factor(torch.tensor(A)), **kw)
        for a, b in zip(c, t):
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_cholesky_ex_inv_ex_solve_ex(torch):
    bad = np.array([[4.0, 2, 0], [2, 1, 3], [0, 3, 1]])
    for X in (SPD, bad):
        c, t = cr.linalg.cholesky_ex(cr.tensor(X)), torch.linalg.cholesky_ex(torch.tensor(X))
        np.testing.assert_allclose(c.L.numpy(), t.L.numpy(), atol=1e-12)
        assert c.info.dtype == cr.int32 and c.info.item() == t.info.item()
    check(torch, lambda L, a: L.linalg.cholesky_ex(a, upper=True).L, SPD)
    with pytest.raises(cr.linalg.LinAlgError, match="leading minor of order 2"):
        cr.linalg.cholesky_ex(cr.tensor(bad), check_errors=True)
    with pytest.raises(cr.linalg.LinAlgError, match=r"\(Batch element 1\).*order 2"):
        cr.linalg.cholesky(cr.tensor(np.stack([SPD[:3, :3], bad])))
    check(torch, lambda L, a: L.linalg.inv_ex(a).inverse, SQUARE)
    check(torch, lambda L, a, b: L.linalg.solve_ex(a, b).result, SQUARE, RHS[:, 0])
    S = np.array([[1.0, 2.0], [2.0, 4.0]])
    for name in ("inv_ex", "solve_ex"):
        args = (S,) if name == "inv_ex" else (S, np.ones(2))
        c = getattr(cr.linalg, name)(*[cr.tensor(a) for a in args])
        t = getattr(torch.linalg, name)(*[torch.tensor(a) for a in args])
        np.testing.assert_array_equal(c[0].numpy(), t[0].numpy())  # +-inf where torch has
        assert c.info.item() == t.info.item() == 2
    with pytest.raises(cr.linalg.LinAlgError, match="diagonal element 2 is zero"):
        cr.linalg.inv_ex(cr.tensor(S), check_errors=True)
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.solve(cr.tensor(S), cr.ones(2, dtype=cr.float64))


def test_cholesky_solve_and_inverse_match_torch(torch):
    L = np.linalg.cholesky(SPD)
    for upper in (False, True):
        F = L.T if upper else L
        check(torch, lambda M, f, b: M.cholesky_solve(b, f, upper=upper), F, RHS)
        check(torch, lambda M, f: M.cholesky_inverse(f, upper=upper), F, jvp=False)
        # PyTorch 2.13's cholesky_inverse JVP is off (0.2 here); a finite difference decides
        T = RNG.normal(size=(5, 5))
        _, jc = func.jvp(lambda f: cr.cholesky_inverse(f, upper=upper), (cr.tensor(F),),
                         (cr.tensor(T),))

        def f(x):
            return np.linalg.inv(x.T @ x if upper else x @ x.T)

        fd = (f(F + 1e-6 * T) - f(F - 1e-6 * T)) / 2e-6
        np.testing.assert_allclose(jc.numpy(), fd, atol=1e-7)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.cholesky_solve(cr.ones(5, dtype=cr.float64), cr.tensor(L))


def test_householder_geqrf_orgqr_ormqr_match_torch(torch):
    A = RNG.normal(size=(5, 3))
    h, tau = cr.geqrf(cr.tensor(A))
    ht, taut = torch.geqrf(torch.tensor(A))
    np.testing.assert_allclose(h.numpy(), ht.numpy(), atol=1e-12)
    np.testing.assert_allclose(tau.numpy(), taut.numpy(), atol=1e-12)
    check(torch, lambda L, a, t: L.linalg.householder_product(a, t), ht.numpy(), taut.numpy())
    np.testing.assert_allclose(cr.orgqr(h, tau).numpy(), torch.orgqr(ht, taut).numpy(),
                               atol=1e-12)
    C = RNG.normal(size=(5, 2))
    for left, transpose in ((True, False), (True, True), (False, False), (False, True)):
        other = C if left else C.T
        check(torch, lambda L, a, t, c: L.ormqr(a, t, c, left=left, transpose=transpose),
              ht.numpy(), taut.numpy(), other, jvp=False)  # torch has no ormqr JVP


def test_tensorinv_tensorsolve_vander_match_torch(torch):
    M = np.linalg.qr(RNG.normal(size=(6, 6)))[0] + 0.5 * np.eye(6)
    check(torch, lambda L, a: L.linalg.tensorinv(a.reshape(2, 3, 6), ind=2), M)
    check(torch, lambda L, a, b: L.linalg.tensorsolve(a.reshape(6, 2, 3), b), M, RHS[:, 0].repeat(2)[:6])
    check(torch, lambda L, a, b: L.linalg.tensorsolve(a.reshape(2, 3, 6), b, dims=(0, 1)), M,
          RHS[:, 0].repeat(2)[:6])
    with pytest.raises(RuntimeError, match="prod"):
        cr.linalg.tensorinv(cr.ones(2, 3, 2, dtype=cr.float64))
    check(torch, lambda L, x: L.linalg.vander(x, N=4), RNG.normal(size=(2, 3)))
    assert cr.linalg.vander(cr.tensor([1, 2, 3])).tolist() == \
        torch.linalg.vander(torch.tensor([1, 2, 3])).tolist()
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        cr.linalg.vander(cr.ones(2), N=0)


def test_top_level_aliases_match_torch(torch):
    A = np.triu(SQUARE) + 3 * np.eye(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for upper, transpose, unit in ((True, False, False), (True, True, False),
                                       (False, True, True)):
            M = A if upper else A.T

            def f(L, b, m):
                return list(L.triangular_solve(b, m, upper=upper, transpose=transpose,
                                               unitriangular=unit))

            # PyTorch 2.13's triangular_solve JVP reads the whole tangent (its forward and VJP
            # only the triangle) and ignores ``transpose``: a finite difference decides there
            check(torch, f, RHS, M, jvp=False)
            T = RNG.normal(size=(5, 5))
            _, (jc, _) = func.jvp(lambda m: tuple(f(cr, cr.tensor(RHS), m)), (cr.tensor(M),),
                                  (cr.tensor(T),))

            def ref(m):
                m = np.triu(m) if upper else np.tril(m)
                if unit:
                    np.fill_diagonal(m, 1.0)
                return np.linalg.solve(m.T if transpose else m, RHS)

            fd = (ref(M + 1e-6 * T) - ref(M - 1e-6 * T)) / 2e-6
            np.testing.assert_allclose(jc.numpy(), fd, atol=1e-7)
        check(torch, lambda L, a: list(L.lu(a)), SQUARE)
        c = cr.lu(cr.tensor(SQUARE), get_infos=True)
        assert len(c) == 3 and c[2].item() == 0
        check(torch, lambda L, b, a: L.lu_solve(b, *L.linalg.lu_factor(a)), RHS, SQUARE)
        check(torch, lambda L, b, a: b.lu_solve(*L.linalg.lu_factor(a)), RHS, SQUARE)
    with pytest.warns(UserWarning, match="deprecated"):
        cr.linalg_legacy._WARNED.clear()
        cr.triangular_solve(cr.tensor(RHS), cr.tensor(A))
    t = cr.tensor(SQUARE)
    for name in ("svd", "qr", "pinverse", "matrix_exp", "triangular_solve", "cholesky_solve",
                 "cholesky_inverse", "lu", "lu_solve", "geqrf", "orgqr", "ormqr", "lstsq",
                 "eig", "symeig"):
        assert callable(getattr(t, name))


def test_every_torch_linalg_function_exists(torch):
    names = {n for n in dir(torch.linalg) if not n.startswith("_")}
    assert names - set(dir(cr.linalg)) <= {"common_notes"}


def test_ldl_factor_matches_torch_pivots_and_factors(torch):
    """Bunch-Kaufman pivoting gives LAPACK's sytrf output exactly (1x1 and 2x2 blocks,
    negative pivots), over many random symmetric indefinite matrices."""
    for t in range(60):
        n = int(RNG.integers(1, 7))
        A = RNG.normal(size=(n, n))
        A = A + A.T
        if t % 3 == 0:
            A[0, 0] = 1e-3  # forces a 2x2 block or an interchange
        c = cr.linalg.ldl_factor(cr.tensor(A))
        r = torch.linalg.ldl_factor(torch.tensor(A))
        assert c.pivots.dtype == cr.int32 and c.pivots.tolist() == r.pivots.tolist()
        np.testing.assert_allclose(c.LD.numpy(), r.LD.numpy(), atol=1e-10)
    B = RNG.normal(size=(2, 4, 4))
    B = B + B.transpose(0, 2, 1)
    X = RNG.normal(size=(2, 4, 3))
    LD, piv = cr.linalg.ldl_factor(cr.tensor(B))
    np.testing.assert_allclose(cr.linalg.ldl_solve(LD, piv, cr.tensor(X)).numpy(),
                               np.linalg.solve(B, X), atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched by the leading-dims rule
        v = func.vmap(lambda a, x: cr.linalg.ldl_solve(*cr.linalg.ldl_factor(a), x))(
            cr.tensor(B), cr.tensor(X))
    np.testing.assert_allclose(v.numpy(), np.linalg.solve(B, X), atol=1e-10)


def test_ldl_errors_and_no_derivative(torch):
    LD, piv, info = cr.linalg.ldl_factor_ex(cr.zeros(3, 3, dtype=cr.float64))
    assert piv.tolist() == [1, 2, 3] and info.item() == 1
    with pytest.raises(cr.linalg.LinAlgError, match="exactly singular"):
        cr.linalg.ldl_factor(cr.zeros(3, 3, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="square"):
        cr.linalg.ldl_factor(cr.ones(2, 3, dtype=cr.float64))
    LD, piv = cr.linalg.ldl_factor(cr.eye(3, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        cr.linalg.ldl_solve(LD, piv, cr.ones(3, 1))
    x = cr.ones(3, 1, dtype=cr.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve"):
        cr.linalg.ldl_solve(LD, piv, x).sum().backward()
    a = cr.eye(3, dtype=cr.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
        cr.linalg.ldl_factor(a).LD.sum().backward()


def test_vmap_of_lu_family_has_no_fallback(torch):
    A = RNG.normal(size=(3, 4, 4)) + 3 * np.eye(4)
    B = RNG.normal(size=(3, 4, 2))

    def f(L, a, b):
        P, Lf, U = L.linalg.lu(a)
        x = L.linalg.lu_solve(*L.linalg.lu_factor(a), b)
        y = L.linalg.solve_triangular(U, b, upper=True)
        return (P @ Lf @ U, x + y, L.linalg.inv_ex(a).inverse, L.cholesky_solve(b, Lf))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = func.vmap(lambda a, b: f(cr, a, b))(cr.tensor(A), cr.tensor(B))
        gc = func.vmap(func.grad(lambda a, b: sum((o ** 2).sum() for o in f(cr, a, b))))(
            cr.tensor(A), cr.tensor(B))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.func.vmap(lambda a, b: f(torch, a, b))(torch.tensor(A), torch.tensor(B))
        gt = torch.func.vmap(torch.func.grad(lambda a, b: sum((o ** 2).sum()
                                                              for o in f(torch, a, b))))(
            torch.tensor(A), torch.tensor(B))
    for x, y in zip(c, t):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-10)
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-8, atol=1e-8)


def test_one_solve_primitive_serves_linalg_and_orthogonal():
    from chainrule.nn.utils import parametrizations as PZ
    from chainrule.ops import linalg_np, matrix_fn

    assert PZ.Solve is linalg_np.Solve and not hasattr(matrix_fn, "Solve")
    lin = cr.nn.Linear(4, 4)
    PZ.orthogonal(lin, orthogonal_map="cayley")
    W = lin.weight
    np.testing.assert_allclose((W.T @ W).detach().numpy(), np.eye(4), atol=1e-5)
    W.sum().backward()
    assert lin.parametrizations.weight.original.grad is not None


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3)],
                         ids=lambda s: "x".join(map(str, s)))
def test_empty_matrices_have_torch_shapes(torch, shape):
    fns = {
        "svd": lambda L, a: L.linalg.svd(a), "qr": lambda L, a: L.linalg.qr(a),
        "pinv": lambda L, a: (L.linalg.pinv(a),), "lu": lambda L, a: L.linalg.lu(a),
        "lu_factor_ex": lambda L, a: L.linalg.lu_factor_ex(a),
        "cholesky_ex": lambda L, a: L.linalg.cholesky_ex(a[..., :0, :0]),
        "ldl_factor_ex": lambda L, a: L.linalg.ldl_factor_ex(a[..., :0, :0]),
    }
    for name, f in fns.items():
        c = f(cr, cr.ones(*shape, dtype=cr.float64))
        t = f(torch, torch.ones(*shape, dtype=torch.float64))
        assert [tuple(x.shape) for x in c] == [tuple(x.shape) for x in t], name
