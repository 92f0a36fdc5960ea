"""torch.nn surface: PixelShuffle/PixelUnshuffle, ChannelShuffle, EmbeddingBag,
FeatureAlphaDropout and the dropout base class against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import close, compare, compare_module


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 2), 3), ((2, 1, 4, 3, 2), 1)])
def test_pixel_shuffle_roundtrip(torch, shape, r):
    x = np.random.default_rng(0).standard_normal(shape)
    compare(torch, nn.PixelShuffle(r), torch.nn.PixelShuffle(r), [x])
    y = torch.nn.functional.pixel_shuffle(torch.tensor(x), r).numpy()
    compare(torch, nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), [y])
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(cr.randn(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(cr.randn(1, 1, 3, 4), 2)


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((2, 6, 1, 2, 1), 6)])
def test_channel_shuffle(torch, shape, g):
    x = np.random.default_rng(1).standard_normal(shape)
    compare(torch, nn.ChannelShuffle(g), torch.nn.ChannelShuffle(g), [x])
    close(F.native_channel_shuffle(cr.tensor(x), g),  # torch has no derivative for this one
          torch.nn.functional.native_channel_shuffle(torch.tensor(x), g))
    assert repr(nn.ChannelShuffle(g)) == repr(torch.nn.ChannelShuffle(g))


BAGS = [
    dict(mode="sum"), dict(mode="mean"), dict(mode="max"), dict(mode="sum", padding_idx=2),
    dict(mode="mean", padding_idx=0), dict(mode="max", padding_idx=3),
    dict(mode="mean", include_last_offset=True),
    dict(mode="mean", max_norm=1.0), dict(mode="sum", max_norm=0.5, norm_type=1.0),
]


@pytest.mark.parametrize("kw,layout", [(kw, lay) for kw in BAGS for lay in ("offsets", "2d")
                                       if lay == "offsets" or "include_last_offset" not in kw])
def test_embedding_bag(torch, kw, layout):
    rng = np.random.default_rng(2)
    if layout == "2d":
        idx, off = rng.integers(0, 6, (4, 3)), None
    else:
        idx = rng.integers(0, 6, 11)
        off = np.array([0, 3, 3, 7, 11] if kw.get("include_last_offset") else [0, 3, 3, 7])
    tm = torch.nn.EmbeddingBag(6, 4, **kw)
    cm = nn.EmbeddingBag(6, 4, **kw)
    assert repr(cm) == repr(tm)
    arrays = [idx] if off is None else [idx, off]
    compare_module(torch, cm, tm, arrays)
    close(cm.weight, tm.weight)  # max_norm renormalised the same rows in place


def test_embedding_bag_per_sample_weights(torch):
    rng = np.random.default_rng(3)
    idx, off, w = rng.integers(0, 5, 8), np.array([0, 2, 2, 5]), rng.standard_normal(8)
    tm = torch.nn.EmbeddingBag(5, 3, mode="sum")
    compare_module(torch, nn.EmbeddingBag(5, 3, mode="sum"), tm, [idx, off, w])
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(cr.tensor(idx), cr.randn(5, 3), cr.tensor(off),
                        per_sample_weights=cr.tensor(w))


def test_embedding_bag_scale_grad_by_freq(torch):
    # each row's gradient divided by its frequency in the batch, as F.embedding's (PyTorch's
    # CPU embedding_bag kernel divides row 2 of [1, 1, 2] by 2: its counts are misaligned)
    w = cr.ones(4, 1, dtype=cr.float64, requires_grad=True)
    F.embedding_bag(cr.tensor([1, 1, 2]), w, cr.tensor([0, 2]), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    wt = torch.ones(4, 1, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor([1, 1, 2]), wt, scale_grad_by_freq=True).sum().backward()
    close(w.grad, wt.grad)


def test_embedding_bag_from_pretrained(torch):
    w = np.arange(12.0).reshape(4, 3)
    cb = nn.EmbeddingBag.from_pretrained(cr.tensor(w), mode="max")
    tb = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), mode="max")
    assert not cb.weight.requires_grad
    close(cb(cr.tensor([[0, 3], [1, 2]])), tb(torch.tensor([[0, 3], [1, 2]])))


def test_dropout_hierarchy_and_feature_alpha_dropout(torch):
    from chainrule.nn.modules.dropout import _DropoutNd

    for name in ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                 "FeatureAlphaDropout"]:
        assert isinstance(getattr(nn, name)(), _DropoutNd)
        assert repr(getattr(nn, name)(0.25)) == repr(getattr(torch.nn, name)(0.25))
    assert not isinstance(nn.AlphaDropout(), nn.Dropout)  # as torch
    cr.manual_seed(0)
    x = cr.randn(400, 50, 3)
    y = nn.FeatureAlphaDropout(0.3)(x).numpy()
    per_channel = y.reshape(400, 50, 3)
    alpha, p = 1.7580993408473766, 0.3
    fill = -alpha * (1 - p) / np.sqrt((alpha * alpha * p + 1) * (1 - p))  # a dropped value
    dropped = np.all(np.isclose(per_channel, fill), axis=-1)
    assert abs(dropped.mean() - 0.3) < 0.02  # whole channels dropped at rate p
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03  # SELU statistics kept
    assert nn.FeatureAlphaDropout(0.3).eval()(x) is x
