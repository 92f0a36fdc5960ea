"""vmap: batched results equal a loop and torch.vmap; the batched path is taken (primitive
calls do not grow with the batch); in_dims/out_dims/chunk_size/randomness; fallbacks."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import func
from chainrule import ops as P

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3, 5))
W = RNG.standard_normal((6, 5))

# (name, function of one example for chainrule, the same for torch); lib is cr or torch
CASES = [
    ("elementwise", lambda L, x: (x.sin() * x.exp() + x / (1 + x * x)).tanh()),
    ("sum_dims", lambda L, x: x.sum(1).sum() + x.mean(0, keepdim=True).sum(0)),
    ("amax", lambda L, x: x.amax(-1) - x.logsumexp(0).sum()),
    ("softmax", lambda L, x: x.softmax(-1) + x.log_softmax(0)),
    ("linear", lambda L, x: L.nn.functional.linear(x, L.tensor(W), L.tensor(W[:, 0]))),
    ("matmul_left", lambda L, x: L.tensor(W[:3, :3]) @ x),
    ("matmul_both", lambda L, x: x @ x.T),
    ("reshape_permute", lambda L, x: x.reshape(5, 3).permute(1, 0).flip(0).flatten()),
    ("expand_cat", lambda L, x: L.cat([x, x[:1].expand(2, 5)], 0)),
    ("index", lambda L, x: x[1:, ::2] * x[0, L.tensor([4, 0, 4])]),
    ("gather", lambda L, x: x.gather(1, L.tensor([[0, 1], [2, 2], [4, 3]]))),
    ("where_mask", lambda L, x: L.where(x > 0, x, 0.1 * x) + x.masked_fill(x < -1, 0.0)),
    ("clamp_abs", lambda L, x: x.clamp(-0.5, 0.5) + x.abs() + x.relu()),
    ("cumsum_prod", lambda L, x: x.cumsum(1) + x.prod(0)),
    ("stack_unbind", lambda L, x: L.stack(list(x.unbind(1)), 0)),
    ("transpose_mm", lambda L, x: (x.t() @ x).diagonal()),
    ("cross_entropy", lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 4, 2]))),
    ("pad", lambda L, x: L.nn.functional.pad(x, (1, 2))),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_torch_and_loop(torch, name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # every case takes a batched rule
        got = cr.vmap(lambda x: fn(cr, x))(cr.tensor(X))
    want = torch.vmap(lambda x: fn(torch, x))(torch.tensor(X))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    loop = cr.stack([fn(cr, cr.tensor(X[i])) for i in range(len(X))])
    np.testing.assert_allclose(got.numpy(), loop.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_and_pool_batched(torch):
    x = RNG.standard_normal((3, 2, 4, 6, 6))
    w = RNG.standard_normal((5, 4, 3, 3))

    def f(L, xi):
        y = L.nn.functional.conv2d(xi, L.tensor(w), padding=1)
        return L.nn.functional.max_pool2d(y, 2) + L.nn.functional.avg_pool2d(y, 2)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = cr.vmap(lambda xi: f(cr, xi))(cr.tensor(x))
        gx = func.vmap(func.grad(lambda xi: f(cr, xi).sum()))(cr.tensor(x))
    want = torch.vmap(lambda xi: f(torch, xi))(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    gt = torch.func.vmap(torch.func.grad(lambda xi: f(torch, xi).sum()))(torch.tensor(x))
    np.testing.assert_allclose(gx.numpy(), gt.numpy(), rtol=1e-9)


def _count_forward_calls(prim, fn, *args):
    calls = [0]
    orig = prim.forward

    def counting(*a, **k):
        calls[0] += 1
        return orig(*a, **k)

    prim.forward = staticmethod(counting)
    try:
        fn(*args)
    finally:
        prim.forward = orig
    return calls[0]


def test_batched_path_is_one_call_per_op_whatever_the_batch():
    def f(x):
        return ((x @ cr.tensor(W).T).tanh() * x.sum()).sum()

    counts = []
    for n in (2, 9):
        xs = cr.tensor(RNG.standard_normal((n, 5)))
        counts.append((_count_forward_calls(P.MatMul, cr.vmap(f), xs),
                       _count_forward_calls(P.Mul, cr.vmap(f), xs),
                       _count_forward_calls(P.MatMul, func.vmap(func.grad(f)), xs)))
    assert counts[0] == counts[1]
    assert counts[0][0] == 1 and counts[0][1] == 1


def test_in_dims_out_dims_pytrees(torch):
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 3))

    def f(L, d, t):
        return {"s": d["u"] * t[0] + t[1], "n": (d["u"] ** 2).sum()}

    kw = dict(in_dims=({"u": 1}, (0, None)), out_dims={"s": 1, "n": 0})
    got = func.vmap(lambda d, t: f(cr, d, t), **kw)({"u": cr.tensor(a)},
                                                    (cr.tensor(b), cr.tensor(1.5)))
    want = torch.func.vmap(lambda d, t: f(torch, d, t), **kw)(
        {"u": torch.tensor(a)}, (torch.tensor(b), torch.tensor(1.5)))
    for k in ("s", "n"):
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy())
    nested = cr.vmap(cr.vmap(lambda u, v: u * v, in_dims=(0, None)), in_dims=(None, 0))
    np.testing.assert_allclose(nested(cr.tensor(a[0]), cr.tensor(a)).numpy(),
                               a[0][None, :, None] * a[:, None, :])


def test_out_dims_none_and_negative_in_dims():
    x = cr.tensor(RNG.standard_normal((3, 4)))
    out = cr.vmap(lambda r: (r * 2, cr.tensor(7.0)), out_dims=(-1, None))(x)
    assert tuple(out[0].shape) == (4, 3) and out[1].item() == 7.0
    np.testing.assert_allclose(cr.vmap(lambda c: c.sum(), in_dims=-1)(x).numpy(),
                               x.numpy().sum(0))
    with pytest.raises(ValueError, match="out_dims=None"):
        cr.vmap(lambda r: r, out_dims=None)(x)


def test_vmap_errors():
    x = cr.tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        cr.vmap(lambda a, b: a + b)(x, cr.tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="out of bounds"):
        cr.vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(RuntimeError, match=r"\.item\(\)"):
        cr.vmap(lambda a: a.sum().item())(x)
    with pytest.raises(ValueError, match="chunk_size"):
        cr.vmap(lambda a: a, chunk_size=0)


def test_chunk_size_gives_the_same_result():
    x = cr.tensor(RNG.standard_normal((7, 3)))
    f = func.grad(lambda r: (r.sin() * r).sum())
    np.testing.assert_allclose(func.vmap(f, chunk_size=3)(x).numpy(), func.vmap(f)(x).numpy())


def test_randomness_modes():
    x = cr.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness"):
        cr.vmap(lambda r: r + cr.randn(3))(x)
    cr.manual_seed(1)
    same = cr.vmap(lambda r: r + cr.randn(3), randomness="same")(x)
    assert np.allclose(same.numpy(), same.numpy()[0])
    diff = cr.vmap(lambda r: F.dropout(r + 1, 0.5), randomness="different")(x)
    assert tuple(diff.shape) == (4, 3) and len({tuple(r) for r in diff.numpy()}) > 1
    np.testing.assert_allclose(np.unique(diff.numpy()), [0.0, 2.0])


def test_fallback_loop_warns_once_and_is_correct():
    class Sq(cr.autograd.Function):  # no vmap rule: runs per element
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = cr.tensor(RNG.standard_normal((5, 3)))
    with pytest.warns(UserWarning, match="no batching rule for Sq"):
        y = cr.vmap(Sq.apply)(x)
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 2)
    g = func.vmap(func.grad(lambda r: Sq.apply(r).sum()))(x)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy())


def test_custom_function_vmap_rules(torch):
    calls = []

    class Cube(cr.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            calls.append("bwd")
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * t

    class Twice(cr.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def vmap(info, in_dims, x):
            calls.append(info.batch_size)
            return Twice.apply(x), in_dims[0]

    x = cr.tensor(RNG.standard_normal((4, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_allclose(cr.vmap(Cube.apply)(x).numpy(), x.numpy() ** 3)
        g = func.vmap(func.grad(lambda r: Cube.apply(r).sum()))(x)
        np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
        J = func.vmap(func.jacfwd(Cube.apply))(x)
        np.testing.assert_allclose(J.numpy(), np.stack([np.diag(3 * r ** 2) for r in x.numpy()]))
        np.testing.assert_allclose(cr.vmap(Twice.apply)(x).numpy(), 2 * x.numpy())
    assert "bwd" in calls and 4 in calls
