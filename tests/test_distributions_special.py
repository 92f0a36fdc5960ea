"""The special functions behind chainrule.distributions (lgamma, digamma, polygamma, erfinv,
atan, xlogy, gammainc) against torch and finite differences, and the implicit
reparameterisation gradient of Gamma samples against a high-precision reference."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.distributions import _gamma, _special

X = np.concatenate([np.logspace(-8, 3, 60), np.linspace(0.05, 20, 60), [1.0, 2.0, 1.4616],
                    -np.linspace(0.05, 9.9, 30) - 0.013])


def _cmp(mine, ref, rtol, atol=1e-13):
    np.testing.assert_allclose(mine, ref, rtol=rtol, atol=atol, equal_nan=True)


def test_lgamma_digamma_polygamma_match_torch(torch):
    tx = torch.tensor(X)
    _cmp(_special.lgamma_array(X), torch.lgamma(tx).numpy(), 1e-12)
    _cmp(_special.polygamma_array(0, X), torch.digamma(tx).numpy(), 1e-11, 1e-12)
    for n in (1, 2, 3):
        # torch's polygamma is good to ~1e-10 relative (ours: rounding), hence the tolerance
        _cmp(_special.polygamma_array(n, X), torch.polygamma(n, tx).numpy(), 1e-8)


def test_special_values_at_poles_and_infinity(torch):
    x = np.array([0.0, -1.0, -2.0, np.inf, np.nan])
    _cmp(_special.lgamma_array(x), torch.lgamma(torch.tensor(x)).numpy(), 0)
    assert _special.polygamma_array(0, np.array([0.0]))[0] == -np.inf  # as torch.digamma(0)
    assert np.isnan(_special.polygamma_array(0, np.array([-1.0]))[0])


def test_erfinv_matches_torch_including_the_tails(torch):
    u = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-12, -1 + 1e-15,
                                                                 1 - 2 ** -53, 1e-300, 0.0]])
    _cmp(_special.erfinv_array(u), torch.erfinv(torch.tensor(u)).numpy(), 1e-12)
    edge = _special.erfinv_array(np.array([1.0, -1.0, 1.5]))
    assert edge[0] == np.inf and edge[1] == -np.inf and np.isnan(edge[2])


@pytest.mark.parametrize("fn", ["lgamma", "digamma", "erfinv", "atan"])
def test_primitives_gradcheck_and_float32(fn):
    f = getattr(_special, fn)
    lo, hi = (-0.9, 0.9) if fn == "erfinv" else (0.3, 4.0)
    x = cr.tensor(np.random.default_rng(0).uniform(lo, hi, 6), dtype=cr.float64,
                  requires_grad=True)
    assert gradcheck(f, (x,), check_forward_ad=True)
    assert gradcheck(lambda t: _special.polygamma(1, t), (x.abs() + 0.1,))
    y32 = f(cr.tensor([0.5, 0.7]))
    assert y32.dtype == cr.float32


def test_second_derivative_of_lgamma_is_trigamma(torch):
    x = cr.tensor([0.7, 3.2], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(_special.lgamma(x).sum(), [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    ref = torch.polygamma(1, torch.tensor([0.7, 3.2], dtype=torch.float64)).numpy()
    _cmp(h.numpy(), ref, 1e-8)


def test_xlogy_zero_times_log_zero():
    x = cr.tensor([0.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([0.0, 3.0], dtype=cr.float64, requires_grad=True)
    out = _special.xlogy(x, y)
    assert out.tolist() == [0.0, 2 * np.log(3.0)]
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and np.isfinite(y.grad.numpy()).all()


def test_gammainc_matches_torch_and_its_alpha_gradient_matches_finite_differences(torch):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 30, 40)
    x = rng.gamma(a) * rng.uniform(0.3, 2.0, 40)
    for upper, tfn in ((False, torch.special.gammainc), (True, torch.special.gammaincc)):
        val, da, dx = _gamma.gammainc_arrays(a, x, upper)
        # torch's igamma is good to ~1e-9 relative for a ~ 20-30 (ours to ~1e-14: checked
        # against mpmath while writing this); hence 1e-8
        _cmp(val, tfn(torch.tensor(a), torch.tensor(x)).numpy(), 1e-8, 1e-14)
        h = 1e-6 * a
        fd = (_gamma.gammainc_arrays(a + h, x, upper)[0]
              - _gamma.gammainc_arrays(a - h, x, upper)[0]) / (2 * h)
        np.testing.assert_allclose(da, fd, rtol=1e-5, atol=1e-9)
        tx = torch.tensor(x, requires_grad=True)
        tfn(torch.tensor(a), tx).sum().backward()
        _cmp(dx, tx.grad.numpy(), 1e-9, 1e-14)


def test_standard_gamma_grad_is_the_implicit_derivative():
    """dx/da at a fixed CDF level u, by finite differences of the inverse CDF (Newton's
    method on our own gammainc, which is checked against torch above)."""
    def quantile(a, u):
        x = a.copy()
        for _ in range(20):
            p, _, dens = _gamma.gammainc_arrays(a, x)
            x = np.maximum(x - (p - u) / dens, x / 10)
        return x

    a = np.array([0.4, 1.0, 2.5, 7.0, 40.0, 300.0, 3000.0])
    for u in (0.01, 0.5, 0.97):
        uu = np.full_like(a, u)
        x = quantile(a, uu)
        h = 1e-5 * a
        fd = (quantile(a + h, uu) - quantile(a - h, uu)) / (2 * h)
        np.testing.assert_allclose(_gamma.standard_gamma_grad_array(a, x), fd, rtol=2e-5)


def test_standard_gamma_grad_close_to_torch(torch):
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 20, 200)
    x = rng.gamma(a)
    ref = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    # torch's approximation is within ~1e-3 relative of the exact derivative in this range
    np.testing.assert_allclose(_gamma.standard_gamma_grad_array(a, x), ref, rtol=2e-3)


def test_wilson_hilferty_branch_for_huge_concentration():
    a = np.array([2e4, 1e5])
    x = a + np.sqrt(a) * np.array([1.5, -2.0])
    d = _gamma.standard_gamma_grad_array(a, x)
    # dx/da ~ 1 + z / (2 sqrt a) for large a
    np.testing.assert_allclose(d, 1 + np.array([1.5, -2.0]) / (2 * np.sqrt(a)), rtol=1e-4)


def test_log_bessel_i_against_scipy_and_gradcheck():
    sp = pytest.importorskip("scipy.special")
    from chainrule.distributions import _bessel

    x = np.concatenate([np.logspace(-8, 3, 200), [0.0, 14.99, 15.0, 15.01]])
    for nu, scaled in ((0, sp.i0e), (1, sp.i1e)):
        with np.errstate(divide="ignore"):
            ref = np.log(scaled(x)) + x
        got = _bessel.log_bessel_i_array(nu, x)
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
    k = cr.tensor([0.3, 2.0, 14.0, 16.0, 40.0], dtype=cr.float64, requires_grad=True)
    for nu in (0, 1):
        assert gradcheck(lambda t, nu=nu: _bessel.log_bessel_i(t, nu), (k,),
                         check_forward_ad=True)
    (g,) = cr.autograd.grad(_bessel.log_bessel_i(k, 0).sum(), [k], create_graph=True)
    assert gradcheck(lambda t: cr.autograd.grad(_bessel.log_bessel_i(t, 0).sum(), [t],
                                                create_graph=True)[0], (k,))


def test_von_mises_matches_torch_to_its_bessel_accuracy(torch):
    loc, kappa = [0.0, 1.0, -2.0], [0.5, 20.0, 3.0]
    v = [0.3, 1.2, 3.0]
    mine = cr.distributions.VonMises(cr.tensor(loc, dtype=cr.float64),
                                     cr.tensor(kappa, dtype=cr.float64, requires_grad=True))
    ref = torch.distributions.VonMises(torch.tensor(loc, dtype=torch.float64),
                                       torch.tensor(kappa, dtype=torch.float64,
                                                    requires_grad=True))
    # torch's Bessel polynomials are good to ~1e-7 relative
    lp, tlp = mine.log_prob(cr.tensor(v, dtype=cr.float64)), ref.log_prob(torch.tensor(v))
    np.testing.assert_allclose(lp.detach().numpy(), tlp.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mine.variance.detach().numpy(), ref.variance.detach().numpy(),
                               rtol=1e-5)
    (g,) = cr.autograd.grad(lp.sum(), [mine.concentration])
    (tg,) = torch.autograd.grad(tlp.sum(), [ref.concentration])
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-5)
