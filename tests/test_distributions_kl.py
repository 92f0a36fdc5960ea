"""kl_divergence against torch (float64, values and gradients w.r.t. both distributions'
parameters) for every registered pair, and the dispatch rules: NotImplementedError for an
unregistered pair, register_kl for new ones, the ambiguity warning."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

R = np.random.default_rng(7)
N = 4


def pos(lo=0.5, hi=3.0, shape=(N,)):
    return R.uniform(lo, hi, shape)


def spd(n=3):
    a = R.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def _d(lib):
    return lib.distributions


# name -> (maker(lib, *params), params factory)
MAKERS = {
    "Normal": (lambda lib, m, s: _d(lib).Normal(m, s), lambda: [R.standard_normal(N), pos()]),
    "Bernoulli": (lambda lib, p: _d(lib).Bernoulli(probs=p), lambda: [R.uniform(0.1, 0.9, N)]),
    "Categorical": (lambda lib, lg: _d(lib).Categorical(logits=lg),
                    lambda: [R.standard_normal((N, 3))]),
    "OneHotCategorical": (lambda lib, p: _d(lib).OneHotCategorical(probs=p),
                          lambda: [R.dirichlet(np.ones(3), N)]),
    "Uniform": (lambda lib, lo, hi: _d(lib).Uniform(lo, hi),
                lambda: [R.uniform(0.05, 0.3, N), R.uniform(0.6, 0.95, N)]),
    "UniformWide": (lambda lib, lo, hi: _d(lib).Uniform(lo, hi),
                    lambda: [R.uniform(-1.0, 0.0, N), R.uniform(1.0, 2.0, N)]),
    "Beta": (lambda lib, a, b: _d(lib).Beta(a, b), lambda: [pos(), pos()]),
    "Gamma": (lambda lib, a, r: _d(lib).Gamma(a, r), lambda: [pos(), pos()]),
    "Exponential": (lambda lib, r: _d(lib).Exponential(r), lambda: [pos()]),
    "Laplace": (lambda lib, m, s: _d(lib).Laplace(m, s), lambda: [R.standard_normal(N), pos()]),
    "Dirichlet": (lambda lib, a: _d(lib).Dirichlet(a), lambda: [pos(shape=(N, 3))]),
    "Poisson": (lambda lib, r: _d(lib).Poisson(r), lambda: [pos()]),
    "Binomial": (lambda lib, p: _d(lib).Binomial(5, probs=p), lambda: [R.uniform(0.1, 0.9, N)]),
    "Geometric": (lambda lib, p: _d(lib).Geometric(probs=p), lambda: [R.uniform(0.1, 0.9, N)]),
    "HalfNormal": (lambda lib, s: _d(lib).HalfNormal(s), lambda: [pos()]),
    "Cauchy": (lambda lib, m, s: _d(lib).Cauchy(m, s), lambda: [R.standard_normal(N), pos()]),
    "Gumbel": (lambda lib, m, s: _d(lib).Gumbel(m, s), lambda: [R.standard_normal(N), pos()]),
    "Pareto": (lambda lib, s, a: _d(lib).Pareto(s, a), lambda: [pos(0.5, 1.0), pos(2.5, 5.0)]),
    "ContinuousBernoulli": (lambda lib, p: _d(lib).ContinuousBernoulli(probs=p),
                            lambda: [np.array([0.1, 0.4995, 0.7, 0.93])]),
    "UniformUnit": (lambda lib, lo, hi: _d(lib).Uniform(lo, hi),
                    lambda: [np.array([0.0, 0.1, 0.2, -0.1]), np.array([1.0, 0.9, 1.2, 0.5])]),
    "LogNormal": (lambda lib, m, s: _d(lib).LogNormal(m, s), lambda: [R.standard_normal(N), pos()]),
    "IndependentNormal": (lambda lib, m, s: _d(lib).Independent(_d(lib).Normal(m, s), 1),
                          lambda: [R.standard_normal((N, 3)), pos(shape=(N, 3))]),
    "MVN": (lambda lib, m, c: _d(lib).MultivariateNormal(m, covariance_matrix=c),
            lambda: [R.standard_normal((2, 3)), spd()]),
    "MVNtril": (lambda lib, m, lt: _d(lib).MultivariateNormal(m, scale_tril=lt),
                lambda: [R.standard_normal(3), np.linalg.cholesky(np.stack([spd(), spd()]))]),
    "LowRankMVN": (lambda lib, m, w, d: _d(lib).LowRankMultivariateNormal(m, w, d),
                   lambda: [R.standard_normal((2, 3)), R.standard_normal((3, 2)), pos(shape=(3,))]),
}

PAIRS = [
    ("Normal", "Normal"), ("Bernoulli", "Bernoulli"), ("Categorical", "Categorical"),
    ("OneHotCategorical", "OneHotCategorical"), ("Uniform", "UniformWide"),
    ("UniformWide", "Uniform"), ("Beta", "Beta"), ("Gamma", "Gamma"),
    ("Exponential", "Exponential"), ("Laplace", "Laplace"), ("Dirichlet", "Dirichlet"),
    ("Poisson", "Poisson"), ("Binomial", "Binomial"), ("Geometric", "Geometric"),
    ("HalfNormal", "HalfNormal"), ("Cauchy", "Cauchy"), ("LogNormal", "LogNormal"),
    ("IndependentNormal", "IndependentNormal"), ("MVN", "MVN"), ("MVNtril", "MVN"),
    ("MVN", "MVNtril"), ("LowRankMVN", "LowRankMVN"), ("MVN", "LowRankMVN"),
    ("LowRankMVN", "MVN"),
    # across families
    ("Bernoulli", "Poisson"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"),
    ("Beta", "UniformWide"), ("Exponential", "Gamma"), ("Exponential", "Normal"),
    ("Exponential", "Uniform"), ("Gamma", "Exponential"), ("Gamma", "Normal"),
    ("Gamma", "Beta"), ("Laplace", "Normal"), ("Laplace", "Gamma"), ("Normal", "Laplace"),
    ("Normal", "Exponential"), ("Poisson", "Bernoulli"), ("Uniform", "Beta"),
    ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Normal"),
    ("Gumbel", "Gumbel"), ("Pareto", "Pareto"), ("Exponential", "Gumbel"), ("Gamma", "Gumbel"),
    ("Gumbel", "Normal"), ("Normal", "Gumbel"), ("Pareto", "Exponential"), ("Pareto", "Gamma"),
    ("Pareto", "Normal"), ("Uniform", "Gumbel"), ("UniformWide", "Pareto"),
    ("Gumbel", "Exponential"), ("Normal", "Pareto"), ("Pareto", "UniformWide"),
    ("ContinuousBernoulli", "ContinuousBernoulli"), ("Beta", "ContinuousBernoulli"),
    ("Uniform", "ContinuousBernoulli"), ("UniformUnit", "ContinuousBernoulli"),
    ("ContinuousBernoulli", "Exponential"), ("ContinuousBernoulli", "Normal"),
    ("ContinuousBernoulli", "UniformUnit"), ("ContinuousBernoulli", "Pareto"),
    ("Normal", "ContinuousBernoulli"), ("Gamma", "ContinuousBernoulli"),
]


def _build(lib, name, arrays):
    make = MAKERS[name][0]
    params = [lib.tensor(a, dtype=lib.float64).requires_grad_(True) for a in arrays]
    return make(lib, *params), params


@pytest.mark.parametrize("pname,qname", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(torch, pname, qname):
    global R
    R = np.random.default_rng(zlib.crc32(f"{pname}-{qname}".encode()))
    p_arr, q_arr = MAKERS[pname][1](), MAKERS[qname][1]()
    results = []
    for lib in (cr, torch):
        p, pp = _build(lib, pname, p_arr)
        q, qp = _build(lib, qname, q_arr)
        kl = lib.distributions.kl_divergence(p, q)
        arr = kl.detach().numpy()
        grads = None
        if kl.requires_grad and np.isfinite(arr).all():
            grads = [None if g is None else g.numpy()
                     for g in lib.autograd.grad(kl.sum(), pp + qp, allow_unused=True)]
        results.append((arr, grads))
    (mine, mg), (ref, rg) = results
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)
    if rg is not None:
        for g, r in zip(mg, rg):
            if r is None:
                assert g is None or not np.any(g)
            else:
                # torch's trigamma (inside digamma's gradient) is good to ~1e-10 absolute
                np.testing.assert_allclose(g, r, rtol=1e-8, atol=1e-9)


def test_unregistered_pair_raises_as_torch(torch):
    d = cr.distributions
    with pytest.raises(NotImplementedError) as mine:
        d.kl_divergence(d.Cauchy(0.0, 1.0), d.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError) as ref:
        torch.distributions.kl_divergence(torch.distributions.Cauchy(0.0, 1.0),
                                          torch.distributions.Normal(0.0, 1.0))
    assert str(mine.value) == str(ref.value)
    assert "p type Cauchy and q type Normal" in str(mine.value)


def test_register_kl_for_new_classes_and_subclass_dispatch():
    d = cr.distributions

    class MyNormal(d.Normal):
        pass

    # a subclass without its own registration uses the parent's
    kl = d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0))
    assert abs(kl.item() - 0.5) < 1e-6

    @d.register_kl(MyNormal, d.Normal)
    def _kl_mine(p, q):
        return cr.tensor(42.0)

    assert d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0)).item() == 42.0
    assert d.kl_divergence(d.Normal(0.0, 1.0), d.Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    with pytest.raises(TypeError, match="Distribution subclass"):
        d.register_kl(int, d.Normal)


def test_ambiguous_registration_warns():
    d = cr.distributions

    class A(d.Normal):
        pass

    class B(d.Normal):
        pass

    d.register_kl(A, d.Normal)(lambda p, q: cr.tensor(1.0))
    d.register_kl(d.Normal, B)(lambda p, q: cr.tensor(2.0))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d.kl_divergence(A(0.0, 1.0), B(0.0, 1.0))
    assert any("Ambiguous kl_divergence(A, B)" in str(x.message) for x in w)


def test_kl_of_vae_posterior_to_standard_normal_in_float32():
    d = cr.distributions
    mu = cr.zeros(8, 2, requires_grad=True)
    log_var = cr.zeros(8, 2, requires_grad=True)
    q = d.Normal(mu, (0.5 * log_var).exp())
    kl = d.kl_divergence(q, d.Normal(cr.zeros_like(mu), cr.ones_like(mu))).sum(-1)
    assert kl.dtype == cr.float32 and tuple(kl.shape) == (8,)
    kl.sum().backward()
    assert np.allclose(mu.grad.numpy(), 0) and np.allclose(log_var.grad.numpy(), 0)
