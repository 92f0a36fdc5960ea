"""The Distribution API against torch: shapes, expand, repr, enumerate_support, support and
arg_constraints, validation and its error messages, set_default_validate_args, constraints'
check results, and the torch.distributions module paths under torch_compat."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from ._dist_cases import CASES


# torch warns about singular Wishart samples at small df
pytestmark = pytest.mark.filterwarnings("ignore:Singular sample detected")


def _build(lib, c):
    return c["make"](lib, *[lib.tensor(p, dtype=lib.float64) for p in c["params"]])


def _norm(text):
    return str(text).replace("torch.", "chainrule.")


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_shapes_expand_and_repr_match_torch(torch, c):
    mine, ref = _build(cr, c), _build(torch, c)
    assert tuple(mine.batch_shape) == tuple(ref.batch_shape)
    assert tuple(mine.event_shape) == tuple(ref.event_shape)
    assert isinstance(mine.batch_shape, cr.Size)
    assert repr(mine) == _norm(repr(ref))
    assert mine.has_rsample == ref.has_rsample
    assert mine.has_enumerate_support == ref.has_enumerate_support
    assert _norm(repr(type(ref).support)) == repr(type(mine).support) or isinstance(
        type(ref).__dict__.get("support"), property)
    new_batch = (5,) + tuple(ref.batch_shape)
    m2, r2 = mine.expand(new_batch), ref.expand(new_batch)
    assert type(m2) is type(mine) and tuple(m2.batch_shape) == tuple(r2.batch_shape)
    assert tuple(m2.sample().shape) == tuple(r2.sample().shape)
    if c["value"] is not None:
        v = np.asarray(c["value"])
        v = v.reshape(v.shape[:1] + (1,) + v.shape[1:])  # broadcasts against the new batch dim
        mv = cr.tensor(v) if np.asarray(v).dtype.kind == "f" else cr.tensor(v, dtype=cr.int64)
        tv = torch.tensor(v)
        np.testing.assert_allclose(m2.log_prob(mv).numpy(), r2.log_prob(tv).numpy(),
                                   rtol=1e-10)


@pytest.mark.parametrize("name", ["Bernoulli_probs", "Categorical_logits", "OneHotCategorical",
                                  "Binomial_probs"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_matches_torch(torch, name, expand):
    c = next(c for c in CASES if c["name"] == name)
    mine = _build(cr, c).enumerate_support(expand)
    ref = _build(torch, c).enumerate_support(expand)
    assert tuple(mine.shape) == tuple(ref.shape) and str(ref.dtype)[6:] == mine.dtype.name
    np.testing.assert_array_equal(mine.numpy(), ref.numpy())


def test_perplexity_mode_stddev_and_lazy_parameters(torch):
    mine = cr.distributions.Categorical(probs=cr.tensor([0.25, 0.25, 0.5], dtype=cr.float64))
    ref = torch.distributions.Categorical(probs=torch.tensor([0.25, 0.25, 0.5],
                                                             dtype=torch.float64))
    assert "logits" not in mine.__dict__
    assert mine.mode.item() == ref.mode.item() == 2
    np.testing.assert_allclose(mine.logits.numpy(), ref.logits.numpy(), rtol=1e-12)
    assert "logits" in mine.__dict__  # computed once, then stored (lazy_property)
    assert mine.perplexity().item() == pytest.approx(ref.perplexity().item(), rel=1e-12)
    b = cr.distributions.Bernoulli(probs=cr.tensor([0.2, 0.5, 0.7]))
    assert np.isnan(b.mode.numpy()[1]) and b.mode.numpy()[[0, 2]].tolist() == [0.0, 1.0]
    n = cr.distributions.Normal(cr.zeros(2), cr.tensor([2.0, 3.0]))
    assert n.stddev.tolist() == [2.0, 3.0]


def test_generalized_pareto_log_prob_and_cdf_in_float32(torch):
    """torch's GeneralizedPareto.log_prob/cdf compare with a float32 zero and raise on
    float64 parameters; chainrule's work in both, and agree with torch in float32."""
    args = ([0.05, -0.1, 0.0, 0.2], [1.0, 0.5, 2.0, 1.5], [0.2, -0.1, 0.0, 0.4])
    x = [[0.5, 0.3, 1.0, 2.5], [1.5, 1.2, 0.1, 0.7]]
    mine = cr.distributions.GeneralizedPareto(*(cr.tensor(a) for a in args))
    ref = torch.distributions.GeneralizedPareto(*(torch.tensor(a) for a in args))
    for name in ("log_prob", "cdf", "log_survival_function"):
        np.testing.assert_allclose(getattr(mine, name)(cr.tensor(x)).numpy(),
                                   getattr(ref, name)(torch.tensor(x)).numpy(), rtol=1e-5)
    mine64 = cr.distributions.GeneralizedPareto(*(cr.tensor(a, dtype=cr.float64) for a in args))
    assert mine64.log_prob(cr.tensor(x, dtype=cr.float64)).dtype == cr.float64


