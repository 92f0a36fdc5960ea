"""mean is one primitive (Mean: PyTorch's MeanBackward0/1): values and gradients bit for bit
those of sum / n, against torch, under vmap, compile, forward mode and ONNX; and apply's
inline storing of saved arguments for every save pattern."""

import numpy as np
import pytest

import chainrule as cr


def _x(shape=(3, 4), dtype=np.float32, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return cr.tensor(a, requires_grad=True)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False),
                                         (-1, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_mean_equals_sum_over_n_bitwise(dim, keepdim, dtype):
    x = _x(dtype=dtype)
    m = x.mean() if dim is None else x.mean(dim, keepdim=keepdim)
    s = x.sum() if dim is None else x.sum(dim, keepdim=keepdim)
    n = x.numel() // s.numel()
    assert m.dtype == s.dtype and m.shape == s.shape
    np.testing.assert_array_equal(m.detach().numpy(), (s / n).detach().numpy())
    w = cr.tensor(np.linspace(-1, 1, m.numel()).reshape(m.shape).astype(dtype))
    (gm,) = cr.autograd.grad((m * w).sum(), x)
    (gs,) = cr.autograd.grad(((s / n) * w).sum(), x)
    np.testing.assert_array_equal(gm.numpy(), gs.numpy())


def test_grad_fn_names_match_torch(torch):
    x = _x()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    for f in (lambda t: t.mean(), lambda t: t.mean(0), lambda t: t.mean((0, 1)),
              lambda t: t.sum(), lambda t: t.sum(1, keepdim=True)):
        assert f(x).grad_fn.name() == type(f(tx).grad_fn).__name__


def test_mean_against_torch_double_backward_forward_mode_and_vmap(torch):
    x = _x(dtype=np.float64)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (g,) = cr.autograd.grad((x.mean(1) ** 2).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx.mean(1) ** 2).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    (gg,) = cr.autograd.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12)
    v = cr.ones(3, 4, dtype=cr.float64)
    _, jv = cr.func.jvp(lambda t: t.mean(0), (x.detach(),), (v,))
    np.testing.assert_allclose(jv.numpy(), np.ones(4))
    batched = cr.vmap(lambda t: t.mean())(x.detach())
    np.testing.assert_allclose(batched.numpy(), x.detach().numpy().mean(1), rtol=1e-12)


def test_compiled_mean_step_equals_eager():
    def step(x):
        return (x * 2).mean(0).sum()

    x = _x()
    eager = step(x)
    comp = cr.compile(step)
    for _ in range(3):
        out = comp(x)
    np.testing.assert_array_equal(out.detach().numpy(), eager.detach().numpy())


def test_onnx_mean_runs_at_another_batch_size(tmp_path):
    ort = pytest.importorskip("onnxruntime")

    class M(cr.nn.Module):
        def forward(self, x):
            return x.mean(1) + x.mean()

    f = tmp_path / "m.onnx"
    cr.onnx.export(M(), (cr.randn(2, 5),), str(f), input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    x = np.random.default_rng(1).standard_normal((7, 5)).astype(np.float32)
    (y,) = ort.InferenceSession(str(f)).run(None, {"x": x})
    np.testing.assert_allclose(y, x.mean(1) + x.mean(), rtol=1e-5, atol=1e-6)


def test_every_save_pattern_of_apply():
    x = _x((5,), dtype=np.float64, seed=3)
    y = _x((5,), dtype=np.float64, seed=4)
    checks = {
        "x": (lambda a, b: (a * a).log().sum(),
              lambda a, b: 2 / a),
        "x,y": (lambda a, b: (a * b).sum(), lambda a, b: b),
        "x,scalar": (lambda a, b: (a / 3).sum(), lambda a, b: np.full(5, 1 / 3)),
        "out": (lambda a, b: a.exp().sum(), lambda a, b: np.exp(a)),
        "x,out": (lambda a, b: cr.special.i0e(a).sum(), None),
        "x,y,out": (lambda a, b: (a.abs() ** b.abs()).sum(), None),
    }
    for name, (f, expect) in checks.items():
        (g,) = cr.autograd.grad(f(x, y), x)
        if expect is not None:
            np.testing.assert_allclose(g.numpy(), expect(x.detach().numpy(), y.detach().numpy()),
                                       rtol=1e-12, err_msg=name)
        assert cr.autograd.gradcheck(lambda t: f(t, y), (x,)), name
