"""Sampling: shapes and dtypes, reproducibility under chainrule.manual_seed, and the law of the
samples at fixed seeds (sample means and variances within a few standard errors of the true
moments, Kolmogorov-Smirnov distance to the CDF, frequencies of discrete values), plus the
reparameterisation gradients of rsample (exact where pathwise formulas are closed-form,
statistical for the implicit Gamma/Beta/Dirichlet gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

D = cr.distributions
N = 20000


def t(*v):
    return cr.tensor(np.array(v, dtype=np.float64))


CONTINUOUS = {
    "Normal": lambda: D.Normal(t(0.5, -2.0), t(1.5, 0.3)),
    "Uniform": lambda: D.Uniform(t(-1.0, 2.0), t(3.0, 2.5)),
    "Exponential": lambda: D.Exponential(t(0.5, 4.0)),
    "Laplace": lambda: D.Laplace(t(1.0, -1.0), t(0.5, 2.0)),
    "Gamma": lambda: D.Gamma(t(0.3, 2.0, 50.0), t(1.0, 3.0, 0.5)),
    "Chi2": lambda: D.Chi2(t(1.0, 6.0)),
    "Beta": lambda: D.Beta(t(0.5, 2.0, 8.0), t(0.5, 5.0, 1.5)),
    "LogNormal": lambda: D.LogNormal(t(0.0, 1.0), t(0.25, 0.5)),
    "HalfNormal": lambda: D.HalfNormal(t(1.0, 0.2)),
    "StudentT": lambda: D.StudentT(t(6.0, 10.0), t(0.0, 2.0), t(1.0, 0.5)),
    "Dirichlet": lambda: D.Dirichlet(t(0.5, 1.0, 3.0)),
    "MultivariateNormal": lambda: D.MultivariateNormal(
        t(1.0, -1.0), covariance_matrix=t(2.0, 0.6, 0.6, 0.5).reshape(2, 2)),
    "LowRankMultivariateNormal": lambda: D.LowRankMultivariateNormal(
        t(0.0, 1.0, 2.0), t(1.0, 0.5, -1.0).reshape(3, 1), t(0.5, 0.2, 1.0)),
    "Independent": lambda: D.Independent(D.Normal(t(0.0, 3.0), t(1.0, 2.0)), 1),
    "MixtureSameFamily": lambda: D.MixtureSameFamily(
        D.Categorical(probs=t(0.3, 0.7)), D.Normal(t(-2.0, 2.0), t(0.5, 1.0))),
    "Gumbel": lambda: D.Gumbel(t(0.0, 2.0), t(1.0, 0.5)),
    "Pareto": lambda: D.Pareto(t(1.0, 2.0), t(5.0, 9.0)),
    "Weibull": lambda: D.Weibull(t(1.0, 2.0), t(0.8, 3.0)),
    "Multinomial": lambda: D.Multinomial(7, probs=t(0.2, 0.3, 0.5)),
    "InverseGamma": lambda: D.InverseGamma(t(5.0, 9.0), t(1.0, 3.0)),
    "FisherSnedecor": lambda: D.FisherSnedecor(t(6.0, 12.0), t(20.0, 30.0)),
    "Kumaraswamy": lambda: D.Kumaraswamy(t(0.8, 3.0), t(2.0, 0.6)),
    "ContinuousBernoulli": lambda: D.ContinuousBernoulli(probs=t(0.2, 0.5, 0.8)),
    "GeneralizedPareto": lambda: D.GeneralizedPareto(t(0.0, 1.0), t(1.0, 2.0), t(0.1, -0.2)),
    "TransformedTanh": lambda: D.TransformedDistribution(D.Normal(t(0.3), t(0.8)),
                                                         [D.TanhTransform()]),
}
DISCRETE = {
    "Bernoulli": (lambda: D.Bernoulli(probs=t(0.2, 0.9)), 2),
    "Categorical": (lambda: D.Categorical(probs=t(0.1, 0.6, 0.0, 0.3)), 4),
    "Poisson": (lambda: D.Poisson(t(0.7, 4.0)), 15),
    "Binomial": (lambda: D.Binomial(t(5.0, 12.0), probs=t(0.3, 0.8), validate_args=False), 13),
    "Geometric": (lambda: D.Geometric(probs=t(0.3, 0.75)), 30),
    "NegativeBinomial": (lambda: D.NegativeBinomial(t(2.0, 5.5), probs=t(0.3, 0.6)), 60),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_samples_have_the_right_law(name):
    d = CONTINUOUS[name]()
    cr.manual_seed(0)
    s = d.sample((N,))
    assert tuple(s.shape) == (N,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert s.dtype == cr.float64 and not s.requires_grad
    assert bool(d.support.check(s).all())
    x = s.numpy()
    if name == "TransformedTanh":  # no closed-form moments (torch has none either)
        base = np.tanh(0.3 + 0.8 * np.random.default_rng(0).standard_normal(10 ** 6))
        assert abs(x.mean() - base.mean()) < 5 * base.std() / np.sqrt(N)
        return
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / N)), (x.mean(0), mean)
    # the sample variance's standard error, with the sample's own fourth moment
    m4 = ((x - mean) ** 4).mean(0)
    se = np.sqrt(np.maximum(m4 - var ** 2, 1e-30) / N)
    assert np.all(np.abs(x.var(0) - var) < 6 * se), (x.var(0), var)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "Gamma",
                                  "LogNormal", "HalfNormal", "Cauchy", "TransformedTanh",
                                  "ContinuousBernoulli", "GeneralizedPareto", "Kumaraswamy"])
def test_kolmogorov_smirnov_distance_to_the_cdf(name):
    d = D.Cauchy(t(0.0, 3.0), t(1.0, 0.1)) if name == "Cauchy" else CONTINUOUS[name]()
    cr.manual_seed(1)
    s = cr.tensor(np.sort(d.sample((N,)).numpy(), axis=0))
    cdf = d.cdf(s).detach().numpy()
    ecdf = np.arange(1, N + 1)[:, None] / N
    ks = np.max(np.abs(cdf - ecdf))
    assert ks < 1.95 / np.sqrt(N), ks  # the 0.1% critical value


@pytest.mark.parametrize("name", sorted(DISCRETE))
def test_discrete_frequencies_match_the_pmf(name):
    make, k = DISCRETE[name]
    d = make()
    cr.manual_seed(2)
    s = d.sample((N,))
    assert bool(d.support.check(s).all())
    values = cr.arange(k, dtype=cr.float64)
    shape = (k,) + (1,) * len(d.batch_shape)
    if name == "Categorical":
        assert s.dtype == cr.int64
        pmf = d.log_prob(cr.arange(k)).exp().numpy()
        freq = np.array([(s.numpy() == i).mean() for i in range(k)])
    else:
        assert s.dtype == cr.float64
        pmf = d.log_prob(values.reshape(shape)).exp().numpy()
        freq = np.stack([(s.numpy() == i).mean(0) for i in range(k)])
    assert np.all(np.abs(freq - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / N) + 1e-12)
    if name == "Categorical":
        assert freq[2] == 0.0  # a zero-probability category is never drawn


def test_one_hot_and_relaxed_samples():
    cr.manual_seed(3)
    oh = D.OneHotCategorical(probs=t(0.2, 0.8)).sample((N,))
    assert tuple(oh.shape) == (N, 2) and bool((oh.sum(-1) == 1).all())
    assert abs(oh.numpy()[:, 1].mean() - 0.8) < 0.02
    r = D.RelaxedOneHotCategorical(t(0.1), probs=t(0.2, 0.8)).rsample((N,))
    assert np.allclose(r.sum(-1).numpy(), 1.0) and abs((r.numpy()[:, 1] > 0.5).mean() - 0.8) < 0.02
    rb = D.RelaxedBernoulli(t(0.05), probs=t(0.3)).rsample((N,)).numpy()
    assert ((rb > 0) & (rb < 1)).all() and abs((rb > 0.5).mean() - 0.3) < 0.02


def test_manual_seed_makes_sampling_repeatable():
    for make in [CONTINUOUS["Gamma"], CONTINUOUS["Dirichlet"], DISCRETE["Poisson"][0],
                 DISCRETE["Categorical"][0], CONTINUOUS["Normal"]]:
        d = make()
        cr.manual_seed(123)
        a = d.sample((50,)).numpy()
        cr.manual_seed(123)
        b = d.sample((50,)).numpy()
        c = d.sample((50,)).numpy()
        assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sample_shape_forms_and_sample_n():
    d = D.Normal(cr.zeros(3), cr.ones(3))
    assert tuple(d.sample().shape) == (3,)
    assert tuple(d.sample((2, 4)).shape) == (2, 4, 3)
    assert tuple(d.sample(cr.Size([5])).shape) == (5, 3)
    assert tuple(d.rsample([2]).shape) == (2, 3)
    with pytest.warns(FutureWarning, match="sample_n"):
        assert tuple(d.sample_n(7).shape) == (7, 3)
    assert d.sample().dtype == cr.float32


def test_rsample_only_where_torch_has_it(torch):
    for name in ["Bernoulli", "Categorical", "Poisson", "Binomial", "Geometric"]:
        d = DISCRETE[name][0]()
        assert not d.has_rsample
        with pytest.raises(NotImplementedError):
            d.rsample()
    for name, d in [("Normal", D.Normal(0.0, 1.0)), ("Gamma", D.Gamma(1.0, 1.0)),
                    ("Beta", D.Beta(1.0, 1.0)), ("MixtureSameFamily",
                                                  CONTINUOUS["MixtureSameFamily"]())]:
        assert d.has_rsample == getattr(torch.distributions, name).has_rsample


def test_pathwise_gradients_are_exact_for_location_scale_families():
    cr.manual_seed(4)
    loc = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    scale = cr.tensor([2.0, 0.5], dtype=cr.float64, requires_grad=True)
    for cls in (D.Normal, D.Laplace, D.Cauchy):
        x = cls(loc, scale).rsample((10,))
        gl, gs = cr.autograd.grad(x.sum(), [loc, scale])
        eps = (x.detach() - loc.detach()) / scale.detach()
        np.testing.assert_allclose(gl.numpy(), [10, 10])
        np.testing.assert_allclose(gs.numpy(), eps.sum(0).numpy(), rtol=1e-12)
    rate = cr.tensor([0.5, 3.0], dtype=cr.float64, requires_grad=True)
    x = D.Exponential(rate).rsample((10,))
    (g,) = cr.autograd.grad(x.sum(), [rate])
    np.testing.assert_allclose(g.numpy(), (-x.detach() / rate.detach()).sum(0).numpy())


def _grad_of_mean(make, param, n=N):
    cr.manual_seed(5)
    p = cr.tensor(param, dtype=cr.float64, requires_grad=True)
    x = make(p).rsample((n,))
    (g,) = cr.autograd.grad(x.mean(0).sum(), [p])
    return g.numpy()


def test_gamma_rsample_gradient_is_unbiased():
    # E[x] = a / r: d/da = 1 / r, d/dr = -a / r^2
    np.testing.assert_allclose(_grad_of_mean(lambda a: D.Gamma(a, 2.0), [0.5, 3.0]),
                               [0.5, 0.5], rtol=0.03)
    np.testing.assert_allclose(_grad_of_mean(lambda r: D.Gamma(3.0, r), [0.5, 2.0]),
                               [-12.0, -0.75], rtol=0.03)
    # E[x^2] = a (a + 1): d/da = 2a + 1 (a second moment, so not the mean's linearity)
    cr.manual_seed(6)
    a = cr.tensor([0.7, 4.0], dtype=cr.float64, requires_grad=True)
    x = D.Gamma(a, 1.0).rsample((N,))
    (g,) = cr.autograd.grad((x ** 2).mean(0).sum(), [a])
    np.testing.assert_allclose(g.numpy(), [2.4, 9.0], rtol=0.05)


def test_beta_and_dirichlet_rsample_gradients_are_unbiased():
    # Beta: E[x] = a / (a + b): d/da = b / (a + b)^2
    g = _grad_of_mean(lambda a: D.Beta(a, cr.tensor([2.0, 0.5], dtype=cr.float64)), [1.5, 3.0])
    np.testing.assert_allclose(g, [2.0 / 3.5 ** 2, 0.5 / 3.5 ** 2], rtol=0.05)
    # Dirichlet: d E[x_0] / d a_j = (delta_0j S - a_0) / S^2
    cr.manual_seed(7)
    a = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    x = D.Dirichlet(a).rsample((N,))
    (g,) = cr.autograd.grad(x[:, 0].mean(), [a])
    np.testing.assert_allclose(g.numpy(), [(6 - 1) / 36, -1 / 36, -1 / 36], rtol=0.06)


def test_studentt_and_chi2_rsample_flow_to_df():
    g = _grad_of_mean(lambda df: D.Chi2(df), [3.0, 7.0])
    np.testing.assert_allclose(g, [1.0, 1.0], rtol=0.05)  # E = df
    cr.manual_seed(8)
    df = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
    x = D.StudentT(df).rsample((N,))
    (g,) = cr.autograd.grad((x ** 2).mean(), [df])
    # Var = df / (df - 2): d/d df = -2 / (df - 2)^2
    assert abs(g.item() - (-2 / 9)) < 0.1


def test_sample_is_detached_and_rsample_float32_grads():
    mu = cr.zeros(4, requires_grad=True)
    d = D.Normal(mu, 1.0)
    assert not d.sample().requires_grad
    z = d.rsample()
    assert z.requires_grad and z.dtype == cr.float32
    a = cr.ones(3, requires_grad=True)
    g = D.Gamma(a, 1.0).rsample()
    assert g.dtype == cr.float32
    g.sum().backward()
    assert a.grad.dtype == cr.float32 and np.isfinite(a.grad.numpy()).all()


def test_categorical_small_and_large_draws_agree_in_law():
    """Both sampling paths (elementwise comparison for small draws, one sorted search for
    large ones) give the pmf and never a zero-probability category."""
    d = D.Categorical(probs=t(0.1, 0.6, 0.0, 0.3))
    cr.manual_seed(9)
    small = np.concatenate([d.sample((500,)).numpy() for _ in range(40)])
    large = d.sample((N,)).numpy()
    for s in (small, large):
        freq = np.bincount(s, minlength=4) / s.size
        assert freq[2] == 0 and np.all(np.abs(freq - [0.1, 0.6, 0.0, 0.3]) < 0.015)
    batched = D.Categorical(logits=cr.tensor([[0.0, 5.0], [5.0, 0.0]])).sample((300,)).numpy()
    assert (batched[:, 0] == 1).mean() > 0.95 and (batched[:, 1] == 0).mean() > 0.95


def test_von_mises_circular_moments():
    d = D.VonMises(t(0.5, -2.5), t(0.8, 10.0))
    cr.manual_seed(10)
    s = d.sample((N,)).numpy()
    assert s.min() >= -np.pi and s.max() < np.pi and not d.has_rsample
    resultant = np.exp(1j * s).mean(0)
    np.testing.assert_allclose(np.angle(resultant), [0.5, -2.5], atol=0.03)
    np.testing.assert_allclose(1 - np.abs(resultant), d.variance.numpy(), atol=0.01)


def test_wishart_and_lkj_samples():
    cov = t(2.0, 0.5, 0.5, 1.0).reshape(2, 2)
    d = D.Wishart(cr.tensor(6.0, dtype=cr.float64), covariance_matrix=cov)
    cr.manual_seed(11)
    s = d.sample((N,))
    assert tuple(s.shape) == (N, 2, 2) and bool(d.support.check(s).all())
    x = s.numpy()
    np.testing.assert_allclose(x.mean(0), d.mean.numpy(), rtol=0.03)
    np.testing.assert_allclose(x.var(0), d.variance.numpy(), rtol=0.08)
    df = cr.tensor(6.0, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(D.Wishart(df, covariance_matrix=cov).rsample((2000,)).mean(0).sum(),
                            [df])
    assert abs(g.item() - cov.sum().item()) < 0.15  # d E[W] / d df = Sigma
    lkj = D.LKJCholesky(3, cr.tensor(2.0, dtype=cr.float64))
    L = lkj.sample((N,))
    assert bool(lkj.support.check(L).all())
    corr = (L @ L.mT).numpy()
    # eta = 2, d = 3: every off-diagonal correlation has mean 0 and variance
    # 1 / (2 eta + d - 1) (torch 2.13's sampler gives ~0.21 for rows >= 2: see lkj_cholesky.py)
    for i, j in ((1, 0), (2, 0), (2, 1)):
        np.testing.assert_allclose(corr[:, i, j].mean(), 0.0, atol=0.02)
        np.testing.assert_allclose(corr[:, i, j].var(), 1 / 6, rtol=0.05)
