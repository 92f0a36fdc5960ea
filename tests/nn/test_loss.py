"""Losses: values against NumPy formulas, float64 gradcheck, reductions and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 3))
T = np.array([0, 2, 1, 1, 0])


def _t(a, rg=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def _lsm(x):
    s = x - x.max(1, keepdims=True)
    return s - np.log(np.exp(s).sum(1, keepdims=True))


def _sig(z):
    return 1 / (1 + np.exp(-z))


CASES = {  # name: (module, inputs, NumPy reference of the unreduced loss)
    "mse": (nn.MSELoss, (X, Y), lambda x, y: (x - y) ** 2),
    "l1": (nn.L1Loss, (X, Y), lambda x, y: np.abs(x - y)),
    "huber": (lambda **k: nn.HuberLoss(delta=0.5, **k), (X, Y), lambda x, y: np.where(
        np.abs(x - y) < 0.5, 0.5 * (x - y) ** 2, 0.5 * (np.abs(x - y) - 0.25))),
    "smoothl1": (lambda **k: nn.SmoothL1Loss(beta=0.5, **k), (X, Y), lambda x, y: np.where(
        np.abs(x - y) < 0.5, (x - y) ** 2 / 1.0, np.abs(x - y) - 0.25)),
    "bce": (nn.BCELoss, (_sig(X), _sig(Y)),
            lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p))),
    "bcelogits": (nn.BCEWithLogitsLoss, (X, _sig(Y)),
                  lambda z, y: -(y * np.log(_sig(z)) + (1 - y) * np.log(1 - _sig(z)))),
    "poisson": (nn.PoissonNLLLoss, (X, np.abs(Y)), lambda x, y: np.exp(x) - y * x),
    "kl": (nn.KLDivLoss, (_lsm(X), np.exp(_lsm(Y))), lambda x, y: y * (np.log(y) - x)),
    "margin": (nn.MarginRankingLoss, (X[:, 0], Y[:, 0], np.sign(X[:, 1])),
               lambda a, b, y: np.maximum(0, -y * (a - b))),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_loss_values_and_gradients(name, reduction):
    make, inputs, ref = CASES[name]
    loss = make(reduction=reduction)
    ts = [_t(a, rg=(i == 0)) for i, a in enumerate(inputs)]
    out = loss(*ts).detach().numpy()
    expect = ref(*inputs)
    expect = {"none": expect, "sum": expect.sum(), "mean": expect.mean()}[reduction]
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x: loss(x, *ts[1:]), (ts[0],))


def test_cross_entropy_formula_weights_smoothing_and_gradcheck():
    w = np.array([0.2, 1.0, 3.0])
    lsm = _lsm(X)
    x = _t(X, True)
    out = F.cross_entropy(x, cr.tensor(T), weight=_t(w))
    per = -w[T] * lsm[np.arange(5), T]
    np.testing.assert_allclose(out.item(), per.sum() / w[T].sum(), rtol=1e-12)
    eps = 0.2
    t_ign = T.copy()
    t_ign[1] = -100
    out = F.cross_entropy(x, cr.tensor(t_ign), label_smoothing=eps, reduction="none")
    q = np.full((5, 3), eps / 3)
    q[np.arange(5), T] += 1 - eps
    per = -(q * lsm).sum(1)
    per[1] = 0.0
    np.testing.assert_allclose(out.detach().numpy(), per, rtol=1e-12)
    for kw in ({}, {"weight": _t(w), "label_smoothing": 0.1}, {"ignore_index": 1}):
        assert gradcheck(lambda a, kw=kw: F.cross_entropy(a, cr.tensor(T), **kw), (x,))
    probs = _t(np.exp(_lsm(Y)), True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b), (x, probs))


def test_cross_entropy_second_derivative():
    # Hessian of the softmax cross-entropy in the logits: diag(p) - p p^T
    x = _t(X[0:1], True)
    loss = F.cross_entropy(x, cr.tensor([2]))
    (g,) = cr.autograd.grad(loss, x, create_graph=True)
    rows = [cr.autograd.grad(g[0, i], x, retain_graph=True)[0].numpy()[0] for i in range(3)]
    p = np.exp(_lsm(X[0:1]))[0]
    np.testing.assert_allclose(np.stack(rows), np.diag(p) - np.outer(p, p), atol=1e-12)


def test_extreme_inputs_stay_finite():
    x = cr.tensor([[1e8, -1e8, 0.0]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, cr.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2e8)
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]])
    z = cr.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = cr.tensor([1.0, 0.0, 0.0, 1.0])
    loss = nn.BCEWithLogitsLoss(reduction="none")(z, y)
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e4, 1e4])
    np.testing.assert_allclose(z.grad.numpy(), [0.0, 0.0, 1.0, -1.0])
    p = cr.tensor([0.0, 1.0], requires_grad=True)
    loss = nn.BCELoss(reduction="none")(p, cr.tensor([1.0, 0.0]))
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0])
    assert np.isfinite(p.grad.numpy()).all()


def test_multi_margin_is_the_multiclass_hinge():
    for p in (1, 2):
        out = F.multi_margin_loss(_t(X), cr.tensor(T), p=p, margin=0.7, reduction="none")
        h = np.maximum(0, 0.7 - X[np.arange(5), T][:, None] + X) ** p
        h[np.arange(5), T] = 0
        np.testing.assert_allclose(out.numpy(), h.sum(1) / 3, rtol=1e-12)
        assert gradcheck(lambda a, p=p: F.multi_margin_loss(a, cr.tensor(T), p=p),
                         (_t(X, True),))


def test_gaussian_nll_and_poisson_full_and_cosine():
    var = np.abs(Y) + 0.1
    out = nn.GaussianNLLLoss(full=True, reduction="none")(_t(X), _t(Y), _t(var))
    np.testing.assert_allclose(out.numpy(), 0.5 * (np.log(var) + (X - Y) ** 2 / var
                                                    + np.log(2 * np.pi)), rtol=1e-12)
    assert gradcheck(lambda a, v: F.gaussian_nll_loss(a, _t(Y), v), (_t(X, True), _t(var, True)))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(_t(X), _t(Y), _t(-var))
    y = np.array([0.0, 1.0, 5.0])
    out = F.poisson_nll_loss(_t([0.1, 0.2, 0.3]), _t(y), full=True, reduction="none")
    stir = np.where(y > 1, y * np.log(np.maximum(y, 1)) - y + 0.5 * np.log(2 * np.pi * y), 0)
    np.testing.assert_allclose(out.numpy(), np.exp([0.1, 0.2, 0.3]) - y * [0.1, 0.2, 0.3]
                               + stir, rtol=1e-12)
    s = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    out = F.cosine_embedding_loss(_t(X), _t(Y), _t(s), margin=0.1, reduction="none")
    cos = (X * Y).sum(1) / np.linalg.norm(X, axis=1) / np.linalg.norm(Y, axis=1)
    np.testing.assert_allclose(out.numpy(), np.where(s > 0, 1 - cos, np.maximum(0, cos - 0.1)),
                               rtol=1e-9)


def test_broadcasting_shapes_raise_a_clear_error():
    with pytest.raises(ValueError) as e:
        nn.MSELoss()(cr.randn(32, 1), cr.randn(32))
    msg = str(e.value)
    assert msg.startswith("MSELoss: input shape (32, 1) and target shape (32,) differ")
    assert "(32, 32)" in msg and "target.view(-1, 1)" in msg and "input.squeeze(1)" in msg
    for loss in (nn.L1Loss(), nn.HuberLoss(), nn.SmoothL1Loss(), nn.BCEWithLogitsLoss()):
        with pytest.raises(ValueError, match=type(loss).__name__):
            loss(cr.randn(4, 1), cr.randn(4))
    with pytest.raises(ValueError, match="don't broadcast"):
        F.mse_loss(cr.randn(3), cr.randn(4))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(cr.randn(3), cr.randn(3), reduction="avg")
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 3]))
    with pytest.raises(ValueError, match="expected a target of shape"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([[0, 1]]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=2.0)
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
