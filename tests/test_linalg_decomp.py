"""torch.linalg decompositions (svd, svdvals, qr, pinv, lstsq, matrix_rank, matrix_exp, cond)
against PyTorch in float64: values, gradients (VJP), forward-mode JVPs and vmap; matrices
with well-separated singular values, and functions of U/Vh that do not depend on the sign
of each singular pair."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

RNG = np.random.default_rng(7)


def well_separated(m, n, s=None, batch=()):
    """Q1 diag(s) Q2^T with orthonormal Q1, Q2 and singular values s (default 3 .. 0.5)."""
    k = min(m, n)
    s = np.linspace(3.0, 0.5, k) if s is None else np.asarray(s, float)
    out = []
    for _ in range(int(np.prod(batch))):
        q1 = np.linalg.qr(RNG.normal(size=(m, m)))[0][:, :k]
        q2 = np.linalg.qr(RNG.normal(size=(n, n)))[0][:, :k]
        out.append(q1 @ np.diag(s) @ q2.T)
    return np.stack(out).reshape(batch + (m, n))


def _listed(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _floats(outs):
    return [o for o in outs if o.dtype.is_floating_point]


def check(torch, f, *arrays, atol=1e-9, jvp=True, tangents=None):
    """Values, the gradient of a random linear function of the float outputs, and the JVP
    along random tangents: chainrule's f(cr, ...) against f(torch, ...)."""
    T = [torch.tensor(a, requires_grad=True) for a in arrays]
    C = [cr.tensor(a, requires_grad=True) for a in arrays]
    ot, oc = _listed(f(torch, *T)), _listed(f(cr, *C))
    assert len(ot) == len(oc)
    for a, b in zip(oc, ot):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol)
    ws = [RNG.normal(size=tuple(o.shape)) for o in ot]
    lt = sum((o * torch.tensor(w)).sum() for o, w in zip(ot, ws)
             if o.dtype.is_floating_point and o.requires_grad)
    lc = sum((o * cr.tensor(w)).sum() for o, w in zip(oc, ws)
             if o.dtype.is_floating_point and o.requires_grad)
    gt = torch.autograd.grad(lt, T, allow_unused=True)
    gc = cr.autograd.grad(lc, C, allow_unused=True)
    for a, b in zip(gc, gt):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=atol)
    if not jvp:
        return
    tans = tangents or [RNG.normal(size=a.shape) for a in arrays]
    _, jt = torch.func.jvp(lambda *x: tuple(_floats(_listed(f(torch, *x)))),
                           tuple(torch.tensor(a) for a in arrays),
                           tuple(torch.tensor(t) for t in tans))
    _, jc = func.jvp(lambda *x: tuple(_floats(_listed(f(cr, *x)))),
                     tuple(cr.tensor(a) for a in arrays), tuple(cr.tensor(t) for t in tans))
    for a, b in zip(jc, jt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=atol)


SHAPES = [(5, 3), (3, 5), (4, 4), (2, 4, 3)]


def _shape_id(s):
    return "x".join(map(str, s))


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("full", [False, True])
def test_svd_matches_torch(torch, shape, full):
    A = well_separated(shape[-2], shape[-1], batch=shape[:-2])
    k = min(shape[-2:])

    def f(L, a):
        u, s, vh = L.linalg.svd(a, full_matrices=full)
        u, vh = u[..., :, :k], vh[..., :k, :]  # the rest is an arbitrary basis
        return [s, u * u, vh * vh, u @ vh]

    check(torch, f, A)


