"""torch.special and the gamma/erf/Bessel functions of the top level: values against torch
(float64 and float32, edge values), accuracy against mpmath, gradients, forward derivatives,
second derivatives and batching under vmap."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

INF, NAN = float("inf"), float("nan")
POS = [0.05, 0.5, 1.0, 1.5, 2.0, 3.7, 10.0, 31.5, 250.0]
ANY = [-27.0, -5.0, -1.5, -0.2, 0.0, 0.3, 1.0, 2.5, 6.0, 26.0]

# (name, chainrule fn, torch fn (given the module), points, gradient points)
UNARY = [
    ("gammaln", lambda m, x: m.special.gammaln(x), POS + [-0.5, -2.3, -7.7], POS),
    ("lgamma", lambda m, x: m.lgamma(x), [0.0, -1.0, -3.0, INF, -INF, NAN, 1e-300, 1e300], None),
    ("digamma", lambda m, x: m.special.digamma(x), POS + [-0.5, -2.3, -7.7], POS + [-0.5]),
    ("digamma_edges", lambda m, x: m.digamma(x), [0.0, -0.0, -2.0, INF, -INF, NAN], None),
    ("psi", lambda m, x: m.special.psi(x), POS, None),
    ("polygamma1", lambda m, x: m.special.polygamma(1, x), POS + [-0.5, -2.3], POS),
    ("polygamma2", lambda m, x: m.polygamma(2, x), POS + [-1.5], POS),
    ("polygamma4", lambda m, x: m.special.polygamma(4, x), POS, POS),
    ("polygamma_edges", lambda m, x: m.polygamma(2, x), [0.0, NAN], None),
    ("multigammaln", lambda m, x: m.special.multigammaln(x + 2, 3), POS, POS),
    ("mvlgamma", lambda m, x: m.mvlgamma(x + 1, 2), POS, POS),
    ("erf", lambda m, x: m.special.erf(x), ANY, ANY),
    ("erfc", lambda m, x: m.special.erfc(x), ANY + [INF, -INF, NAN], ANY),
    ("erfc_top", lambda m, x: m.erfc(x), [0.7, 0.8, 1.2, 2.0, 4.0, 9.0], None),
    ("erfcx", lambda m, x: m.special.erfcx(x), ANY + [1e10, INF, -INF, NAN], ANY[:-1]),
    ("erfinv", lambda m, x: m.special.erfinv(x),
     [-0.999999, -0.9, -0.5, 0.0, 0.3, 0.7, 0.99, 1 - 1e-12, 1.0, -1.0, 1.5, NAN],
     [-0.9, -0.5, 0.0, 0.3, 0.7, 0.99]),
    ("erfinv_top", lambda m, x: m.erfinv(x), [-0.6, 0.2, 0.95], None),
    ("ndtr", lambda m, x: m.special.ndtr(x), ANY[1:] + [INF, -INF, NAN], ANY),
    ("ndtri", lambda m, x: m.special.ndtri(x),
     [1e-300, 1e-20, 0.01, 0.2, 0.5, 0.6, 0.9, 1 - 1e-12, 0.0, 1.0, -0.1, NAN],
     [1e-20, 0.01, 0.2, 0.5, 0.6, 0.9]),
    ("log_ndtr", lambda m, x: m.special.log_ndtr(x), ANY + [-1e3, 38.0, INF, -INF, NAN],
     ANY + [-1e3]),
    ("entr", lambda m, x: m.special.entr(x), [0.0, 0.3, 1.0, 4.0, -1.0, INF, NAN],
     [0.3, 1.0, 4.0]),
    ("i0", lambda m, x: m.special.i0(x), ANY + [-300.0, 700.0, NAN], ANY),
    ("i0_top", lambda m, x: m.i0(x), [0.5, -3.0], None),
    ("i0e", lambda m, x: m.special.i0e(x), ANY + [700.0, 1e5, INF, NAN], ANY),
    ("i1", lambda m, x: m.special.i1(x), ANY + [-300.0, 700.0, NAN], ANY),
    ("i1e", lambda m, x: m.special.i1e(x), ANY + [1e5, -INF, NAN], ANY),
    ("expit", lambda m, x: m.special.expit(x), ANY, ANY),
    ("logit", lambda m, x: m.special.logit(x), [0.0, 0.01, 0.3, 0.5, 0.99, 1.0, 1.5],
     [0.01, 0.3, 0.5, 0.99]),
    ("logit_eps", lambda m, x: m.special.logit(x, eps=0.1), [0.0, 0.05, 0.3, 0.95],
     [0.05, 0.3, 0.95]),
    ("sinc", lambda m, x: m.special.sinc(x), ANY + [INF, NAN], ANY),
    ("exp2", lambda m, x: m.special.exp2(x), ANY + [1100.0, -1100.0], ANY),
    ("expm1_log1p", lambda m, x: m.special.expm1(x) + m.special.log1p(x.abs()), ANY[1:-1],
     ANY[1:-1]),
    ("round", lambda m, x: m.special.round(x * 3.7, decimals=1), ANY, ANY),
    ("softmax", lambda m, x: m.special.softmax(x, 0) + m.special.log_softmax(x, 0), ANY, ANY),
    ("logsumexp", lambda m, x: m.special.logsumexp(x, 0), ANY, ANY),
    ("spherical_bessel_j0", lambda m, x: m.special.spherical_bessel_j0(x),
     ANY + [1e-9, INF, NAN], None),
    ("modified_bessel", lambda m, x: m.special.modified_bessel_i0(x)
     + m.special.modified_bessel_i1(x), ANY, None),
]

BINARY = [
    ("xlogy", lambda m, x, y: m.special.xlogy(x, y)),
    ("xlog1py", lambda m, x, y: m.special.xlog1py(x, y)),
    ("xlogy_top", lambda m, x, y: m.xlogy(x, y)),
    ("zeta", lambda m, x, y: m.special.zeta(x.abs() + 1.5, y)),
    ("gammainc", lambda m, x, y: m.special.gammainc(x.abs() + 0.1, y.abs())),
    ("gammaincc", lambda m, x, y: m.special.gammaincc(x.abs() + 0.1, y.abs())),
    ("igamma", lambda m, x, y: m.igamma(x.abs() + 3, y.abs() * 2) + m.igammac(x.abs(), y.abs())),
]
XS = [0.0, 0.0, 1.5, -2.0, 0.7, 3.0, 0.0, 12.0, 2.0]
YS = [0.0, NAN, 2.5, 0.5, 0.3, 40.0, 3.0, 11.0, -0.5]


# torch's own float64 error where it exceeds 1e-12 (trigamma ~5e-10: ours is exact there,
# see test_accuracy_against_mpmath)
TORCH_TOL = {"polygamma1": 1e-9, "digamma": 1e-9, "log_ndtr": 1e-10, "ndtr": 1e-10}


# composites computed in float32 arithmetic (not one float64 primitive rounded once)
F32_TOL = {"sinc": (1e-6, 1e-7), "expm1_log1p": (2e-5, 0), "modified_bessel": (3e-6, 0)}


def _vals(fn, lib, pts, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1e300 -> float32 overflows
        x = lib.tensor(pts, dtype=dtype)
    return fn(lib, x).detach().numpy()


@pytest.mark.parametrize("name,fn,pts,gpts", UNARY, ids=[c[0] for c in UNARY])
def test_unary_values_match_torch(torch, name, fn, pts, gpts):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warnings (torch has none)
        ours = _vals(fn, cr, pts, cr.float64)
    np.testing.assert_allclose(ours, _vals(fn, torch, pts, torch.float64),
                               rtol=TORCH_TOL.get(name, 1e-12), atol=1e-300, equal_nan=True)
    # float32: the float64 value at the float32-rounded input, rounded once (PyTorch's own
    # float32 kernels are less accurate: ndtr(-5) is 4% off there)
    ours32 = _vals(fn, cr, pts, cr.float32)
    assert ours32.dtype == _vals(fn, torch, pts, torch.float32).dtype == np.float32
    pts32 = np.asarray(pts, np.float32).astype(np.float64).tolist()
    with np.errstate(over="ignore"):
        ref = _vals(fn, cr, pts32, cr.float64).astype(np.float32)
    rtol, atol = F32_TOL.get(name, (3e-7, 1e-37))
    np.testing.assert_allclose(ours32, ref, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("name,fn,pts,gpts", [c for c in UNARY if c[3]],
                         ids=[c[0] for c in UNARY if c[3]])
def test_unary_gradients_match_torch(torch, name, fn, pts, gpts):
    xc = cr.tensor(gpts, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(gpts, dtype=torch.float64, requires_grad=True)
    fn(cr, xc).sum().backward()
    fn(torch, xt).sum().backward()
    tol = max(TORCH_TOL.get(name, 1e-11), 1e-11)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=1e-300)
    # forward mode equals reverse mode (diagonal Jacobian): J 1 = J^T 1
    if name not in ("softmax", "logsumexp"):
        jv = func.jvp(lambda a: fn(cr, a), (cr.tensor(gpts, dtype=cr.float64),),
                      (cr.ones(len(gpts), dtype=cr.float64),))[1]
        np.testing.assert_allclose(jv.numpy(), xc.grad.numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name,fn", BINARY, ids=[c[0] for c in BINARY])
def test_binary_values_and_gradients_match_torch(torch, name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = fn(cr, cr.tensor(XS, dtype=cr.float64), cr.tensor(YS, dtype=cr.float64))
    want = fn(torch, torch.tensor(XS, dtype=torch.float64), torch.tensor(YS, dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), want.numpy(), rtol=1e-11, equal_nan=True)
    ok = [i for i in range(len(XS)) if XS[i] != 0 and not math.isnan(YS[i]) and YS[i] > 0]
    x = [XS[i] for i in ok]
    y = [YS[i] for i in ok]
    xc, yc = cr.tensor(x, dtype=cr.float64), cr.tensor(y, dtype=cr.float64, requires_grad=True)
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64,
                                                                 requires_grad=True)
    need_x = name.startswith("xlog")
    xc.requires_grad_(need_x)
    xt.requires_grad_(need_x)
    fn(cr, xc, yc).sum().backward()
    fn(torch, xt, yt).sum().backward()
    np.testing.assert_allclose(yc.grad.numpy(), yt.grad.numpy(), rtol=1e-10)
    if need_x:
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_xlogy_gradient_at_zero_and_scalars(torch):
    for lib in (cr, torch):
        x = lib.tensor([0.0, 2.0], dtype=lib.float64, requires_grad=True)
        lib.special.xlogy(x, lib.tensor([0.0, 3.0], dtype=lib.float64)).sum().backward()
        assert x.grad.tolist() == [0.0, pytest.approx(math.log(3.0))]
    assert cr.special.xlogy(2, cr.tensor([3.0])).item() == pytest.approx(2 * math.log(3))
    assert cr.special.zeta(2.0, cr.tensor([1.0])).item() == pytest.approx(math.pi ** 2 / 6)
    assert cr.xlogy(cr.tensor([3]), cr.tensor([4])).dtype == cr.float32


def test_accuracy_against_mpmath():
    """float64 results within a few ulps of 50-digit references."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.01, 5, 40), np.exp(rng.uniform(-8, 12, 40))])
    y = np.concatenate([rng.uniform(-6, 6, 40), np.exp(rng.uniform(-8, np.log(26), 40))])
    p = np.concatenate([rng.uniform(0, 1, 30), np.exp(rng.uniform(np.log(1e-300), -1, 30))])
    checks = [
        (cr.special.gammaln, mpmath.loggamma, x, 1e-15),
        (lambda t: cr.special.polygamma(1, t), lambda v: mpmath.polygamma(1, v), x, 2e-15),
        (cr.special.erfc, mpmath.erfc, y, 2e-15),
        (cr.special.erfcx, lambda v: mpmath.exp(v * v) * mpmath.erfc(v), y, 2e-15),
        (cr.special.erfinv, mpmath.erfinv, np.tanh(y / 3), 2e-15),
        (cr.special.log_ndtr, lambda v: mpmath.log(mpmath.ncdf(v)), -x, 2e-15),
        (cr.special.i0e, lambda v: mpmath.besseli(0, v) * mpmath.exp(-abs(v)), y, 3e-15),
        (cr.special.i1, lambda v: mpmath.besseli(1, v), y, 3e-15),
    ]
    for fn, ref, pts, tol in checks:
        got = fn(cr.tensor(pts, dtype=cr.float64)).numpy()
        want = np.array([float(ref(mpmath.mpf(float(v)))) for v in pts])
        np.testing.assert_allclose(got, want, rtol=tol, err_msg=fn.__name__)
    got = cr.special.ndtri(cr.tensor(p, dtype=cr.float64)).numpy()
    want = [float(mpmath.findroot(lambda t: mpmath.log(mpmath.ncdf(t) / v), g))
            for g, v in zip(got, p)]
    np.testing.assert_allclose(got, want, rtol=2e-15)
    # far tails, where PyTorch's float64 ndtr underflows to 0 early (Phi(-27) = 7.4e-161)
    tails = [-27.0, -38.0]
    np.testing.assert_allclose(cr.special.ndtr(cr.tensor(tails, dtype=cr.float64)).numpy(),
                               [float(mpmath.ncdf(v)) for v in tails], rtol=1e-14)


