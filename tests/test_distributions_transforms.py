"""Transforms and the constraint registry against torch: forward, inverse,
log_abs_det_jacobian (values and gradients), shapes, caching, equality, and which transform
biject_to / transform_to choose for each constraint."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

R = np.random.default_rng(3)


def _t(lib):
    return lib.distributions.transforms


# name -> (factory(lib), input array x)
TRANSFORMS = {
    "Exp": (lambda lib: _t(lib).ExpTransform(), R.standard_normal((3, 4))),
    "Power": (lambda lib: _t(lib).PowerTransform(lib.tensor(2.5, dtype=lib.float64)),
              R.uniform(0.2, 2, (3, 4))),
    "Sigmoid": (lambda lib: _t(lib).SigmoidTransform(), R.standard_normal((3, 4)) * 3),
    "Softplus": (lambda lib: _t(lib).SoftplusTransform(), R.standard_normal((3, 4)) * 3),
    "Tanh": (lambda lib: _t(lib).TanhTransform(), R.standard_normal((3, 4))),
    "Affine": (lambda lib: _t(lib).AffineTransform(lib.tensor([1.0, -2.0, 0.5, 3.0],
                                                              dtype=lib.float64),
                                                   lib.tensor([2.0, 0.5, -1.5, 1.0],
                                                              dtype=lib.float64)),
               R.standard_normal((3, 4))),
    "AffineScalarEvent1": (lambda lib: _t(lib).AffineTransform(1.0, -3.0, event_dim=1),
                           R.standard_normal((3, 4))),
    "Compose": (lambda lib: _t(lib).ComposeTransform(
        [_t(lib).AffineTransform(0.5, 2.0), _t(lib).ExpTransform()]), R.standard_normal((3, 4))),
    "Independent": (lambda lib: _t(lib).IndependentTransform(_t(lib).ExpTransform(), 1),
                    R.standard_normal((3, 4))),
    "Reshape": (lambda lib: _t(lib).ReshapeTransform((4,), (2, 2)), R.standard_normal((3, 4))),
    "Softmax": (lambda lib: _t(lib).SoftmaxTransform(), R.standard_normal((3, 4))),
    "StickBreaking": (lambda lib: _t(lib).StickBreakingTransform(), R.standard_normal((3, 4))),
    "LowerCholesky": (lambda lib: _t(lib).LowerCholeskyTransform(), R.standard_normal((2, 3, 3))),
    "PositiveDefinite": (lambda lib: _t(lib).PositiveDefiniteTransform(),
                         R.standard_normal((2, 3, 3))),
    "CorrCholesky": (lambda lib: _t(lib).CorrCholeskyTransform(), R.standard_normal((2, 6))),
    "Cat": (lambda lib: _t(lib).CatTransform([_t(lib).ExpTransform(), _t(lib).TanhTransform()],
                                             dim=-1, lengths=[2, 2]), R.standard_normal((3, 4))),
    "Stack": (lambda lib: _t(lib).StackTransform([_t(lib).ExpTransform(),
                                                  _t(lib).SigmoidTransform()], dim=0),
              R.standard_normal((2, 3))),
    "InverseOfExp": (lambda lib: _t(lib).ExpTransform().inv, R.uniform(0.5, 2, (3, 4))),
    "CDF": (lambda lib: _t(lib).CumulativeDistributionTransform(
        lib.distributions.Normal(0.0, 1.0)), R.standard_normal((3, 4))),
}
NO_LADJ = {"Softmax", "LowerCholesky", "PositiveDefinite"}


def _eval(lib, name):
    make, x_arr = TRANSFORMS[name]
    t = make(lib)
    x = lib.tensor(x_arr, dtype=lib.float64, requires_grad=True)
    y = t(x)
    x_back = t.inv(y.detach())
    out = {"y": y.detach().numpy(), "x_back": x_back.detach().numpy(),
           "fwd_shape": tuple(t.forward_shape(tuple(x.shape))),
           "inv_shape": tuple(t.inverse_shape(tuple(y.shape))), "bijective": bool(t.bijective),
           "domain_event_dim": t.domain.event_dim, "codomain_event_dim": t.codomain.event_dim}
    (gy,) = lib.autograd.grad((y * y).sum(), [x], retain_graph=True)
    out["grad_y"] = gy.numpy()
    if name not in NO_LADJ:
        ladj = t.log_abs_det_jacobian(x, y)
        out["ladj"] = ladj.detach().numpy()
        if ladj.requires_grad:
            (g,) = lib.autograd.grad(ladj.sum(), [x], allow_unused=True)
            out["grad_ladj"] = np.zeros(x.shape) if g is None else g.numpy()
    return out


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(torch, name):
    mine, ref = _eval(cr, name), _eval(torch, name)
    assert mine.keys() == ref.keys()
    for k in ref:
        if isinstance(ref[k], np.ndarray):
            np.testing.assert_allclose(mine[k], ref[k], rtol=1e-10, atol=1e-12, err_msg=k)
        else:
            assert mine[k] == ref[k], k


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_inverse_round_trip_and_cache():
    t = cr.distributions.TanhTransform(cache_size=1)
    x = cr.tensor([0.1, 25.0], dtype=cr.float64)
    y = t(x)
    assert t.inv(y) is x  # the cache returns the pre-image itself (tanh(25) == 1.0 exactly)
    t0 = cr.distributions.TanhTransform()
    assert not np.isfinite(t0.inv(t0(x)).numpy()[1])  # without the cache atanh(1) = inf
    assert t0.with_cache(1)._cache_size == 1 and t0.inv.inv is t0
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        cr.distributions.ExpTransform(cache_size=2)


def test_transform_equality_and_repr(torch):
    T = cr.distributions.transforms
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    tt = torch.distributions.transforms
    for mine, ref in [(T.ExpTransform(), tt.ExpTransform()),
                      (T.ExpTransform().inv, tt.ExpTransform().inv),
                      (T.ComposeTransform([T.ExpTransform(), T.TanhTransform()]),
                       tt.ComposeTransform([tt.ExpTransform(), tt.TanhTransform()])),
                      (T.IndependentTransform(T.SigmoidTransform(), 2),
                       tt.IndependentTransform(tt.SigmoidTransform(), 2))]:
        assert repr(mine) == repr(ref)
    assert T.identity_transform(cr.ones(2)).tolist() == [1.0, 1.0]


CONSTRAINTS = [
    ("real", lambda c: c.real), ("positive", lambda c: c.positive),
    ("nonnegative", lambda c: c.nonnegative), ("greater_than", lambda c: c.greater_than(2.0)),
    ("less_than", lambda c: c.less_than(-1.0)), ("unit_interval", lambda c: c.unit_interval),
    ("interval", lambda c: c.interval(-2.0, 3.0)), ("simplex", lambda c: c.simplex),
    ("lower_cholesky", lambda c: c.lower_cholesky),
    ("positive_definite", lambda c: c.positive_definite),
    ("corr_cholesky", lambda c: c.corr_cholesky), ("real_vector", lambda c: c.real_vector),
    ("independent_positive", lambda c: c.independent(c.positive, 1)),
]


@pytest.mark.parametrize("name,make", CONSTRAINTS, ids=[n for n, _ in CONSTRAINTS])
def test_registry_choices_and_values_match_torch(torch, name, make):
    for registry in ("biject_to", "transform_to"):
        ref_reg = getattr(torch.distributions, registry)
        my_reg = getattr(cr.distributions, registry)
        try:
            ref_t = ref_reg(make(torch.distributions.constraints))
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                my_reg(make(cr.distributions.constraints))
            continue
        my_t = my_reg(make(cr.distributions.constraints))
        assert repr(my_t) == repr(ref_t).replace("torch.", "chainrule.")
        shape = (2, 3, 3) if ref_t.domain.event_dim == 2 else (2, 3)
        if name == "corr_cholesky":
            shape = (2, 3)
        x = R.standard_normal(shape)
        y_ref = ref_t(torch.tensor(x)).numpy()
        y = my_t(cr.tensor(x, dtype=cr.float64)).numpy()
        np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-12)
        # the result satisfies the constraint
        assert bool(make(cr.distributions.constraints).check(cr.tensor(y)).all())


def test_registry_unknown_constraint():
    c = cr.distributions.constraints
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        cr.distributions.biject_to(c.boolean)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        cr.distributions.biject_to.register(int, lambda c: None)
