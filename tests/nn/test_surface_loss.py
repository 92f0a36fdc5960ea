"""torch.nn surface: the margin, soft-margin, triplet, CTC, NLLLoss2d and linear cross-entropy
losses against PyTorch (float64 values and gradients, every reduction and option)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import close, compare, compare_module

RED = ["mean", "sum", "none"]


def _pm1(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("reduction", RED)
def test_soft_margin_and_hinge_embedding(torch, reduction):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 5)) * 3, _pm1(rng, (4, 5))
    compare(torch, nn.SoftMarginLoss(reduction=reduction), torch.nn.SoftMarginLoss(reduction=reduction),
            [x, y], grad_of=[0])
    for margin in (1.0, 0.3):
        compare(torch, nn.HingeEmbeddingLoss(margin, reduction=reduction),
                torch.nn.HingeEmbeddingLoss(margin, reduction=reduction), [x, y], grad_of=[0])
    y[0, 0] = 0.0  # neither 1 nor -1: both terms apply, as PyTorch
    compare(torch, lambda a, b: F.hinge_embedding_loss(a, b, reduction=reduction),
            lambda a, b: torch.nn.functional.hinge_embedding_loss(a, b, reduction=reduction),
            [x, y], grad_of=[0])


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(torch, reduction, weighted):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 5)) * 3, (rng.random((4, 5)) < 0.4).astype(float)
    w = rng.random(5) + 0.5
    cm = nn.MultiLabelSoftMarginLoss(cr.tensor(w) if weighted else None, reduction=reduction)
    tm = torch.nn.MultiLabelSoftMarginLoss(torch.tensor(w) if weighted else None,
                                           reduction=reduction)
    compare(torch, cm, tm, [x, y], grad_of=[0])


@pytest.mark.parametrize("reduction", RED)
def test_multilabel_margin(torch, reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5))
    t = np.array([[3, 0, -1, 1, 4], [1, 2, 4, 0, 3], [-1, 2, 2, 2, 2]])
    compare(torch, nn.MultiLabelMarginLoss(reduction=reduction),
            torch.nn.MultiLabelMarginLoss(reduction=reduction), [x, t])
    compare(torch, nn.MultiLabelMarginLoss(reduction=reduction),
            torch.nn.MultiLabelMarginLoss(reduction=reduction), [x[0], t[0]])
    t_dup = np.array([[2, 2, -1, 0, 0], [0, 0, 0, 0, 0], [4, 3, 2, 1, 0]])  # repeated targets
    compare(torch, nn.MultiLabelMarginLoss(reduction=reduction),
            torch.nn.MultiLabelMarginLoss(reduction=reduction), [x, t_dup])


@pytest.mark.parametrize("kw", [{}, {"margin": 0.5, "p": 1.0}, {"swap": True}, {"p": 3.0, "eps": 1e-3},
                                {"reduction": "none"}, {"reduction": "sum", "swap": True}])
def test_triplet_margin(torch, kw):
    rng = np.random.default_rng(3)
    a, p, n = (rng.standard_normal((6, 4)) for _ in range(3))
    p = a + 0.3 * p
    compare(torch, nn.TripletMarginLoss(**kw), torch.nn.TripletMarginLoss(**kw), [a, p, n])
    compare(torch, nn.TripletMarginLoss(**kw), torch.nn.TripletMarginLoss(**kw), [a[0], p[0], n[0]])
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(cr.tensor(a), cr.tensor(p[0]), cr.tensor(n))


@pytest.mark.parametrize("kw", [{}, {"swap": True, "margin": 0.5}, {"reduction": "none"},
                                {"cosine": True, "reduction": "sum"}])
def test_triplet_margin_with_distance(torch, kw):
    rng = np.random.default_rng(4)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    kw = dict(kw)
    if kw.pop("cosine", False):
        kw_c = dict(kw, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
        kw_t = dict(kw, distance_function=lambda x, y: 1 - torch.nn.functional.cosine_similarity(x, y))
    else:
        kw_c = kw_t = kw
    compare(torch, nn.TripletMarginWithDistanceLoss(**kw_c),
            torch.nn.TripletMarginWithDistanceLoss(**kw_t), [a, p, n])
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)


def _ctc_case(rng, t=12, n=3, c=5, s=4):
    logits = rng.standard_normal((t, n, c))
    targets = rng.integers(1, c, (n, s))
    targets[0, 1] = targets[0, 0]  # a repeated label needs a blank between
    in_len = np.array([t, t - 2, t - 5])[:n]
    tgt_len = np.array([s, 2, 0])[:n]
    return logits, targets, in_len, tgt_len


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_ctc_loss(torch, reduction, layout):
    logits, targets, in_len, tgt_len = _ctc_case(np.random.default_rng(5))
    if layout == "concatenated":
        targets = np.concatenate([targets[i, :tgt_len[i]] for i in range(len(tgt_len))])

    def run(lib, loss):
        return lambda z: loss(z.log_softmax(2), lib.tensor(targets), lib.tensor(in_len),
                              lib.tensor(tgt_len))

    compare(torch, run(cr, nn.CTCLoss(reduction=reduction)),
            run(torch, torch.nn.CTCLoss(reduction=reduction)), [logits])


def test_ctc_loss_blank_unbatched_zero_infinity_and_gradient(torch):
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((6, 4))
    tg = np.array([0, 2, 2])  # blank = 3
    for zero_inf in (False, True):
        compare(torch, lambda z: F.ctc_loss(z.log_softmax(1), cr.tensor(tg), 6, 3, blank=3,
                                            zero_infinity=zero_inf),
                lambda z: torch.nn.functional.ctc_loss(z.log_softmax(1), torch.tensor(tg),
                                                       torch.tensor(6), torch.tensor(3), blank=3,
                                                       zero_infinity=zero_inf), [logits])
    # an impossible alignment (3 labels with a repeat need 4 frames, 2 given): inf, or 0
    lp = cr.tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    loss = F.ctc_loss(lp, cr.tensor([[1, 1, 2]]), [2], [3], reduction="sum", zero_infinity=True)
    loss.backward()
    assert loss.item() == 0 and not lp.grad.numpy().any()
    assert np.isinf(F.ctc_loss(lp, cr.tensor([[1, 1, 2]]), [2], [3], reduction="sum").item())
    # the gradient is the true derivative with respect to the log-probabilities
    lp = cr.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    assert cr.autograd.gradcheck(
        lambda z: F.ctc_loss(z, cr.tensor([[1, 2], [2, 2]]), [5, 4], [2, 1], reduction="none"),
        (lp,))
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(lp, cr.tensor([[0, 1]]).repeat(2, 1), [5, 5], [2, 2])


def test_ctc_loss_double_backward_refused():
    lp = cr.randn(4, 1, 3, dtype=cr.float64, requires_grad=True)
    loss = F.ctc_loss(lp, cr.tensor([[1]]), [4], [1])
    (g,) = cr.autograd.grad(loss, lp, create_graph=True)
    with pytest.raises(NotImplementedError, match="double backward"):
        g.sum().backward()


def test_nll_loss2d_alias(torch):
    rng = np.random.default_rng(7)
    x, t = rng.standard_normal((2, 3, 4, 4)), rng.integers(0, 3, (2, 4, 4))
    with pytest.warns(UserWarning, match="NLLLoss2d has been deprecated"):
        cm = nn.NLLLoss2d(ignore_index=1)
    assert isinstance(cm, nn.NLLLoss)
    compare(torch, cm, torch.nn.NLLLoss(ignore_index=1), [x, t])


@pytest.mark.parametrize("kw", [{}, {"bias": True, "label_smoothing": 0.1},
                                {"out_features": (2,), "bias": True}, {"reduction": "none"},
                                {"ignore_index": 2, "reduction": "sum"}])
def test_linear_cross_entropy(torch, kw):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 3, (6, 2) if kw.get("out_features") else 6)
    tm = torch.nn.LinearCrossEntropyLoss(4, 3, **kw)
    cm = nn.LinearCrossEntropyLoss(4, 3, **kw)
    assert repr(cm) == repr(tm)
    compare_module(torch, cm, tm, [x, t])


def test_private_loss_bases():
    from chainrule.nn.modules.loss import _Loss, _WeightedLoss

    assert isinstance(nn.CTCLoss(), _Loss) and isinstance(nn.MultiLabelSoftMarginLoss(), _WeightedLoss)
    close(nn.SoftMarginLoss()(cr.tensor([2.0, -1.0]), cr.tensor([1.0, -1.0])),
          np.log1p(np.exp(-2.0)) / 2 + np.log1p(np.exp(-1.0)) / 2, 1e-6)
