"""Small real programs written once against ``lib`` (chainrule or torch) and run on both:
a VAE step, REINFORCE, PPO with a Gaussian policy, a SAC-style tanh-squashed policy, a
Bayesian linear regression by variational inference and a Gaussian-mixture fit. Where the
randomness is supplied from outside the numbers must agree (float64); where chainrule draws
its own samples, the programs must learn what they should."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

R = np.random.default_rng(11)


def _params(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def vae_step(lib, arrays, x, eps=None):
    """One Adam step of a VAE with a Gaussian posterior and a Bernoulli decoder."""
    D = lib.distributions
    params = _params(lib, arrays)
    we, be, wd, bd = params
    opt = lib.optim.Adam(params, lr=1e-2)
    x = lib.tensor(x, dtype=lib.float64)
    h = x @ we + be
    mu, log_var = h[:, :2], h[:, 2:]
    q = D.Independent(D.Normal(mu, (0.5 * log_var).exp()), 1)
    z = q.rsample() if eps is None else mu + (0.5 * log_var).exp() * lib.tensor(eps)
    prior = D.Independent(D.Normal(lib.zeros_like(mu), lib.ones_like(mu)), 1)
    recon = D.Independent(D.Bernoulli(logits=z @ wd + bd), 1).log_prob(x)
    loss = (D.kl_divergence(q, prior) - recon).mean()
    opt.zero_grad()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in params]
    opt.step()
    return loss.item(), grads, [p.detach().numpy() for p in params]


VAE_ARRAYS = [R.standard_normal((6, 4)) * 0.3, np.zeros(4), R.standard_normal((2, 6)) * 0.3,
              np.zeros(6)]
VAE_X = (R.uniform(size=(8, 6)) > 0.5).astype(float)


def test_vae_step_matches_torch(torch):
    eps = R.standard_normal((8, 2))
    mine = vae_step(cr, VAE_ARRAYS, VAE_X, eps)
    ref = vae_step(torch, VAE_ARRAYS, VAE_X, eps)
    assert mine[0] == pytest.approx(ref[0], rel=1e-12)
    for a, b in zip(mine[1] + mine[2], ref[1] + ref[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_vae_trains_with_its_own_samples():
    cr.manual_seed(0)
    arrays = [a.copy() for a in VAE_ARRAYS]
    losses = []
    for _ in range(60):
        loss, _, arrays = vae_step(cr, arrays, VAE_X)
        losses.append(loss)
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.3  # (fresh Adam state per step)


def reinforce_step(lib, arrays, states, actions, returns):
    """A policy-gradient step with an entropy bonus (REINFORCE with a baseline-free return)."""
    D = lib.distributions
    params = _params(lib, arrays)
    w1, b1, w2, b2 = params
    opt = lib.optim.SGD(params, lr=0.1)
    logits = (lib.tensor(states) @ w1 + b1).tanh() @ w2 + b2
    dist = D.Categorical(logits=logits)
    logp = dist.log_prob(lib.tensor(actions))
    loss = -(logp * lib.tensor(returns)).mean() - 0.01 * dist.entropy().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item(), [p.detach().numpy() for p in params], dist.probs.detach().numpy()


def test_reinforce_step_matches_torch(torch):
    arrays = [R.standard_normal((4, 8)) * 0.5, np.zeros(8), R.standard_normal((8, 3)) * 0.5,
              np.zeros(3)]
    states, actions, returns = R.standard_normal((16, 4)), R.integers(0, 3, 16), R.standard_normal(16)
    mine = reinforce_step(cr, arrays, states, actions, returns)
    ref = reinforce_step(torch, arrays, states, actions, returns)
    assert mine[0] == pytest.approx(ref[0], rel=1e-12)
    for a, b in zip(mine[1] + [mine[2]], ref[1] + [ref[2]]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_reinforce_learns_a_bandit():
    """A 3-armed bandit with mean rewards (0, 1, 0.2): the policy, sampling its own actions
    from Categorical, must come to prefer arm 1."""
    cr.manual_seed(1)
    logits = cr.zeros(3, requires_grad=True)
    opt = cr.optim.Adam([logits], lr=0.05)
    means = cr.tensor([0.0, 1.0, 0.2])
    for _ in range(150):
        dist = cr.distributions.Categorical(logits=logits)
        a = dist.sample((32,))
        r = means[a] + 0.1 * cr.randn(32)
        loss = -(dist.log_prob(a) * (r - r.mean())).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert cr.distributions.Categorical(logits=logits).probs[1].item() > 0.9


def ppo_loss(lib, arrays, states, actions, old_logp, adv, clip=0.2):
    """PPO's clipped surrogate with a diagonal Gaussian policy and a state-independent
    log-std; returns the loss and the gradients."""
    D = lib.distributions
    params = _params(lib, arrays)
    w, b, log_std = params
    mean = lib.tensor(states) @ w + b
    pi = D.Normal(mean, log_std.exp())
    logp = pi.log_prob(lib.tensor(actions)).sum(-1)
    ratio = (logp - lib.tensor(old_logp)).exp()
    adv = lib.tensor(adv)
    surrogate = lib.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    loss = -surrogate.mean() - 0.001 * pi.entropy().sum(-1).mean()
    grads = lib.autograd.grad(loss, params)
    return loss.item(), [g.numpy() for g in grads]


def test_ppo_loss_matches_torch(torch):
    arrays = [R.standard_normal((5, 2)) * 0.3, np.zeros(2), np.full(2, -0.5)]
    states, actions = R.standard_normal((32, 5)), R.standard_normal((32, 2))
    old_logp, adv = R.standard_normal(32) - 2.0, R.standard_normal(32)
    mine = ppo_loss(cr, arrays, states, actions, old_logp, adv)
    ref = ppo_loss(torch, arrays, states, actions, old_logp, adv)
    assert mine[0] == pytest.approx(ref[0], rel=1e-12)
    for a, b in zip(mine[1], ref[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def sac_log_prob(lib, arrays, u):
    """A SAC actor's log-probability of tanh-squashed actions (given pre-tanh samples)."""
    D = lib.distributions
    params = _params(lib, arrays)
    mu, log_std = params
    base = D.Normal(mu, log_std.exp())
    pi = D.TransformedDistribution(base, [D.TanhTransform(cache_size=1)])
    a = pi.transforms[0](lib.tensor(u))  # cached: log_prob inverts it exactly
    logp = pi.log_prob(a).sum(-1)
    grads = lib.autograd.grad(logp.sum(), params)
    return logp.detach().numpy(), [g.numpy() for g in grads]


