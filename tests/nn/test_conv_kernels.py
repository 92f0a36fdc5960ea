"""The convolution kernels' fast paths (ops/_conv_kernels.py, ops/_scratch.py): both column
orders and any tile size give the same numbers, scratch arrays never leak into results (also
across threads), and a compiled CNN step equals the eager one bit for bit in each order."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.ops import _conv_kernels as K
from chainrule.ops import _scratch


@pytest.fixture(params=["nhw", "hwn"])
def order(request, monkeypatch):
    monkeypatch.setattr(K, "choose_order", lambda *a, **k: request.param)
    return request.param


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _conv_fb(x, w, b, u, **kw):
    """Output and the three gradients of <conv2d(x, w, b), u>."""
    xt, wt, bt = (cr.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, **kw)
    (out * cr.tensor(u)).sum().backward()
    return [a.detach().numpy().copy() for a in (out, xt.grad, wt.grad, bt.grad)]


@pytest.mark.parametrize("tile", [1, 1 << 12, 1 << 20])
@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=(1, 0)),
                                dict(dilation=2, padding=2, groups=2)])
def test_orders_and_tiles_agree(monkeypatch, tile, kw):
    """nhw and hwn columns, cut in tiles of any size, give the same result (float64: to
    rounding), and the same as one whole-batch pass."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4, 9, 8)), rng.standard_normal((6, 2 if "groups" in kw else 4, 3, 3)), rng.standard_normal(6)
    out_shape = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), **kw).shape
    u = rng.standard_normal(tuple(out_shape))
    ref = _conv_fb(x, w, b, u, **kw)
    monkeypatch.setattr(K, "_TILE_BYTES", tile)
    monkeypatch.setattr(K, "_GATHER_TILE_BYTES", tile)
    for order in ("nhw", "hwn"):
        monkeypatch.setattr(K, "choose_order", lambda *a, _o=order, **k: _o)
        for a, r in zip(_conv_fb(x, w, b, u, **kw), ref):
            np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_choose_order_follows_the_shapes():
    """Small images with many input channels gather in hwn order; a single sample or a large
    image with one channel stays nhw (no batch to put innermost, or long runs already)."""
    from chainrule.ops.conv import ConvGeom

    g14 = ConvGeom((14, 14), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    g28 = ConvGeom((28, 28), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert K.choose_order(64, 16, 32, g14, inputs=True) == "hwn"
    assert K.choose_order(1, 16, 32, g14, forward=True, weight=True, inputs=True) == "nhw"
    assert K.choose_order(64, 1, 16, g28, forward=True, weight=True) == "nhw"


def test_results_never_alias_scratch():
    """Two convolutions of the same shapes one after the other: the first results are
    unchanged by the second (scratch arrays are reused, results are fresh)."""
    rng = np.random.default_rng(1)
    w = cr.tensor(_f32(rng, 8, 3, 3, 3), requires_grad=True)
    x1, x2 = cr.tensor(_f32(rng, 4, 3, 10, 10)), cr.tensor(_f32(rng, 4, 3, 10, 10))
    y1 = F.conv2d(x1, w, padding=1)
    keep = y1.detach().numpy().copy()
    y1.sum().backward()
    g1 = w.grad.numpy()
    g1_copy = g1.copy()
    w.grad = None
    F.conv2d(x2, w, padding=1).sum().backward()
    np.testing.assert_array_equal(y1.detach().numpy(), keep)
    np.testing.assert_array_equal(g1, g1_copy)
    assert not np.array_equal(w.grad.numpy(), g1)


def test_threads_have_their_own_scratch():
    """Convolutions running in several threads at once give each thread's own results."""
    rng = np.random.default_rng(2)
    w = cr.tensor(_f32(rng, 8, 4, 3, 3))
    xs = [cr.tensor(_f32(rng, 16, 4, 12, 12)) for _ in range(4)]
    refs = [F.conv2d(x, w, padding=1).numpy() for x in xs]
    errors = []

    def work(i):
        for _ in range(20):
            if not np.array_equal(F.conv2d(xs[i], w, padding=1).numpy(), refs[i]):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_scratch_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_scratch, "_MAX_TOTAL", 1000)
    _scratch.clear()
    a = _scratch.scratch("t", (100,), np.float32, True)
    assert _scratch.scratch("t", (100,), np.float32, True) is a
    _scratch.scratch("u", (200,), np.float32, True)  # 400 + 800 > 1000: the cache is reset
    assert _scratch.scratch("t", (100,), np.float32, True) is not a
    assert _scratch.scratch("big", (10_000,), np.float32, False) is not _scratch.scratch(
        "big", (10_000,), np.float32, False)  # not cacheable: always new
    _scratch.clear()


@pytest.mark.parametrize("order", ["nhw", "hwn"])
def test_compiled_cnn_step_equals_eager(monkeypatch, order):
    """A conv-relu-pool training step compiled gives the eager numbers bit for bit, in each
    column order and with several tiles per pass (the replay runs the recorded NumPy calls,
    never the eager scratch cache)."""
    monkeypatch.setattr(K, "choose_order", lambda *a, **k: order)
    monkeypatch.setattr(K, "_TILE_BYTES", 1 << 12)
    monkeypatch.setattr(K, "_GATHER_TILE_BYTES", 1 << 12)
    rng = np.random.default_rng(3)
    xs = [cr.from_numpy(_f32(rng, 6, 2, 10, 10)) for _ in range(3)]
    ys = [cr.from_numpy(rng.integers(0, 5, 6)) for _ in range(3)]

    def train(compiled):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                              nn.Linear(6 * 5 * 5, 5))
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        if compiled:
            step = cr.compile(step, fullgraph=True)
        losses = [float(step(xs[i % 3], ys[i % 3])) for i in range(6)]
        return losses, [p.detach().numpy().copy() for p in model.parameters()]

    eager, comp = train(False), train(True)
    assert eager[0] == comp[0]
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], comp[1]))


def test_bias_gradient_from_the_weight_gradient_gemm(order):
    """The bias gradient computed inside ConvWeightGrad (from its row of ones, or summed):
    first and second derivatives through conv2d with a bias, and forward-over-reverse."""
    from chainrule.autograd import gradgradcheck

    rng = np.random.default_rng(5)
    x = cr.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (x, w, b))

    def loss(w, b):
        return (F.conv2d(x.detach(), w, b, padding=1) ** 2).sum()

    wd, bd = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    _, (hw, hb) = cr.func.jvp(cr.func.grad(loss, argnums=(0, 1)), (w.detach(), b.detach()),
                              (cr.tensor(wd), cr.tensor(bd)))
    eps = 1e-6
    gp = cr.func.grad(loss, argnums=(0, 1))(cr.tensor(w.detach().numpy() + eps * wd),
                                           cr.tensor(b.detach().numpy() + eps * bd))
    gm = cr.func.grad(loss, argnums=(0, 1))(cr.tensor(w.detach().numpy() - eps * wd),
                                           cr.tensor(b.detach().numpy() - eps * bd))
    np.testing.assert_allclose(hw.numpy(), (gp[0].numpy() - gm[0].numpy()) / (2 * eps), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hb.numpy(), (gp[1].numpy() - gm[1].numpy()) / (2 * eps), rtol=1e-5, atol=1e-5)