VALIDATION = [
    lambda L: L.distributions.Normal(L.tensor([0.0, 1.0]), L.tensor([1.0, -1.0])),
    lambda L: L.distributions.Bernoulli(probs=L.tensor([0.5, 1.5])),
    lambda L: L.distributions.Categorical(probs=L.tensor([0.5, -0.5])),
    lambda L: L.distributions.Uniform(L.tensor(2.0), L.tensor(1.0)),
    lambda L: L.distributions.Normal(0.0, 1.0).log_prob(L.tensor([1.0, float("nan")])),
    lambda L: L.distributions.Exponential(L.tensor(1.0)).log_prob(L.tensor([-1.0])),
    lambda L: L.distributions.Bernoulli(probs=L.tensor(0.3)).log_prob(L.tensor(0.5)),
    lambda L: L.distributions.Categorical(logits=L.zeros(3)).log_prob(L.tensor(3)),
    lambda L: L.distributions.Normal(L.zeros(3), 1.0).log_prob(L.zeros(2)),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.eye(2)).log_prob(L.zeros(3)),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.tensor([[1.0, 2.0],
                                                                        [2.0, 1.0]])),
    lambda L: L.distributions.Normal(0.0, 1.0).log_prob(0.5),
    lambda L: L.distributions.Dirichlet(L.tensor([1.0, 2.0])).log_prob(L.tensor([0.5, 0.6])),
    lambda L: L.distributions.Geometric(probs=L.tensor([0.0, 0.5])),
    lambda L: L.distributions.Categorical(),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2)),
    lambda L: L.distributions.Gamma(L.tensor([1.0]), L.tensor([0.0])),
    lambda L: L.distributions.Beta(L.tensor([1.0]), L.tensor([-2.0])),
    lambda L: L.distributions.Poisson(L.tensor([1.0])).log_prob(L.tensor([1.5])),
    lambda L: L.distributions.Dirichlet(L.tensor(1.0)),
    lambda L: L.distributions.Independent(L.distributions.Normal(0.0, 1.0), 1),
    lambda L: L.distributions.MixtureSameFamily(L.distributions.Categorical(logits=L.zeros(2)),
                                                L.distributions.Normal(L.zeros(3), 1.0)),
    lambda L: L.distributions.TransformedDistribution(L.distributions.Normal(0.0, 1.0), 3),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # probs summing to 0, as in torch
@pytest.mark.parametrize("i", range(len(VALIDATION)))
def test_validation_errors_match_torch(torch, i):
    errors = []
    for lib in (torch, cr):
        try:
            VALIDATION[i](lib)
            errors.append(None)
        except Exception as e:  # noqa: BLE001 - comparing what each library raises
            errors.append((type(e).__name__, _norm(e)))
    assert errors[0] is not None
    assert errors[1] == errors[0]


def test_validate_args_false_and_default_switch():
    d = cr.distributions
    d.Normal(0.0, -1.0, validate_args=False)  # no error
    assert d.Normal(0.0, 1.0, validate_args=False).log_prob(cr.tensor(float("nan"))).isnan()
    try:
        d.Distribution.set_default_validate_args(False)
        d.Normal(0.0, -1.0)
        assert not d.Normal(0.0, 1.0)._validate_args
    finally:
        d.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        d.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        d.Distribution.set_default_validate_args("yes")


