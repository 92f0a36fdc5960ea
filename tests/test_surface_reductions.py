"""Scans, selections and reductions (cumprod, logcumsumexp, cummax/cummin, median, mode,
kthvalue, quantile, nansum/nanmean, aminmax, dist, renorm, msort) and products/statistics
(tensordot, cov, corrcoef, trapezoid, addmv/addr/baddbmm): values, indices, gradients,
forward derivatives and vmap against torch."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

NAN = float("nan")
RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 5))
Z = A.copy()
Z[0, 2] = 0.0
Z[1, 0] = 0.0
Z[1, 3] = 0.0  # two zeros in a row: cumprod's exact gradient
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 1.0, 1.0], [2.0, 1.0, 2.0, 1.0, 5.0, 5.0, 0.0]])

DIFF = [  # name, fn(lib, x), input
    ("cumprod", lambda m, x: m.cumprod(x, 1) + x.cumprod(0), A),
    ("cumprod_zeros", lambda m, x: m.cumprod(x, 1) * 1.5 + m.cumprod(x, 0), Z),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1) + x.logcumsumexp(-2), A),
    ("cummax", lambda m, x: m.cummax(x, 1).values + m.cummin(x, 0)[0], A),
    ("cummax_ties", lambda m, x: m.cummax(x, 1)[0] + m.cummin(x, 1).values, TIES),
    ("median", lambda m, x: m.median(x, 1).values + x.median(), A),
    ("median_keep", lambda m, x: m.median(x, 0, keepdim=True)[0] * x, A),
    ("nanmedian", lambda m, x: m.nanmedian(x, 1)[0], A),
    ("mode", lambda m, x: m.mode(x, 1)[0] + x.mode(0).values.sum(), TIES),
    ("kthvalue", lambda m, x: m.kthvalue(x, 2, 1)[0] + x.kthvalue(3, 1, True).values.sum(), A),
    ("quantile", lambda m, x: m.quantile(x, 0.3, dim=1) + m.quantile(x, 0.5)
     + m.nanquantile(x, 0.9, 1, interpolation="midpoint"), A),
    ("quantile_vec", lambda m, x: m.quantile(x, m.tensor([0.1, 0.75], dtype=m.float64), dim=0,
                                             keepdim=True), A),
    ("quantile_modes", lambda m, x: sum(m.quantile(x, 0.37, 1, interpolation=i) for i in (
        "lower", "higher", "nearest", "midpoint", "linear")), A),
    ("nansum_nanmean", lambda m, x: m.nansum(x, 1) + m.nanmean(x, 0).sum() + x.nansum(), A),
    ("aminmax", lambda m, x: m.aminmax(x, dim=1).min + m.aminmax(x, dim=1, keepdim=True)[1].sum(), A),
    ("dist", lambda m, x: m.dist(x, x.flip(0), 3) + m.dist(x, x * 2), A),
    ("renorm", lambda m, x: m.renorm(x, 2, 0, 1.5) + x.renorm(1, 1, 2.0), A),
    ("msort", lambda m, x: m.msort(x), A),
    ("tensordot", lambda m, x: m.tensordot(x, x, dims=([1], [1])) + m.tensordot(
        x, x.T, dims=1).sum(), A),
    ("tensordot0", lambda m, x: m.tensordot(x[0], x[1], dims=0), A),
    ("cov", lambda m, x: m.cov(x) + m.cov(x, correction=0, aweights=x[0].abs(),
                                      fweights=m.tensor([1, 2, 1, 3, 1])), A),
    ("corrcoef", lambda m, x: m.corrcoef(x), A),
    ("trapezoid", lambda m, x: m.trapezoid(x) + m.trapz(x, dx=0.5) + m.trapezoid(
        x, x[0].exp().cumsum(0)), A),
    ("cumulative_trapezoid", lambda m, x: m.cumulative_trapezoid(x, dim=0) .sum()
     + m.cumulative_trapezoid(x, x[1].exp().cumsum(0)).sum(), A),
    ("addmv_addr", lambda m, x: m.addmv(x[:, 0], x, x[0], beta=0.5, alpha=2) + m.addr(
        x[:, :3], x[:, 0], x[0, :3], alpha=0.3).sum(1), A),
    ("bmm_family", lambda m, x: m.baddbmm(x[0, :2], x.reshape(3, 5, 1), x.reshape(3, 1, 5)[
        :, :, :2], beta=0) .sum() + m.addbmm(x[:1, :1], x.reshape(3, 1, 5),
                                             x.reshape(3, 5, 1)) + x.T.adjoint().sum(), A),
]


@pytest.mark.parametrize("name,fn,x", DIFF, ids=[c[0] for c in DIFF])
def test_matches_torch(torch, name, fn, x):
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        oc = fn(cr, xc)
    ot = fn(torch, xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    w = RNG.standard_normal(tuple(ot.shape))
    (oc * cr.tensor(w)).sum().backward()
    (ot * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    v = RNG.standard_normal(x.shape)
    jc = func.jvp(lambda a: fn(cr, a), (cr.tensor(x),), (cr.tensor(v),))[1]
    np.testing.assert_allclose((jc.numpy() * w).sum(), (xc.grad.numpy() * v).sum(),
                               rtol=1e-9, atol=1e-12)


def test_selection_indices_match_torch(torch):
    """Indices equal PyTorch's; on ties PyTorch's kthvalue (quickselect) and mode (an
    unstable sort) leave the position unspecified, so only their values are compared
    there."""
    for x in (A, TIES, np.array([[4.0, 2, 2, 2, 1], [1.0, NAN, 3, 0, 0]])):
        for k, lib_fn in enumerate((
                lambda m, t: m.cummax(t, 1), lambda m, t: m.cummin(t, 1),
                lambda m, t: m.median(t, 1), lambda m, t: m.nanmedian(t, 1),
                lambda m, t: m.mode(t, 1), lambda m, t: m.kthvalue(t, 2, 1),
                lambda m, t: m.kthvalue(t, 5, 1), lambda m, t: m.median(t, 0))):
            c, t = lib_fn(cr, cr.tensor(x)), lib_fn(torch, torch.tensor(x))
            if k not in (4, 5) or x is A:
                np.testing.assert_array_equal(c.indices.numpy(), t.indices.numpy())
            np.testing.assert_allclose(c.values.numpy(), t.values.numpy(), equal_nan=True)
            assert type(c).__name__ == type(t).__name__


def test_max_min_over_a_dim_match_torch(torch):
    """max/min(dim) (values, indices, gradient), also of a 0-d tensor (its one element)."""
    for x, dim in ((A, 1), (A, -2), (np.array(2.5), 0), (np.array(2.5), -1)):
        for name in ("max", "min"):
            for keepdim in (False, True):
                c, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
                rc = getattr(c, name)(dim, keepdim=keepdim)
                rt = getattr(t, name)(dim, keepdim=keepdim)
                np.testing.assert_array_equal(rc.indices.numpy(), rt.indices.numpy())
                np.testing.assert_array_equal(rc.values.detach().numpy(),
                                              rt.values.detach().numpy())
                rc.values.sum().backward()
                rt.values.sum().backward()
                np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


def test_nan_handling_matches_torch(torch):
    x = [[1.0, NAN, 3.0, 4.0], [NAN, NAN, NAN, NAN], [2.0, 0.5, -1.0, 7.0]]
    for f in (lambda m, t: m.median(t), lambda m, t: m.nanmedian(t),
              lambda m, t: m.nanmedian(t, 1)[0], lambda m, t: m.quantile(t, 0.3, 1),
              lambda m, t: m.nanquantile(t, 0.3, 1), lambda m, t: m.nanquantile(t, 0.6),
              lambda m, t: m.nansum(t, 1), lambda m, t: m.nanmean(t, 1),
              lambda m, t: m.cummax(t, 1)[0], lambda m, t: m.logcumsumexp(t, 1),
              lambda m, t: m.aminmax(t, dim=1)[0]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            got = f(cr, cr.tensor(x)).numpy()
        np.testing.assert_allclose(got, f(torch, torch.tensor(x)).numpy(), equal_nan=True)


def test_integer_and_empty_inputs(torch):
    i = [[1, 2, 3], [4, 0, 6]]
    for f in (lambda m, t: m.cumprod(t, 1), lambda m, t: m.cummax(t, 1)[1],
              lambda m, t: m.median(t, 1)[0], lambda m, t: m.mode(t, 0)[0],
              lambda m, t: m.nansum(t), lambda m, t: m.aminmax(t).max):
        got, want = f(cr, cr.tensor(i)), f(torch, torch.tensor(i))
        assert got.tolist() == want.tolist()
        assert got.dtype.name == str(want.dtype).split(".")[-1]
    e = np.zeros((0, 3))
    for f in (lambda m, t: m.cumprod(t, 0), lambda m, t: m.logcumsumexp(t, 0),
              lambda m, t: m.cummax(t, 0)[0], lambda m, t: m.nansum(t, 0)):
        assert f(cr, cr.tensor(e)).shape == tuple(f(torch, torch.tensor(e)).shape)
    assert cr.cumprod(cr.tensor(3.0), 0).item() == 3.0
    with pytest.raises(RuntimeError, match="float or double"):
        cr.quantile(cr.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match=r"range \[0, 1\]"):
        cr.quantile(cr.tensor([1.0, 2.0]), 1.5)
    with pytest.raises(IndexError, match="k out of range"):
        cr.kthvalue(cr.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.nanmean(cr.tensor([1, 2]))


def test_cumprod_second_derivative_and_vmap(torch):
    f = lambda m, t: (m.cumprod(t, 0) * m.logcumsumexp(t, 0)).sum()  # noqa: E731
    hc = func.hessian(lambda t: f(cr, t))(cr.tensor(A[0]))
    ht = torch.autograd.functional.hessian(lambda t: f(torch, t), torch.tensor(A[0]))
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-9, atol=1e-12)
    # with zeros (PyTorch's reverse-over-reverse gives nan there): finite differences of
    # the gradient
    g = func.grad(lambda t: f(cr, t))
    hz = func.hessian(lambda t: f(cr, t))(cr.tensor(Z[1])).numpy()
    eps = 1e-6
    for j in range(5):
        e = np.zeros(5)
        e[j] = eps
        col = (g(cr.tensor(Z[1] + e)).numpy() - g(cr.tensor(Z[1] - e)).numpy()) / (2 * eps)
        np.testing.assert_allclose(hz[:, j], col, rtol=1e-6, atol=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = func.vmap(func.grad(lambda t: f(cr, t)))(cr.tensor(A))
    want = torch.func.vmap(torch.func.grad(lambda t: f(torch, t)))(torch.tensor(A))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9)


VMAPPED = {
    "nanquantile": lambda m, t: m.nanquantile(t, 0.3), "quantile": lambda m, t: m.quantile(t, 0.7),
    "cummax": lambda m, t: m.cummax(t, 0)[0], "nanmedian": lambda m, t: m.nanmedian(t, 0)[0],
    "mode": lambda m, t: m.mode(t)[0], "nanmean": lambda m, t: m.nanmean(t),
    "xlogy": lambda m, t: m.xlogy(t, t.abs() + 0.5), "fmax": lambda m, t: m.fmax(t, t.flip(0)),
    "copysign": lambda m, t: m.copysign(t, -t), "diff": lambda m, t: m.diff(t),
    "trapezoid": lambda m, t: m.trapezoid(t), "take": lambda m, t: m.take(t, m.tensor([0, 2])),
    "renorm": lambda m, t: m.renorm(t[None], 2, 0, 0.5), "logit": lambda m, t: m.logit(
        t.abs(), eps=0.1),
}


@pytest.mark.parametrize("name", sorted(VMAPPED))
def test_composites_under_vmap(torch, name):
    x = RNG.uniform(-1, 1, (3, 5))
    x[0, 1] = 0.0
    x[1, 2] = NAN
    f = VMAPPED[name]
    got = func.vmap(lambda t: f(cr, t))(cr.tensor(x)).numpy()
    want = torch.func.vmap(lambda t: f(torch, t))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_logcumsumexp_derivatives_at_any_scale(torch):
    x = np.array([-1000.0, -700.0, -3.0, 0.5, 2.0, -np.inf])
    xc = cr.tensor(x, requires_grad=True)
    cr.logcumsumexp(xc, 0)[4].backward()  # d/dx_i = softmax of x[:5] (0 for i > 4)
    e = np.exp(x[:5] - x[:5].max())
    np.testing.assert_allclose(xc.grad.numpy()[:5], e / e.sum(), rtol=1e-13, atol=0)
    assert xc.grad.numpy()[5] == 0.0
    z = RNG.standard_normal(6)
    jc = func.jacrev(lambda t: cr.logcumsumexp(t, 0))(cr.tensor(z))
    jf = func.jacfwd(lambda t: cr.logcumsumexp(t, 0))(cr.tensor(z))
    jt = torch.autograd.functional.jacobian(lambda t: torch.logcumsumexp(t, 0), torch.tensor(z))
    np.testing.assert_allclose(jc.numpy(), jt.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jf.numpy(), jt.numpy(), rtol=1e-12, atol=1e-15)
