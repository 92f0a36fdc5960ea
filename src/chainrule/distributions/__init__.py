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

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .laplace import Laplace
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
    "Distribution", "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Laplace",
    "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson", "Uniform",
]
