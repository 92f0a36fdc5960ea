"""In-place operations in the autograd graph, against PyTorch: values, gradients, views,
shared version counters and the errors (chainrule._inplace)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

# Each case is written once against a library ``L`` (torch or chainrule): it returns the
# tensors whose values are compared, after a backward pass through the in-place ops.


def _accumulate(L, x):
    loss = 0
    for k in range(3):
        loss += (x * (k + 1)).sum()
    loss.backward()
    return [loss, x.grad]


def _chain(L, x):
    y = x * 2
    y += 1
    y.mul_(x)
    y.sub_(x, alpha=0.5)
    y /= 3
    y.sum().backward()
    return [y, x.grad]


def _unary(L, x):
    y = x * 1.5
    y.sigmoid_()
    z = x * 0.5
    z.tanh_()
    w = x - 0.2
    w.relu_()
    e = (x * 0.1)
    e.exp_()
    c = x * 3
    c.clamp_(-1.0, 1.0)
    (y * z + w + e + c).sum().backward()
    return [y, z, w, e, c, x.grad]


def _view_slice(L, x):
    y = x * 1.0
    y[:, 0] += 1
    y[1] *= x[1]
    (y ** 2).sum().backward()
    return [y, x.grad]


def _view_reshape(L, x):
    y = x * 2 + 1
    v = y.view(-1)
    v.mul_(2)
    t = y.t()
    t.add_(x.t())
    (y * x).sum().backward()
    return [y, v, t, x.grad]


def _setitem(L, x):
    y = x * 2
    y[0, 1] = x[1, 2] * 3
    y[1] = L.tensor([1.0, 2.0, 3.0], dtype=x.dtype)
    z = L.zeros(2, 3, dtype=x.dtype)
    z[:, 1] = x[:, 0]  # a tensor outside the graph takes the value's history
    (y * y).sum().backward()
    (z * z).sum().backward()
    return [y, z, x.grad]


def _masked_scatter_index(L, x):
    y = x * 1.0
    y.masked_fill_(x > 0, 0.5)
    s = x * 2
    s.scatter_(1, L.tensor([[0], [2]]), x[:, :1] * 5)
    a = x * 1
    a.index_add_(0, L.tensor([1, 1]), x * 3)
    b = x + 0
    b.copy_(x[0] * 7)
    f = x + 0
    f.fill_(2.0)
    z = x + 0
    z.zero_()
    (y + s * s + a * a + b * x + f * x + z * x).sum().backward()
    return [y, s, a, b, f, z, x.grad]


def _exp_output_modified_through_view(L, x):
    y = x.exp()
    v = y.view(-1)
    v.mul_(2)
    try:
        (y * x).sum().backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        return [np.array(1.0)]
    return [np.array(0.0)]


def _detach_shares_version(L, x):
    y = x.exp()
    d = y.detach()
    d.zero_()  # y's data too
    return [y]


CASES = [_accumulate, _chain, _unary, _view_slice, _view_reshape, _setitem,
         _masked_scatter_index, _exp_output_modified_through_view, _detach_shares_version]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_inplace_matches_torch(torch, case):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3))
    outs = []
    for L in (cr, torch):
        x = L.tensor(a.copy(), dtype=L.float64, requires_grad=True)
        outs.append([np.array(t.detach().numpy() if hasattr(t, "detach") else t)
                     for t in case(L, x)])
    for mine, theirs in zip(*outs):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_leaf_and_view_of_leaf_raise():
    w = cr.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0] += 1
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[1] = 0.0
    with cr.no_grad():
        w.add_(1)
        w[0] = 5.0
    assert w[0].item() == 5.0 and w._version == 2


def test_saved_tensor_modified_names_op_and_versions(torch):
    x = cr.randn(4, requires_grad=True)
    y = x.sigmoid()
    y.mul_(2)  # sigmoid saved its output y
    with pytest.raises(RuntimeError, match=r"SigmoidBackward0.*inplace operation \(mul_\).*"
                                           r"version 1; expected version 0"):
        y.sum().backward()
    # through a view of the base, and with the modified tensor gone from user code
    x = cr.randn(2, 3, requires_grad=True)
    a = x * 1
    b = a * a  # Mul saved a
    a[0].zero_()
    with pytest.raises(RuntimeError, match="inplace operation"):
        b.sum().backward()
    loss = x.sigmoid().mul_(2).sum()  # the sigmoid output object is gone; still detected
    with pytest.raises(RuntimeError, match="inplace operation"):
        loss.backward()
    # torch raises in the same three places
    tx = torch.randn(4, requires_grad=True)
    ty = tx.sigmoid()
    ty.mul_(2)
    with pytest.raises(RuntimeError, match="inplace operation"):
        ty.sum().backward()


def test_original_self_kept_for_the_other_operand(torch):
    # mul_ needs the old self for w's gradient: kept (PyTorch's original_self), no error
    for L in (cr, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([3.0, 4.0], requires_grad=True)
        y = x * 1
        y.mul_(w)
        y.pow_(2)  # pow_ needs the old self: kept too
        y.sum().backward()
        if L is cr:
            mine = (x.grad.numpy().copy(), w.grad.numpy().copy())
        else:
            np.testing.assert_allclose(mine[0], x.grad.numpy())
            np.testing.assert_allclose(mine[1], w.grad.numpy())


def test_one_version_counter_for_base_and_views():
    x = cr.zeros(2, 3)
    v = x[:, 1]
    r = x.view(6)
    t = x.T
    v.add_(1)
    assert x._version == v._version == r._version == t._version == 1
    assert r.tolist() == [0, 1, 0, 0, 1, 0]
    t.mul_(3)
    assert x._version == 2 and x[0, 1].item() == 3.0
    assert v._base is x and r._base is x and x._base is None
    # flip copies (as PyTorch): writing to it leaves x alone
    f = x.flip(0)
    f.zero_()
    assert x[0, 1].item() == 3.0 and f._base is None
    # an expanded view cannot be written to
    e = cr.zeros(1, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1)


def test_base_modified_while_view_saved_is_detected():
    x = cr.randn(3, 4, requires_grad=True)
    base = x * 1
    col = base[:, 0]
    out = col.exp()  # Exp saves its output, Mul below saves col
    prod = col * x[:, 1]
    base.mul_(2)  # changes col's data through the base
    with pytest.raises(RuntimeError, match="inplace operation"):
        prod.sum().backward()
    assert out.shape == (3,)


def test_dtype_and_shape_rules(torch):
    for L in (cr, torch):
        i = L.zeros(3, dtype=L.int64)
        with pytest.raises(RuntimeError, match="can't be cast"):
            i.add_(1.5)
        i.add_(2)
        f = L.zeros(2, 3)
        f.add_(L.ones(3, dtype=L.float64))  # float64 into float32: allowed
        assert f.dtype == L.float32
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            L.zeros(3).add_(L.ones(2, 3))
        c = L.zeros(3, dtype=L.int64)
        c.copy_(L.tensor([1.7, 2.2, -3.9]))  # copy_ casts anything
        assert c.tolist() == [1, 2, -3]


def test_forward_mode_through_inplace():
    from chainrule.autograd import forward_ad as fwAD

    x = cr.tensor([0.5, 1.0], dtype=cr.float64)
    with fwAD.dual_level():
        xd = fwAD.make_dual(x, cr.tensor([1.0, 0.0], dtype=cr.float64))
        y = xd * 1
        y.mul_(xd)  # x^2
        y[1] = xd[0] * 3  # y = (x0^2, 3 x0)
        t = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(t.numpy(), [1.0, 3.0])


def test_double_backward_through_inplace():
    x = cr.tensor([0.3, -0.7], dtype=cr.float64, requires_grad=True)
    y = x * 1
    y.mul_(x)
    y.mul_(x)  # x^3
    (g,) = cr.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())


def _custom_functions(L):
    class DoubleInPlace(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Split(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            out = 0
            if g1 is not None:
                out = out + g1
            if g2 is not None:
                out = out + 2 * g2
            return out

    return DoubleInPlace, Split


def test_mark_dirty_and_unmaterialized_grads_match_torch(torch):
    results = []
    for L in (cr, torch):
        DoubleInPlace, Split = _custom_functions(L)
        w = L.tensor([1.0, 3.0], requires_grad=True)
        a = w * 1
        b = DoubleInPlace.apply(a)
        res = [b is a, a._version]
        (b * b).sum().backward()
        res.append(w.grad.tolist())
        w2 = L.tensor([1.0, 3.0], requires_grad=True)
        o1, _ = Split.apply(w2)
        o1.sum().backward()  # the second output gets no gradient: None, not zeros
        res.append(w2.grad.tolist())
        with pytest.raises(RuntimeError, match="leaf Variable"):
            DoubleInPlace.apply(L.ones(2, requires_grad=True))
        results.append(res)
    assert results[0] == results[1] == [True, 2, [8.0, 24.0], [1.0, 1.0]]
