"""``chainrule.distributions``: probability distributions with PyTorch's API
(``torch.distributions``): sampling (reparameterised where possible), log densities,
entropies, moments, CDFs, transforms, constraints and KL divergences.

Example::

    import chainrule as cr
    from chainrule.distributions import Normal, kl_divergence

    q = Normal(mu, log_var.mul(0.5).exp())        # a VAE's posterior
    z = q.rsample()                               # gradients flow to mu and log_var
    kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
"""

import importlib

_LAZY = {  # public name -> the submodule defining it (imported on first use)
    "AbsTransform": "transforms", "AffineTransform": "transforms", "Bernoulli": "bernoulli",
    "Beta": "beta", "biject_to": "constraint_registry", "Binomial": "binomial",
    "Categorical": "categorical", "CatTransform": "transforms", "Cauchy": "cauchy",
    "Chi2": "chi2", "ComposeTransform": "transforms",
    "ContinuousBernoulli": "continuous_bernoulli", "CorrCholeskyTransform": "transforms",
    "CumulativeDistributionTransform": "transforms", "Dirichlet": "dirichlet",
    "Distribution": "distribution", "Exponential": "exponential",
    "ExponentialFamily": "exp_family", "ExpTransform": "transforms",
    "FisherSnedecor": "fishersnedecor", "Gamma": "gamma",
    "GeneralizedPareto": "generalized_pareto", "Geometric": "geometric", "Gumbel": "gumbel",
    "HalfCauchy": "half_cauchy", "HalfNormal": "half_normal", "identity_transform": "transforms",
    "Independent": "independent", "IndependentTransform": "transforms",
    "InverseGamma": "inverse_gamma", "kl_divergence": "kl", "Kumaraswamy": "kumaraswamy",
    "Laplace": "laplace", "LKJCholesky": "lkj_cholesky", "LogisticNormal": "logistic_normal",
    "LogNormal": "log_normal", "LowerCholeskyTransform": "transforms",
    "LowRankMultivariateNormal": "lowrank_multivariate_normal",
    "MixtureSameFamily": "mixture_same_family", "Multinomial": "multinomial",
    "MultivariateNormal": "multivariate_normal", "NegativeBinomial": "negative_binomial",
    "Normal": "normal", "OneHotCategorical": "one_hot_categorical",
    "OneHotCategoricalStraightThrough": "one_hot_categorical", "Pareto": "pareto",
    "Poisson": "poisson", "PositiveDefiniteTransform": "transforms",
    "PowerTransform": "transforms", "register_kl": "kl", "RelaxedBernoulli": "relaxed_bernoulli",
    "RelaxedOneHotCategorical": "relaxed_categorical", "ReshapeTransform": "transforms",
    "SigmoidTransform": "transforms", "SoftmaxTransform": "transforms",
    "SoftplusTransform": "transforms", "StackTransform": "transforms",
    "StickBreakingTransform": "transforms", "StudentT": "studentT",
    "TanhTransform": "transforms", "Transform": "transforms",
    "transform_to": "constraint_registry", "TransformedDistribution": "transformed_distribution",
    "Uniform": "uniform", "VonMises": "von_mises", "Weibull": "weibull", "Wishart": "wishart",
}

__all__ = sorted(_LAZY, key=str.lower)


def __getattr__(name):
    """Import the submodule behind a public name (or a submodule) on first access, so that
    ``import chainrule`` does not pay for 50 modules it may never use."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
