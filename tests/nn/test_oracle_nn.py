"""chainrule.nn against PyTorch: layers (same weights via state_dict), activations and every
loss with every reduction and option, values and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _pair(torch, arr, requires_grad=True):
    a = np.array(arr, dtype=np.float64)
    return (cr.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _close(c, t, tol=1e-10):
    np.testing.assert_allclose(np.asarray(c.detach().numpy()), t.detach().numpy(), rtol=tol,
                               atol=tol)


ACTS = [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("celu", {"alpha": 1.3}), ("silu", {}), ("mish", {}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softplus", {}), ("softsign", {}),
    ("tanhshrink", {}), ("softshrink", {"lambd": 0.3}), ("hardshrink", {"lambd": 0.3}),
    ("sigmoid", {}), ("tanh", {}), ("threshold", {"threshold": 0.1, "value": -2.0}),
]


@pytest.mark.parametrize("name,kw", ACTS)
def test_activation_matches_torch(torch, name, kw):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 4, (6, 7))
    x[0, :4] = [30.0, -30.0, 0.7, -4.5]
    xc, xt = _pair(torch, x)
    fn_t = getattr(torch.nn.functional, name) if hasattr(torch.nn.functional, name) else \
        getattr(torch, name)
    yc, yt = getattr(F, name)(xc, **kw), fn_t(xt, **kw)
    _close(yc, yt)
    g = rng.normal(size=x.shape)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    # PyTorch's CELU backward rounds 1/alpha to float32 (derivatives.yaml), so 1e-6 there
    # and its hardsigmoid backward multiplies by a float32 1/6
    _close(xc.grad, xt.grad, 1e-6 if name in ("celu", "hardsigmoid") else 1e-10)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(torch, name, dim):
    x = np.random.default_rng(2).normal(size=(3, 4, 5))
    xc, xt = _pair(torch, x)
    yc, yt = getattr(F, name)(xc, dim=dim), getattr(torch.nn.functional, name)(xt, dim=dim)
    _close(yc, yt)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    _close(xc.grad, xt.grad)


def _copy_module(torch, cm, tm):
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in cm.state_dict().items()})
    return tm.double()


def _check_layer(torch, cm, tm, *inputs, train=True):
    cm = cm.double()
    tm = _copy_module(torch, cm, tm)
    cm.train(train)
    tm.train(train)
    pairs = [_pair(torch, x) for x in inputs]
    yc = cm(*[p[0] for p in pairs])
    yt = tm(*[p[1] for p in pairs])
    _close(yc, yt, 1e-9)
    g = np.random.default_rng(3).normal(size=tuple(yt.shape))
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for (xc, xt) in pairs:
        _close(xc.grad, xt.grad, 1e-9)
    cp, tp = dict(cm.named_parameters()), dict(tm.named_parameters())
    assert cp.keys() == tp.keys()
    for k in cp:
        _close(cp[k].grad, tp[k].grad, 1e-9)
    cs, ts = cm.state_dict(), tm.state_dict()
    assert list(cs.keys()) == list(ts.keys())
    for k in cs:
        np.testing.assert_allclose(cs[k].numpy(), ts[k].numpy(), rtol=1e-9, atol=1e-12)


def test_linear_matches_torch(torch):
    x = np.random.default_rng(0).normal(size=(4, 3, 5))
    _check_layer(torch, nn.Linear(5, 7), torch.nn.Linear(5, 7), x)
    _check_layer(torch, nn.Linear(5, 2, bias=False), torch.nn.Linear(5, 2, bias=False), x)


def test_bilinear_matches_torch(torch):
    rng = np.random.default_rng(0)
    _check_layer(torch, nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5),
                 rng.normal(size=(6, 3)), rng.normal(size=(6, 4)))


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("shape", [(8, 3), (8, 3, 5)])
def test_batchnorm1d_matches_torch(torch, train, shape):
    x = np.random.default_rng(0).normal(2, 3, size=shape)
    cm, tm = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with cr.no_grad():
        cm.weight.uniform_(0.5, 1.5)
        cm.bias.uniform_(-1, 1)
        cm.running_mean.uniform_(-1, 1)
        cm.running_var.uniform_(0.5, 2)
    _check_layer(torch, cm, tm, x, train=train)


def test_batchnorm_running_stats_over_steps(torch):
    rng = np.random.default_rng(0)
    for momentum in (0.1, None):
        cm, tm = nn.BatchNorm2d(3, momentum=momentum).double(), \
            torch.nn.BatchNorm2d(3, momentum=momentum).double()
        for _ in range(3):
            x = rng.normal(1, 2, size=(4, 3, 2, 2))
            cm(cr.tensor(x))
            tm(torch.tensor(x))
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(cm.state_dict()[k].numpy(), v.numpy(), rtol=1e-12)


def test_layernorm_groupnorm_match_torch(torch):
    rng = np.random.default_rng(0)
    cm, tm = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    with cr.no_grad():
        cm.weight.normal_()
        cm.bias.normal_()
    _check_layer(torch, cm, tm, rng.normal(size=(2, 3, 4)))
    cm, tm = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    with cr.no_grad():
        cm.weight.normal_()
    _check_layer(torch, cm, tm, rng.normal(size=(3, 4, 5)))


def test_embedding_matches_torch(torch):
    idx = np.array([[1, 0, 3], [3, 3, 2]])
    for kw in ({}, {"padding_idx": 3}, {"scale_grad_by_freq": True}):
        cm, tm = nn.Embedding(5, 4, **kw).double(), torch.nn.Embedding(5, 4, **kw).double()
        _copy_module(torch, cm, tm)
        yc, yt = cm(cr.tensor(idx)), tm(torch.tensor(idx))
        _close(yc, yt)
        g = np.random.default_rng(1).normal(size=(2, 3, 4))
        yc.backward(cr.tensor(g))
        yt.backward(torch.tensor(g))
        _close(cm.weight.grad, tm.weight.grad)


def test_init_fans_and_gains_match_torch(torch):
    for shape in [(5, 3), (4, 3, 2, 2)]:
        t = torch.empty(shape)
        c = cr.empty(*shape)
        assert nn.init._calculate_fan_in_and_fan_out(c) == \
            torch.nn.init._calculate_fan_in_and_fan_out(t)
    for nl, p in [("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                  ("selu", None), ("sigmoid", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))


# -- losses ---------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


def _check_loss(torch, name, inputs, kw, targets_grad=False, tol=1e-10):
    """inputs: list of (array, requires_grad) pairs passed positionally."""
    cs, ts = [], []
    for arr, rg in inputs:
        arr = np.asarray(arr)
        if arr.dtype.kind in "iu":
            cs.append(cr.tensor(arr))
            ts.append(torch.tensor(arr))
        else:
            c, t = _pair(torch, arr, rg)
            cs.append(c)
            ts.append(t)
    kw_c = {k: (cr.tensor(np.asarray(v, float)) if isinstance(v, np.ndarray) else v)
            for k, v in kw.items()}
    kw_t = {k: (torch.tensor(np.asarray(v, float)) if isinstance(v, np.ndarray) else v)
            for k, v in kw.items()}
    yc = getattr(F, name)(*cs, **kw_c)
    yt = getattr(torch.nn.functional, name)(*ts, **kw_t)
    _close(yc, yt, tol)
    g = np.random.default_rng(5).normal(size=tuple(yt.shape))
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for c, t, (_, rg) in zip(cs, ts, inputs):
        if rg:
            _close(c.grad, t.grad, tol)


RNG = np.random.default_rng(42)
X = RNG.normal(size=(6, 4))
Y = RNG.normal(size=(6, 4))
P = 1 / (1 + np.exp(-X))
T01 = (RNG.random((6, 4)) > 0.5).astype(float)
CLS = np.array([0, 3, 1, 1, 2, 3])
W4 = RNG.random(4) + 0.5


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(torch, reduction):
    for name, kw in [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}),
                     ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0})]:
        _check_loss(torch, name, [(X, True), (Y, True)], {"reduction": reduction, **kw})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_losses_match_torch(torch, reduction):
    _check_loss(torch, "binary_cross_entropy", [(P, True), (T01, False)],
                {"reduction": reduction})
    _check_loss(torch, "binary_cross_entropy", [(P, True), (RNG.random((6, 4)), True)],
                {"reduction": reduction, "weight": RNG.random((6, 4))})
    for kw in ({}, {"weight": W4}, {"pos_weight": W4}, {"weight": W4, "pos_weight": W4 * 3}):
        _check_loss(torch, "binary_cross_entropy_with_logits", [(X * 5, True), (T01, True)],
                    {"reduction": reduction, **kw})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"weight": W4}, {"ignore_index": 1},
                                {"label_smoothing": 0.2},
                                {"weight": W4, "ignore_index": 3, "label_smoothing": 0.1}])
def test_cross_entropy_and_nll_match_torch(torch, reduction, kw):
    _check_loss(torch, "cross_entropy", [(X * 3, True), (CLS, False)],
                {"reduction": reduction, **kw})
    if "label_smoothing" not in kw:
        lsm = X - np.log(np.exp(X).sum(1, keepdims=True))
        _check_loss(torch, "nll_loss", [(lsm, True), (CLS, False)], {"reduction": reduction, **kw})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_probabilities_match_torch(torch, reduction):
    x = RNG.normal(size=(2, 4, 3, 2))
    t = RNG.integers(0, 4, size=(2, 3, 2))
    t[0, 0, 0] = -100
    _check_loss(torch, "cross_entropy", [(x, True), (t, False)],
                {"reduction": reduction, "weight": W4})
    probs = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    for kw in ({}, {"weight": W4}, {"label_smoothing": 0.3}):
        _check_loss(torch, "cross_entropy", [(X, True), (probs, True)],
                    {"reduction": reduction, **kw})
    _check_loss(torch, "cross_entropy", [(X[0], True), (np.array(2), False)],
                {"reduction": reduction})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses_match_torch(torch, reduction):
    for kw in ({"p": 1}, {"p": 2, "margin": 0.5}, {"weight": W4}):
        _check_loss(torch, "multi_margin_loss", [(X, True), (CLS, False)],
                    {"reduction": reduction, **kw})
    sign = np.where(RNG.random(6) > 0.5, 1.0, -1.0)
    _check_loss(torch, "margin_ranking_loss", [(X[:, 0], True), (Y[:, 0], True),
                                              (sign, False)],
                {"reduction": reduction, "margin": 0.3})
    _check_loss(torch, "cosine_embedding_loss", [(X, True), (Y, True), (sign, False)],
                {"reduction": reduction, "margin": 0.1})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_probabilistic_losses_match_torch(torch, reduction):
    counts = RNG.poisson(3, size=(6, 4)).astype(float)
    for kw in ({}, {"full": True}, {"log_input": False}, {"log_input": False, "full": True}):
        x = X if kw.get("log_input", True) else np.exp(X)
        _check_loss(torch, "poisson_nll_loss", [(x, True), (counts, False)],
                    {"reduction": reduction, **kw})
        # the target's gradient too (Stirling's term with full=True); PyTorch's is nan at 0
        _check_loss(torch, "poisson_nll_loss", [(x, True), (counts + 0.5, True)],
                    {"reduction": reduction, **kw})
    logp = X - np.log(np.exp(X).sum(1, keepdims=True))
    q = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    q0 = q.copy()
    q0[0, 0] = 0.0  # PyTorch's target gradient is nan there; compare input gradients only
    for red in (reduction, "batchmean"):
        _check_loss(torch, "kl_div", [(logp, True), (q, True)], {"reduction": red})
        _check_loss(torch, "kl_div", [(logp, True), (q0, False)], {"reduction": red})
        _check_loss(torch, "kl_div", [(logp, True), (np.log(q + 0.1), True)],
                    {"reduction": red, "log_target": True})
    var = RNG.random((6, 4)) + 0.1
    var[0, 0] = 1e-9
    for v, kw in ((var, {}), (var, {"full": True}), (var[:, :1], {}), (var[:, 0], {})):
        _check_loss(torch, "gaussian_nll_loss", [(X, True), (Y, True), (v, True)],
                    {"reduction": reduction, **kw})


def test_extreme_logits_match_torch(torch):
    x = np.array([[1e8, -1e8, 0.0], [-1e8, 1e8, 3.0]])
    _check_loss(torch, "cross_entropy", [(x, True), (np.array([1, 1]), False)], {})
    z = np.array([1e4, -1e4, 50.0, -50.0])
    _check_loss(torch, "binary_cross_entropy_with_logits",
                [(z, True), (np.array([0.0, 1.0, 1.0, 0.0]), False)], {"reduction": "sum"})
    p = np.array([0.0, 1.0, 1e-60, 0.5])
    _check_loss(torch, "binary_cross_entropy", [(p, True), (np.array([1.0, 0.0, 1.0, 0.5]),
                                                          False)], {"reduction": "none"},
                tol=1e-8)  # PyTorch's 1e-12 floor on x (1 - x) is a float32 constant