def test_sac_tanh_policy_matches_torch(torch):
    arrays = [R.standard_normal((4, 2)), R.standard_normal((4, 2)) * 0.3]
    u = R.standard_normal((4, 2)) * 3  # includes saturating actions
    mine, ref = sac_log_prob(cr, arrays, u), sac_log_prob(torch, arrays, u)
    np.testing.assert_allclose(mine[0], ref[0], rtol=1e-10)
    for a, b in zip(mine[1], ref[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bayesian_linear_regression_by_variational_inference():
    """Mean-field VI for y = w x + noise: the ELBO's reparameterised gradient must recover
    the exact Gaussian posterior mean within a few percent."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 2))
    y = x @ np.array([1.5, -0.7]) + 0.3 * rng.standard_normal(200)
    X, Y = cr.tensor(x, dtype=cr.float64), cr.tensor(y, dtype=cr.float64)
    D = cr.distributions
    loc = cr.zeros(2, dtype=cr.float64, requires_grad=True)
    raw = cr.full((2,), -2.0, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.Adam([loc, raw], lr=0.05)
    prior = D.Normal(cr.zeros(2, dtype=cr.float64), cr.ones(2, dtype=cr.float64))
    scale_t = D.transform_to(D.constraints.positive)
    cr.manual_seed(2)
    for _ in range(300):
        q = D.Normal(loc, scale_t(raw))
        w = q.rsample((8,))
        lik = D.Normal(w @ X.T, 0.3).log_prob(Y).sum(-1).mean()
        loss = D.kl_divergence(q, prior).sum() - lik
        opt.zero_grad()
        loss.backward()
        opt.step()
    precision = x.T @ x / 0.09 + np.eye(2)
    post_mean = np.linalg.solve(precision, x.T @ y / 0.09)
    np.testing.assert_allclose(loc.detach().numpy(), post_mean, rtol=0.03)


def test_gaussian_mixture_fit_by_maximum_likelihood():
    rng = np.random.default_rng(4)
    data = np.concatenate([rng.normal(-2, 0.5, 300), rng.normal(3, 1.0, 700)])
    X = cr.tensor(data, dtype=cr.float64)
    D = cr.distributions
    logits = cr.zeros(2, dtype=cr.float64, requires_grad=True)
    means = cr.tensor([-1.0, 1.0], dtype=cr.float64, requires_grad=True)
    log_scales = cr.zeros(2, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.Adam([logits, means, log_scales], lr=0.05)
    for _ in range(300):
        gmm = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(means, log_scales.exp()))
        loss = -gmm.log_prob(X).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(means.detach().numpy(), [-2, 3], atol=0.15)
    np.testing.assert_allclose(D.Categorical(logits=logits).probs.detach().numpy(), [0.3, 0.7],
                               atol=0.05)


VMAP_CASES = {
    "Gamma": lambda L, a: L.distributions.Gamma(a, 2.0).log_prob(a).sum(),
    "Beta": lambda L, a: L.distributions.Beta(a, a + 1).log_prob(a * 0.3).sum(),
    "Dirichlet": lambda L, a: L.distributions.Dirichlet(a).log_prob(a / a.sum()),
    "Poisson": lambda L, a: L.distributions.Poisson(a).log_prob(
        L.tensor([0.0, 1.0, 2.0], dtype=L.float64)).sum(),
    "Categorical": lambda L, a: L.distributions.Categorical(logits=a).entropy(),
    "MVN": lambda L, a: L.distributions.MultivariateNormal(
        a, L.eye(3, dtype=L.float64) * 2).log_prob(a * 0),
    "KL": lambda L, a: L.distributions.kl_divergence(L.distributions.Normal(a, 1.0),
                                                     L.distributions.Normal(0.0, a)).sum(),
    "StudentT": lambda L, a: L.distributions.StudentT(a + 2, a, a).entropy().sum(),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_per_example_log_prob_and_gradients_under_vmap(torch, name):
    """vmap / grad over distributions, with validation on (as torch allows), matching torch
    and without falling back to a per-example loop."""
    import warnings

    f = VMAP_CASES[name]
    x = R.uniform(0.5, 1.5, (5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a batching-rule fallback warns
        mine = cr.func.vmap(lambda a: f(cr, a))(cr.tensor(x, dtype=cr.float64)).numpy()
        g = cr.func.vmap(cr.func.grad(lambda a: f(cr, a)))(cr.tensor(x, dtype=cr.float64))
    ref = torch.func.vmap(lambda a: f(torch, a))(torch.tensor(x)).numpy()
    tg = torch.func.vmap(torch.func.grad(lambda a: f(torch, a)))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.numpy(), tg, rtol=1e-8, atol=1e-10)


def test_validation_inside_vmap_still_raises():
    bad = cr.tensor([[1.0, 2.0], [1.0, -1.0]])
    with pytest.raises(ValueError, match="GreaterThan"):
        cr.func.vmap(lambda s: cr.distributions.Normal(0.0, s).log_prob(s))(bad)
