"""Layers, init and utils: formulas, statistics, gradchecks and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.nn import init
from chainrule.nn.utils import (
    clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters,
)


def test_linear_formula_init_bounds_and_gradcheck():
    lin = nn.Linear(50, 40)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(50)
    assert lin.weight.dtype == cr.float32 and w.shape == (40, 50)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01  # uniform(-bound, bound)
    x = np.random.default_rng(0).normal(size=(3, 2, 50)).astype(np.float32)
    np.testing.assert_allclose(lin(cr.tensor(x)).detach().numpy(), x @ w.T + b, rtol=1e-5,
                               atol=1e-5)
    lin64 = nn.Linear(3, 2).double()
    xs = cr.tensor(np.random.default_rng(1).normal(size=(4, 3)), requires_grad=True)
    assert gradcheck(lambda a, wt, bs: F.linear(a, wt, bs), (xs, lin64.weight, lin64.bias))
    with pytest.raises(RuntimeError, match="expects 3"):
        lin64(cr.randn(4, 5, dtype=cr.float64))


def test_linear_uses_the_fused_primitive():
    lin = nn.Linear(3, 2)
    y = lin(cr.randn(4, 3))
    assert type(y.grad_fn).__name__ == "Linear"


def test_bilinear_formula_and_gradcheck():
    m = nn.Bilinear(2, 3, 4).double()
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 2)), rng.normal(size=(5, 3))
    w, bias = m.weight.detach().numpy(), m.bias.detach().numpy()
    np.testing.assert_allclose(m(cr.tensor(a), cr.tensor(b)).detach().numpy(),
                               np.einsum("ni,kij,nj->nk", a, w, b) + bias, rtol=1e-12)
    assert gradcheck(m, (cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)))


def test_dropout_train_eval_and_validation():
    d = nn.Dropout(0.25)
    x = cr.ones(200, 100)
    y = d(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert d(x) is x
    assert float(nn.Dropout(1.0)(x).abs().sum()) == 0.0
    xg = cr.ones(4, 4, requires_grad=True)
    out = nn.Dropout(0.5)(xg)
    out.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), out.detach().numpy())  # grad = mask * scale
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)
    ad = nn.AlphaDropout(0.2)
    z = cr.randn(400, 250)
    out = ad(z).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    ad.eval()
    assert ad(z) is z


def test_batchnorm_train_eval_and_running_stats():
    bn = nn.BatchNorm1d(3).double()
    x = np.random.default_rng(0).normal(2, 3, size=(10, 3, 4))
    y = bn(cr.tensor(x)).detach().numpy()
    mu, var = x.mean((0, 2), keepdims=True), x.var((0, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mu.ravel(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = bn(cr.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y, (x - bn.running_mean.numpy()[:, None])
                               / np.sqrt(bn.running_var.numpy()[:, None] + 1e-5), rtol=1e-10)
    assert bn.num_batches_tracked.item() == 1
    bn.train()
    xs = cr.tensor(x[:4, :, :2], requires_grad=True)
    assert gradcheck(bn, (xs,))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(cr.randn(1, 3, dtype=cr.float64))
    with pytest.raises(ValueError, match="expected 3"):
        bn(cr.randn(4, 5, dtype=cr.float64))
    cum = nn.BatchNorm1d(2, momentum=None).double()
    batches = [np.random.default_rng(i).normal(i, 1, size=(8, 2)) for i in range(3)]
    for b in batches:
        cum(cr.tensor(b))
    np.testing.assert_allclose(cum.running_mean.numpy(),
                               np.mean([b.mean(0) for b in batches], 0), rtol=1e-12)
    nots = nn.BatchNorm1d(2, track_running_stats=False)
    assert nots.running_mean is None and "running_mean" not in nots.state_dict()
    bn2 = nn.BatchNorm2d(3)
    assert tuple(bn2(cr.randn(2, 3, 4, 4)).shape) == (2, 3, 4, 4)


def test_layernorm_groupnorm_formula_and_gradcheck():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    ln = nn.LayerNorm(3).double()
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ln(cr.tensor(x)).detach().numpy(), (x - mu) / np.sqrt(var + 1e-5),
                               rtol=1e-10)
    assert gradcheck(ln, (cr.tensor(x, requires_grad=True),))
    gn = nn.GroupNorm(2, 4).double()
    g = x.reshape(2, 2, 6)
    ref = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    np.testing.assert_allclose(gn(cr.tensor(x)).detach().numpy(), ref.reshape(x.shape),
                               rtol=1e-10)
    assert gradcheck(gn, (cr.tensor(x, requires_grad=True),))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        ln(cr.randn(2, 4))


def test_embedding_lookup_padding_and_errors():
    emb = nn.Embedding(6, 3, padding_idx=2)
    assert float(emb.weight[2].abs().sum()) == 0.0
    idx = cr.tensor([[0, 2, 5], [2, 2, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out.detach().numpy(), emb.weight.detach().numpy()[idx.numpy()])
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy()[:, 0], [1, 1, 0, 0, 0, 1])
    with pytest.raises(IndexError, match="out of range for 6 embeddings"):
        emb(cr.tensor([6]))
    pre = nn.Embedding.from_pretrained(cr.eye(3))
    assert not pre.weight.requires_grad and pre(cr.tensor([1])).tolist() == [[0.0, 1.0, 0.0]]
    capped = nn.Embedding(4, 2, max_norm=1.0)
    capped(cr.tensor([0, 1]))
    assert (np.linalg.norm(capped.weight.detach().numpy()[:2], axis=1) <= 1.0 + 1e-5).all()


def test_init_functions():
    g = cr.Generator().manual_seed(3)
    w = cr.empty(300, 200)
    init.xavier_uniform_(w, gain=2.0, generator=g)
    a = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w.numpy()).max() <= a and abs(w.numpy().std() - a / math.sqrt(3)) < 0.005
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 300)) < 0.002
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(200)
    init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / 500)) < 0.002
    init.trunc_normal_(w, std=2.0, a=-1.0, b=3.0)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 3.0
    q = cr.empty(5, 8)
    init.orthogonal_(q, gain=1.5)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, 2.25 * np.eye(5), atol=1e-5)
    s = cr.empty(10, 4)
    init.sparse_(s, 0.3)
    assert ((s.numpy() == 0).sum(0) >= 3).all()
    c = cr.empty(4, 2, 3, 3)
    init.dirac_(c)
    assert c.numpy()[1, 1, 1, 1] == 1 and c.numpy().sum() == 2
    e = init.eye_(cr.empty(2, 3))
    assert e.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert init.constant_(cr.empty(2), 0.5).tolist() == [0.5, 0.5]
    assert init.zeros_(cr.ones(2)).tolist() == [0, 0] and init.ones_(cr.zeros(1)).tolist() == [1]
    p = nn.Parameter(cr.zeros(2, 2))
    init.normal_(p)  # parameters that require grad are filled under no_grad
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    a1 = init.uniform_(cr.empty(4), generator=cr.Generator().manual_seed(1)).tolist()
    a2 = init.uniform_(cr.empty(4), generator=cr.Generator().manual_seed(1)).tolist()
    assert a1 == a2


def test_clip_grad_and_vector_conversion():
    p1, p2 = nn.Parameter(cr.zeros(3)), nn.Parameter(cr.zeros(2, 2))
    p1.grad = cr.tensor([3.0, 0.0, 0.0])
    p2.grad = cr.tensor([[0.0, 4.0], [0.0, 0.0]])
    total = clip_grad_norm_([p1, p2], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    norm_after = math.sqrt(float((p1.grad**2).sum() + (p2.grad**2).sum()))
    assert norm_after == pytest.approx(1.0, rel=1e-5)
    p1.grad = cr.tensor([3.0, -7.0, 0.0])
    assert clip_grad_norm_([p1], 100.0, norm_type="inf").item() == 7.0
    assert p1.grad.tolist() == [3.0, -7.0, 0.0]
    p1.grad = cr.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p1], 1.0, error_if_nonfinite=True)
    p1.grad = cr.tensor([3.0, -7.0, 0.5])
    clip_grad_value_([p1], 1.0)
    assert p1.grad.tolist() == [1.0, -1.0, 0.5]
    vec = parameters_to_vector([p1, p2])
    assert tuple(vec.shape) == (7,)
    vector_to_parameters(cr.arange(7.0), [p1, p2])
    assert p1.tolist() == [0.0, 1.0, 2.0] and p2.tolist() == [[3.0, 4.0], [5.0, 6.0]]
    with pytest.raises(ValueError, match="need 7"):
        vector_to_parameters(cr.arange(6.0), [p1, p2])