def test_svd_shapes_and_driver(torch):
    A = cr.tensor(well_separated(5, 3))
    U, S, Vh = cr.linalg.svd(A)
    assert (U.shape, S.shape, Vh.shape) == ((5, 5), (3,), (3, 3))
    U, S, Vh = cr.linalg.svd(A, full_matrices=False)
    assert (U.shape, Vh.shape) == ((5, 3), (3, 3))
    np.testing.assert_allclose((U * S) @ Vh, A.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="only supported on CUDA"):
        cr.linalg.svd(A, driver="gesvd")
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.linalg.svd(cr.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        cr.linalg.svd(cr.ones(3, 3, dtype=cr.int64))


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
def test_svdvals_matches_torch(torch, shape):
    check(torch, lambda L, a: L.linalg.svdvals(a), well_separated(*shape[-2:], batch=shape[:-2]))


def test_svdvals_gradient_defined_for_repeated_values(torch):
    """The gradient of svdvals is U diag(g) Vh even where U and Vh are not unique (the old
    sqrt(eigvalsh(A^T A)) gave nan here)."""
    A = well_separated(4, 3, s=[2.0, 2.0, 2.0])
    # sum(S): its gradient U Vh does not depend on the choice of U, V for a repeated value
    check(torch, lambda L, a: L.linalg.svdvals(a).sum(), A, jvp=False)
    x = cr.tensor(A, requires_grad=True)
    cr.linalg.matrix_norm(x, "nuc").backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_svd_tiny_singular_values_are_accurate():
    """SVD-based svdvals keep relative accuracy where eigvalsh(A^T A) loses it."""
    A = well_separated(4, 4, s=[1.0, 1e-3, 1e-6, 1e-9])
    s = cr.linalg.svdvals(cr.tensor(A)).numpy()
    np.testing.assert_allclose(s, [1.0, 1e-3, 1e-6, 1e-9], rtol=1e-6)


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_matches_torch(torch, shape, mode):
    A = RNG.normal(size=shape)
    if mode == "reduced" or shape[-2] <= shape[-1]:
        check(torch, lambda L, a: list(L.linalg.qr(a, mode=mode)), A)
        return
    Q, R = cr.linalg.qr(cr.tensor(A, requires_grad=True), mode=mode)
    Qt, Rt = torch.linalg.qr(torch.tensor(A), mode=mode)
    np.testing.assert_allclose(Q.detach().numpy(), Qt.numpy(), atol=1e-12)
    np.testing.assert_allclose(R.detach().numpy(), Rt.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        (Q.sum() + R.sum()).backward()


def test_qr_mode_r_and_errors(torch):
    A = RNG.normal(size=(5, 3))
    Q, R = cr.linalg.qr(cr.tensor(A, requires_grad=True), mode="r")
    assert Q.shape == (0,)
    np.testing.assert_allclose(R.detach().numpy(), torch.linalg.qr(torch.tensor(A), mode="r")[1])
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        R.sum().backward()
    with pytest.raises(RuntimeError, match="unrecognized mode 'foo'"):
        cr.linalg.qr(cr.tensor(A), mode="foo")


@pytest.mark.parametrize("case", ["tall", "wide", "square", "rank2", "batch"])
def test_pinv_matches_torch(torch, case):
    A = {"tall": well_separated(5, 3), "wide": well_separated(3, 5),
         "square": well_separated(4, 4), "rank2": well_separated(5, 4, s=[3, 2, 0, 0]),
         "batch": well_separated(4, 3, batch=(2,))}[case]
    check(torch, lambda L, a: L.linalg.pinv(a), A)


def test_pinv_hermitian_and_tolerances(torch):
    B = RNG.normal(size=(4, 4))
    S = B @ B.T + np.eye(4)
    check(torch, lambda L, a: L.linalg.pinv(a, hermitian=True), S)
    M = well_separated(4, 4, s=[3, 1, 0.2, 0.01], batch=(2,))
    for kw in ({"atol": 0.5}, {"rtol": 0.1}, {"atol": 0.05, "rtol": 0.2}, {"rcond": 0.1}):
        kt = {"rtol" if k == "rcond" else k: v for k, v in kw.items()}
        np.testing.assert_allclose(cr.linalg.pinv(cr.tensor(M), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(M), **kt).numpy(), atol=1e-12)
    atol = [0.1, 2.0]
    np.testing.assert_allclose(
        cr.linalg.pinv(cr.tensor(M), atol=cr.tensor(atol)).numpy(),
        torch.linalg.pinv(torch.tensor(M), atol=torch.tensor(atol)).numpy(), atol=1e-12)
    np.testing.assert_allclose(cr.pinverse(cr.tensor(M), 0.05).numpy(),
                               torch.pinverse(torch.tensor(M), 0.05).numpy(), atol=1e-12)


def test_matrix_rank_matches_torch(torch):
    M = RNG.normal(size=(2, 4, 4))
    M[0, :, 3] = M[0, :, 0]
    H = M @ M.transpose(0, 2, 1) - 1.0
    for X, kw in ((M, {}), (M, {"atol": 0.5}), (M, {"rtol": 0.3}), (M, {"atol": 0.1, "rtol": 0.2}),
                  (H, {"hermitian": True}), (H, {"hermitian": True, "atol": 2.0})):
        c = cr.linalg.matrix_rank(cr.tensor(X), **kw)
        assert c.dtype == cr.int64
        assert c.tolist() == torch.linalg.matrix_rank(torch.tensor(X), **kw).tolist()
    assert cr.linalg.matrix_rank(cr.tensor(M), 0.5).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(M), 0.5).tolist()
    assert cr.linalg.matrix_rank(cr.tensor(M), atol=cr.tensor([0.1, 3.0])).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(M), atol=torch.tensor([0.1, 3.0])).tolist()


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("case", ["tall", "wide", "rank_deficient", "batch", "vector"])
def test_lstsq_outputs_match_torch(torch, driver, case):
    A = {"tall": RNG.normal(size=(6, 3)), "wide": RNG.normal(size=(3, 5)),
         "rank_deficient": well_separated(6, 4, s=[2, 1, 0.5, 0]),
         "batch": RNG.normal(size=(2, 5, 3)), "vector": RNG.normal(size=(2, 5, 3))}[case]
    if driver == "gels" and case in ("wide", "rank_deficient"):
        return  # gels assumes full rank and m >= n (undefined results otherwise)
    B = RNG.normal(size=A.shape[:-1] if case == "vector" else A.shape[:-1] + (2,))
    rc = cr.linalg.lstsq(cr.tensor(A), cr.tensor(B), driver=driver)
    rt = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        a, b = getattr(rc, name), getattr(rt, name)
        assert tuple(a.shape) == tuple(b.shape), name
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], name
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)