CONSTRAINT_VALUES = [
    ("positive", [1.0, 0.0, -1.0]), ("nonnegative", [1.0, 0.0, -1.0]),
    ("unit_interval", [0.0, 0.5, 1.0, 1.5]), ("boolean", [0.0, 1.0, 0.5]),
    ("nonnegative_integer", [0.0, 2.0, 2.5, -1.0]), ("positive_integer", [0.0, 1.0, 3.0]),
    ("real", [1.0, float("nan"), float("inf")]), ("simplex", [[0.2, 0.8], [0.5, 0.6]]),
    ("real_vector", [[1.0, float("nan")], [1.0, 2.0]]), ("one_hot", [[0.0, 1.0], [1.0, 1.0]]),
    ("lower_cholesky", [[[1.0, 0.0], [2.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]]]),
    ("positive_definite", [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    ("positive_semidefinite", [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    ("symmetric", [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [3.0, 1.0]]]),
    ("corr_cholesky", [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.5, 0.5]]]),
]


@pytest.mark.parametrize("name,values", CONSTRAINT_VALUES, ids=[n for n, _ in CONSTRAINT_VALUES])
def test_constraint_checks_match_torch(torch, name, values):
    mine = getattr(cr.distributions.constraints, name)
    ref = getattr(torch.distributions.constraints, name)
    assert repr(mine) == repr(ref) and mine.event_dim == ref.event_dim
    assert mine.is_discrete == ref.is_discrete
    got = mine.check(cr.tensor(values, dtype=cr.float64)).numpy()
    np.testing.assert_array_equal(got, ref.check(torch.tensor(values, dtype=torch.float64)).numpy())


def test_parametrised_constraints_and_dependent(torch):
    c, tc = cr.distributions.constraints, torch.distributions.constraints
    for mine, ref in [(c.interval(-1.0, 2.0), tc.interval(-1.0, 2.0)),
                      (c.half_open_interval(0.0, 1.0), tc.half_open_interval(0.0, 1.0)),
                      (c.greater_than_eq(1.0), tc.greater_than_eq(1.0)),
                      (c.integer_interval(0, 3), tc.integer_interval(0, 3)),
                      (c.independent(c.positive, 2), tc.independent(tc.positive, 2))]:
        assert repr(mine) == repr(ref)
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        c.dependent.check(cr.ones(1))
    with pytest.raises(NotImplementedError):
        _ = c.dependent.event_dim
    assert c.dependent(is_discrete=True, event_dim=1).event_dim == 1
    assert cr.distributions.Uniform(0.0, 2.0).support.check(cr.tensor([1.0, 2.0])).tolist() == [
        True, True]


def test_torch_compat_imports_distributions(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(
        "import torch\n"
        "from torch.distributions import Normal, kl_divergence\n"
        "from torch.distributions.categorical import Categorical\n"
        "import torch.distributions.constraints as C\n"
        "import torch.distributions.transforms as T\n"
        "q = Normal(torch.zeros(2), torch.ones(2))\n"
        "print(round(float(kl_divergence(q, Normal(1.0, 1.0)).sum()), 6), C.positive,\n"
        "      Categorical(logits=torch.zeros(3)).batch_shape, T.ExpTransform())\n")
    from chainrule import torch_compat

    import contextlib
    import io

    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            torch_compat.main([str(script)])
    finally:
        torch_compat.uninstall()
    words = out.getvalue().split()
    assert words[:2] == ["1.0", "GreaterThan(lower_bound=0.0)"] and words[3] == "ExpTransform()"
    assert words[2].endswith("Size([])")


def test_every_public_name_of_torch_distributions_exists(torch):
    import pkgutil

    td, cd = torch.distributions, cr.distributions
    assert sorted(td.__all__) == sorted(cd.__all__)
    for mod in ("constraints", "transforms", "utils"):
        names = getattr(td, mod).__all__
        assert [n for n in names if not hasattr(getattr(cd, mod), n)] == [], mod
    torch_modules = {m.name for m in pkgutil.iter_modules(td.__path__)}
    assert torch_modules <= {m.name for m in pkgutil.iter_modules(cd.__path__)}
    for name in td.__all__:
        tcls = getattr(td, name)
        if isinstance(tcls, type):
            public = [a for a in dir(tcls) if not a.startswith("_")]
            assert [a for a in public if not hasattr(getattr(cd, name), a)] == [], name