def test_digamma_accuracy_against_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(2, 50, 200), -np.linspace(0.1, 9.9, 97)])
    np.testing.assert_allclose(cr.digamma(cr.tensor(x, dtype=cr.float64)).numpy(),
                               special.digamma(x), rtol=1e-14, atol=1e-14)
    a = np.array([0.5, 3.0, 40.0, 900.0])
    z = np.array([0.2, 3.5, 38.0, 950.0])
    np.testing.assert_allclose(cr.special.gammainc(cr.tensor(a, dtype=cr.float64),
                                                   cr.tensor(z, dtype=cr.float64)).numpy(),
                               special.gammainc(a, z), rtol=1e-13)


def test_second_derivatives_match_torch(torch):
    x = [0.7, 1.9, 5.0]
    for name in ("lgamma", "digamma", "erfinv", "i0", "i1e", "erfc"):
        fc = getattr(cr.special, "gammaln" if name == "lgamma" else name)
        ft = getattr(torch.special, "gammaln" if name == "lgamma" else name)
        arg = [v / 6 for v in x] if name == "erfinv" else x
        hc = func.hessian(lambda t: fc(t).sum())(cr.tensor(arg, dtype=cr.float64))
        ht = torch.autograd.functional.hessian(lambda t: ft(t).sum(),
                                                torch.tensor(arg, dtype=torch.float64))
        np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-8, err_msg=name)