@pytest.mark.parametrize("shape", [(6, 4), (3, 5)], ids=_shape_id)
def test_lstsq_gradient_and_jvp_match_torch(torch, shape):
    A = well_separated(*shape)
    check(torch, lambda L, a, b: L.linalg.lstsq(a, b).solution, A,
          RNG.normal(size=(shape[0], 2)))


def test_lstsq_errors():
    A = cr.tensor(RNG.normal(size=(4, 3)))
    with pytest.raises(RuntimeError, match="driver` should be one of"):
        cr.linalg.lstsq(A, A, driver="foo")
    with pytest.raises(RuntimeError, match=r"input.size\(-2\) should match"):
        cr.linalg.lstsq(A, cr.ones(3, 2, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="now removed"):
        cr.lstsq(A, A)


def test_matrix_exp_matches_torch(torch):
    A = RNG.normal(size=(2, 4, 4)) * 0.7
    check(torch, lambda L, a: L.linalg.matrix_exp(a), A)
    np.testing.assert_allclose(cr.matrix_exp(cr.tensor(A[0])).numpy(),
                               torch.matrix_exp(torch.tensor(A[0])).numpy(), rtol=1e-12)


def test_cond_matches_torch(torch):
    M = RNG.normal(size=(2, 4, 4))
    M[1, :, 3] = 0.0
    for p in (None, 2, -2, "fro", "nuc", np.inf, -np.inf, 1, -1):
        c = cr.linalg.cond(cr.tensor(M), p).numpy()
        t = torch.linalg.cond(torch.tensor(M), p).numpy()
        np.testing.assert_allclose(c[0], t[0], rtol=1e-9)
        singular = [c[1], t[1]] if p != -2 else [1 / c[1], 1 / t[1]]
        assert min(singular) > 1e12  # inf, or huge from a rounded zero singular value


def test_eig_is_refused_with_a_clear_error():
    A = cr.tensor(RNG.normal(size=(3, 3)))
    for fn in (cr.linalg.eig, cr.linalg.eigvals):
        with pytest.raises(NotImplementedError, match="eigh"):
            fn(A)
    for fn in (cr.eig, cr.symeig, A.eig):
        with pytest.raises(RuntimeError, match="removed"):
            fn(A) if fn is not A.eig else fn()


def test_top_level_svd_qr(torch):
    A = well_separated(5, 3)
    for some in (True, False):
        U, S, V = cr.svd(cr.tensor(A), some=some)
        Ut, St, Vt = torch.svd(torch.tensor(A), some=some)
        assert (U.shape, V.shape) == (Ut.shape, Vt.shape)
        np.testing.assert_allclose(np.abs(V.numpy()), np.abs(Vt.numpy()), atol=1e-12)
    U, S, V = cr.tensor(A).svd(compute_uv=False)
    assert U.shape == (5, 5) and V.shape == (3, 3) and not U.numpy().any()
    np.testing.assert_allclose(S.numpy(), torch.svd(torch.tensor(A))[1].numpy(), atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for some in (True, False):
            Q, R = cr.qr(cr.tensor(A), some=some)
            Qt, Rt = torch.qr(torch.tensor(A), some=some)
            np.testing.assert_allclose(Q.numpy(), Qt.numpy(), atol=1e-12)
            np.testing.assert_allclose(R.numpy(), Rt.numpy(), atol=1e-12)


VMAP_CASES = {
    "svd": lambda L, a, b: (lambda u, s, vh: (s, u * u, u @ vh))(*L.linalg.svd(a)),
    "qr": lambda L, a, b: tuple(L.linalg.qr(a)),
    "pinv": lambda L, a, b: L.linalg.pinv(a),
    "lstsq": lambda L, a, b: L.linalg.lstsq(a, b).solution,
    "matrix_exp": lambda L, a, b: L.linalg.matrix_exp(a * 0.3),
    "svdvals_rank": lambda L, a, b: L.linalg.svdvals(a) * L.linalg.matrix_rank(a),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_and_per_example_gradients_match_torch(torch, name):
    f = VMAP_CASES[name]
    A = RNG.normal(size=(3, 4, 4)) + 3 * np.eye(4)
    B = RNG.normal(size=(3, 4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-element fallback
        c = func.vmap(lambda a, b: f(cr, a, b))(cr.tensor(A), cr.tensor(B))

        def loss(L, a, b):
            return sum((o ** 2).sum() for o in _listed(f(L, a, b)) if o.dtype.is_floating_point)

        gc = func.vmap(func.grad(lambda a, b: loss(cr, a, b)))(cr.tensor(A), cr.tensor(B))
    t = torch.func.vmap(lambda a, b: f(torch, a, b))(torch.tensor(A), torch.tensor(B))
    for x, y in zip(_listed(c), _listed(t)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-10)
    gt = torch.func.vmap(torch.func.grad(lambda a, b: loss(torch, a, b)))(torch.tensor(A),
                                                                           torch.tensor(B))
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-9, atol=1e-9)


def test_svd_vector_gradient_with_repeated_values_is_nan_like_torch(torch):
    """PyTorch's documented caveat: U/Vh gradients are not finite for repeated singular
    values (the formulas divide by S_j^2 - S_i^2); chainrule's are the same formulas."""
    A = np.diag([2.0, 2.0, 1.0])
    grads = []
    for L in (torch, cr):
        a = L.tensor(A, requires_grad=True)
        U, S, Vh = L.linalg.svd(a)
        (U[:, 0] ** 3).sum().backward()
        grads.append(a.grad.numpy())
    assert not np.isfinite(grads[0]).any() and not np.isfinite(grads[1]).any()


_RHS = RNG.normal(size=(3, 2))
SECOND_ORDER = {
    "svdvals": (lambda L, a: L.linalg.svdvals(a), (4, 3)),
    "svd_uvh": (lambda L, a: (lambda u, s, vh: u @ vh)(*L.linalg.svd(a, full_matrices=False)),
                (4, 3)),
    "pinv": (lambda L, a: L.linalg.pinv(a), (4, 3)),
    "qr": (lambda L, a: L.linalg.qr(a)[0] + L.linalg.qr(a)[1].sum(), (4, 3)),
    "lstsq": (lambda L, a: L.linalg.lstsq(a, L.tensor(_RHS[:, :1].repeat(2, 0)[:4])).solution,
              (4, 3)),
    "lu": (lambda L, a: (lambda p, lo, up: lo @ up + up)(*L.linalg.lu(a)), (3, 3)),
    "lu_solve": (lambda L, a: L.linalg.lu_solve(*L.linalg.lu_factor(a), L.tensor(_RHS)), (3, 3)),
    "solve_triangular": (lambda L, a: L.linalg.solve_triangular(a, L.tensor(_RHS), upper=False),
                         (3, 3)),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a * 0.3), (3, 3)),
    "cholesky_ex": (lambda L, a: L.linalg.cholesky_ex(a @ a.mT).L, (3, 3)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_jacobians_and_hessians_match_torch(torch, name):
    """jacrev (vmap of VJPs), jacfwd (vmap of JVPs) and hessian (forward over reverse): the
    rules batch and differentiate again."""
    f, shape = SECOND_ORDER[name]
    X = RNG.normal(size=shape) + (3 * np.eye(shape[0]) if shape[0] == shape[1] else 0)
    for jac in ("jacrev", "jacfwd"):
        jc = getattr(func, jac)(lambda a: f(cr, a))(cr.tensor(X))
        jt = getattr(torch.func, jac)(lambda a: f(torch, a))(torch.tensor(X))
        np.testing.assert_allclose(jc.numpy(), jt.numpy(), atol=1e-10)
    hc = func.hessian(lambda a: (f(cr, a) ** 2).sum())(cr.tensor(X))
    ht = torch.func.hessian(lambda a: (f(torch, a) ** 2).sum())(torch.tensor(X))
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-9, atol=1e-9)
