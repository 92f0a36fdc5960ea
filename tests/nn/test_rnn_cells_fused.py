"""LSTMCellAct and GRUCellAct: the LSTM and GRU cells' gate arithmetic as one node each.
Values and gradients equal PyTorch's cells; the array VJP (the common case) equals the
tensor VJP (recorded for double backward); double backward, forward mode, vmap, compile
and ONNX export work."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn._rnn_cells import lstm_cell
from chainrule.ops.rnn_cell_ops import LSTMCellAct


def _pair(torch, seed=0, n=3, i=4, h=5):
    rng = np.random.default_rng(seed)
    cell = nn.LSTMCell(i, h).double()
    tcell = torch.nn.LSTMCell(i, h).double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(cell.named_parameters(), tcell.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    arrs = [rng.standard_normal(s) for s in ((n, i), (n, h), (n, h))]
    return cell, tcell, arrs


def test_values_and_gradients_match_torch(torch):
    cell, tcell, (x, h, c) = _pair(torch)
    xs = [cr.tensor(a, requires_grad=True) for a in (x, h, c)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    h2, c2 = cell(xs[0], (xs[1], xs[2]))
    th2, tc2 = tcell(ts[0], (ts[1], ts[2]))
    np.testing.assert_allclose(h2.detach().numpy(), th2.detach().numpy(), atol=1e-14)
    np.testing.assert_allclose(c2.detach().numpy(), tc2.detach().numpy(), atol=1e-14)
    g1, g2 = np.random.default_rng(1).standard_normal((2,) + h.shape)
    (h2 * cr.tensor(g1)).sum().add((c2 * cr.tensor(g2)).sum()).backward()
    ((th2 * torch.tensor(g1)).sum() + (tc2 * torch.tensor(g2)).sum()).backward()
    for a, b in zip(xs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-13)
    for p, q in zip(cell.parameters(), tcell.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-13)


def test_array_vjp_equals_tensor_vjp():
    rng = np.random.default_rng(2)
    a = cr.tensor(rng.standard_normal((3, 8)), requires_grad=True)
    c = cr.tensor(rng.standard_normal(2), requires_grad=True)  # broadcast over the batch
    g = cr.tensor(rng.standard_normal((3, 4)))
    fast = cr.autograd.grad(LSTMCellAct.apply(a, c), (a, c), g)
    slow = cr.autograd.grad(LSTMCellAct.apply(a, c), (a, c), g, create_graph=True)
    for f, s in zip(fast, slow):
        assert f.shape == s.shape
        np.testing.assert_allclose(f.numpy(), s.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_double_backward_and_forward_mode():
    rng = np.random.default_rng(3)
    a = cr.tensor(rng.standard_normal((2, 12)), requires_grad=True)
    c = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert cr.autograd.gradcheck(LSTMCellAct.apply, (a, c))
    assert cr.autograd.gradgradcheck(LSTMCellAct.apply, (a, c))
    da, dc = cr.tensor(rng.standard_normal((2, 12))), cr.tensor(rng.standard_normal((2, 3)))
    out, tangent = cr.func.jvp(LSTMCellAct.apply, (a.detach(), c.detach()), (da, dc))
    eps = 1e-6
    num = (LSTMCellAct.apply(a.detach() + eps * da, c.detach() + eps * dc)
           - LSTMCellAct.apply(a.detach() - eps * da, c.detach() - eps * dc)) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), num.numpy(), atol=1e-8)


def test_vmap_equals_a_loop():
    rng = np.random.default_rng(4)
    cell = nn.LSTMCell(3, 4).double()
    w = [p.detach() for p in cell.parameters()]
    xs = cr.tensor(rng.standard_normal((5, 2, 3)))
    h = cr.tensor(rng.standard_normal((2, 4)))
    c = cr.tensor(rng.standard_normal((2, 4)))

    def step(x):
        return lstm_cell(x, (h, c), *w)[0]

    batched = cr.func.vmap(step)(xs)
    looped = cr.stack([step(xs[k]) for k in range(5)])
    np.testing.assert_allclose(batched.numpy(), looped.numpy(), atol=1e-14)


def test_compiled_hand_stepped_lstm_equals_eager():
    def run(compiled):
        cr.manual_seed(0)
        cell, head = nn.LSTMCell(3, 6), nn.Linear(6, 1)
        opt = cr.optim.SGD([*cell.parameters(), *head.parameters()], lr=0.1)
        xs, ys = cr.randn(4, 2, 3), cr.randn(4, 2, 1)

        def step():
            opt.zero_grad()
            h = c = cr.zeros(2, 6)
            loss = 0
            for t in range(4):
                h, c = cell(xs[t], (h, c))
                loss = loss + ((head(h) - ys[t]) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = cr.compile(step) if compiled else step
        return [float(f()) for _ in range(5)], [p.detach().numpy() for p in cell.parameters()]

    (l1, p1), (l2, p2) = run(False), run(True)
    assert l1 == l2
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)


def test_onnx_export_runs_in_onnxruntime(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(3, 4)

        def forward(self, x, h, c):
            return self.cell(x, (h, c))

    cr.manual_seed(0)
    net = Net()
    args = (cr.randn(2, 3), cr.randn(2, 4), cr.randn(2, 4))
    path = tmp_path / "cell.onnx"
    cr.onnx.export(net, args, str(path), input_names=["x", "h", "c"],
                   output_names=["h2", "c2"],
                   dynamic_axes={k: {0: "batch"} for k in ("x", "h", "c", "h2", "c2")})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for run_args in (args, (cr.randn(5, 3), cr.randn(5, 4), cr.randn(5, 4))):  # any batch
        got = sess.run(None, {k: a.numpy() for k, a in zip(["x", "h", "c"], run_args)})
        want = net(*run_args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.detach().numpy(), atol=1e-5)


# -- GRUCellAct ------------------------------------------------------------------------------
from chainrule.ops.rnn_cell_ops import GRUCellAct  # noqa: E402


def test_gru_values_and_gradients_match_torch(torch):
    rng = np.random.default_rng(5)
    cell, tcell = nn.GRUCell(4, 5).double(), torch.nn.GRUCell(4, 5).double()
    with torch.no_grad():
        for p, q in zip(cell.parameters(), tcell.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    xs = [cr.tensor(a, requires_grad=True) for a in (x, h)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, h)]
    out, tout = cell(*xs), tcell(*ts)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-14)
    g = rng.standard_normal((3, 5))
    out.backward(cr.tensor(g))
    tout.backward(torch.tensor(g))
    for a, b in [*zip(xs, ts), *zip(cell.parameters(), tcell.parameters())]:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-13)


def test_gru_rules_on_arrays_and_tensors_agree_and_differentiate():
    rng = np.random.default_rng(6)
    gi = cr.tensor(rng.standard_normal((2, 9)), requires_grad=True)
    gh = cr.tensor(rng.standard_normal((2, 9)), requires_grad=True)
    h = cr.tensor(rng.standard_normal(3), requires_grad=True)  # broadcast over the batch
    g = cr.tensor(rng.standard_normal((2, 3)))
    fast = cr.autograd.grad(GRUCellAct.apply(gi, gh, h), (gi, gh, h), g)
    slow = cr.autograd.grad(GRUCellAct.apply(gi, gh, h), (gi, gh, h), g, create_graph=True)
    for f, s in zip(fast, slow):
        assert f.shape == s.shape
        np.testing.assert_allclose(f.numpy(), s.detach().numpy(), rtol=1e-13, atol=1e-14)
    assert cr.autograd.gradcheck(GRUCellAct.apply, (gi, gh, h))
    assert cr.autograd.gradgradcheck(GRUCellAct.apply, (gi, gh, h))
    dots = [cr.tensor(rng.standard_normal(t.shape)) for t in (gi, gh, h)]
    prim = [t.detach() for t in (gi, gh, h)]
    _, tangent = cr.func.jvp(GRUCellAct.apply, tuple(prim), tuple(dots))
    eps = 1e-6
    num = (GRUCellAct.apply(*[p + eps * d for p, d in zip(prim, dots)])
           - GRUCellAct.apply(*[p - eps * d for p, d in zip(prim, dots)])) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), num.numpy(), atol=1e-8)


def test_gru_vmap_compile_and_onnx(tmp_path):
    from chainrule.nn._rnn_cells import gru_cell

    rng = np.random.default_rng(7)
    cell = nn.GRUCell(3, 4).double()
    w = [p.detach() for p in cell.parameters()]
    xs, h = cr.tensor(rng.standard_normal((5, 2, 3))), cr.tensor(rng.standard_normal((2, 4)))
    batched = cr.func.vmap(lambda x: gru_cell(x, h, *w))(xs)
    looped = cr.stack([gru_cell(xs[k], h, *w) for k in range(5)])
    np.testing.assert_allclose(batched.numpy(), looped.numpy(), atol=1e-14)

    def run(compiled):
        cr.manual_seed(0)
        c = nn.GRUCell(3, 4)
        opt = cr.optim.SGD(c.parameters(), lr=0.1)
        x = cr.randn(3, 2, 3)

        def step():
            opt.zero_grad()
            s = cr.zeros(2, 4)
            for t in range(3):
                s = c(x[t], s)
            loss = (s ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = cr.compile(step) if compiled else step
        return [float(f()) for _ in range(4)]

    assert run(False) == run(True)
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    cr.manual_seed(0)
    net = nn.GRUCell(3, 4)
    args = (cr.randn(2, 3), cr.randn(2, 4))
    cr.onnx.export(net, args, str(tmp_path / "gru.onnx"), input_names=["x", "h"],
                   output_names=["out"], dynamic_axes={k: {0: "batch"} for k in ("x", "h", "out")})
    sess = ort.InferenceSession(str(tmp_path / "gru.onnx"), providers=["CPUExecutionProvider"])
    for run_args in (args, (cr.randn(6, 3), cr.randn(6, 4))):  # any batch
        got = sess.run(None, {"x": run_args[0].numpy(), "h": run_args[1].numpy()})[0]
        np.testing.assert_allclose(got, net(*run_args).detach().numpy(), atol=1e-5)