def test_vmap_batches_without_fallback(torch):
    x = np.random.default_rng(1).uniform(0.2, 3, (4, 3))
    f = lambda m, t: (m.special.gammaln(t) + m.special.erfinv(t / 4) + m.special.i0e(t)  # noqa: E731
                      + m.special.polygamma(2, t) + m.special.zeta(3.0, t)
                      + m.special.log_ndtr(-t) + m.special.ndtri(t / 4)).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = func.vmap(func.grad(lambda t: f(cr, t)))(cr.tensor(x))
    want = torch.func.vmap(torch.func.grad(lambda t: f(torch, t)))(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9)


def test_polynomials_match_torch(torch):
    x = [-1.5, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0]
    n = [0, 1, 2, 3, 7, 12, -1]
    for kind in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                 "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
                 "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                 "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"):
        for deg in (5, 9, cr.tensor(n)):
            tdeg = torch.tensor(n) if isinstance(deg, cr.Tensor) else deg
            got = getattr(cr.special, kind)(cr.tensor(x, dtype=cr.float64), deg)
            want = getattr(torch.special, kind)(torch.tensor(x, dtype=torch.float64), tdeg)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{kind} {deg}")
    assert not cr.special.hermite_polynomial_h(cr.ones(2, requires_grad=True), 2).requires_grad


def test_errors_and_refusals():
    with pytest.raises(NotImplementedError, match="bessel_j0.*scipy.special.j0"):
        cr.special.bessel_j0(cr.ones(2))
    with pytest.raises(NotImplementedError, match="airy_ai"):
        cr.special.airy_ai(cr.ones(2))
    with pytest.raises(RuntimeError, match="negative n"):
        cr.special.polygamma(-1, cr.ones(2))
    with pytest.raises(RuntimeError, match=r"greater than \(p-1\)/2"):
        cr.special.multigammaln(cr.tensor([0.5]), 3)
    q = cr.tensor([2.0], requires_grad=True)
    s = cr.tensor([3.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="zeta"):
        cr.special.zeta(s, q).sum().backward()
    with pytest.raises(NotImplementedError, match="igamma"):
        cr.special.gammainc(s, q).sum().backward()


def test_integer_inputs_and_out():
    assert cr.special.gammaln(cr.tensor([3])).dtype == cr.float32
    assert cr.special.polygamma(1, cr.tensor([1])).dtype == cr.float32
    out = cr.empty(2)
    r = cr.special.erfc(cr.tensor([0.0, 1.0]), out=out)
    assert r is out and out[0].item() == 1.0
