"""PyTorch as the oracle: forward values and gradients of core operations on the same float64
inputs (skipped where torch is not installed).

Each case is ``fn(m, *xs)`` written once for both libraries (``m`` is ``chainrule`` or
``torch``), with inputs that include the special points: ties, zeros, bounds, huge values.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
B = R.standard_normal((4, 5))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
ZERO_ROW = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]])
BIG = np.array([[1000.0, -1000.0, 999.0], [-5.0, 0.0, 5.0]])
AT_BOUNDS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
WITH_ZERO = np.array([[0.0, 2.0, -1.5], [1.0, 0.0, 3.0]])
IDX = np.array([[2, 0, 0], [1, 1, 3]])


def _t(m, a):
    return m.tensor(a) if m is cr else m.from_numpy(a)


CASES = {
    # reductions
    "sum_dim": (lambda m, x: x.sum((0, 1), keepdim=True) + x.sum(-1).sum(), [A]),
    "mean_dim": (lambda m, x: x.mean(1), [A]),
    "prod_with_zero": (lambda m, x: x.prod(1), [WITH_ZERO]),
    "prod_all": (lambda m, x: x.prod(), [A]),
    "max_all_ties": (lambda m, x: x.max(), [TIES]),
    "min_all_ties": (lambda m, x: x.min(), [TIES]),
    "max_dim": (lambda m, x: x.max(1).values, [A]),
    "min_dim_keepdim": (lambda m, x: m.min(x, 0, keepdim=True).values, [A]),
    "amax_ties": (lambda m, x: x.amax(1), [TIES]),
    "amin_ties_dims": (lambda m, x: m.amin(x, (0, 1)), [TIES]),
    "var_default": (lambda m, x: x.var(1), [A]),
    "var_correction0": (lambda m, x: m.var(x, 0, correction=0), [A]),
    "var_unbiased_false": (lambda m, x: x.var(unbiased=False), [A]),
    "std_keepdim": (lambda m, x: x.std(1, keepdim=True), [A]),
    "std_correction2": (lambda m, x: x.std(dim=None, correction=2), [A]),
    "norm_at_zero": (lambda m, x: x.norm(dim=1), [ZERO_ROW]),
    "norm_all_zero": (lambda m, x: (x * 0).norm(), [A]),
    "norm_p1": (lambda m, x: x.norm(1), [A]),
    "norm_inf": (lambda m, x: x.norm(float("inf"), dim=0), [A]),
    "logsumexp": (lambda m, x: m.logsumexp(x, 1), [BIG]),
    "softmax": (lambda m, x: x.softmax(1), [BIG]),
    "softmax_dim0": (lambda m, x: m.softmax(x, 0), [A]),
    "log_softmax": (lambda m, x: m.log_softmax(x, -1), [BIG]),
    "cumsum": (lambda m, x: x.cumsum(1), [A]),
    # elementwise at the special points
    "relu_at_zero": (lambda m, x: m.relu(x), [AT_BOUNDS]),
    "abs_at_zero": (lambda m, x: x.abs(), [AT_BOUNDS]),
    "clamp_at_bounds": (lambda m, x: x.clamp(-1.0, 1.0), [AT_BOUNDS]),
    "clamp_min_only": (lambda m, x: m.clamp(x, min=0.5), [AT_BOUNDS]),
    "maximum_ties": (lambda m, x, y: m.maximum(x, y), [TIES, TIES[::-1].copy()]),
    "minimum_ties": (lambda m, x, y: m.minimum(x, y), [TIES, np.full((3, 4), 2.0)]),
    "where": (lambda m, x, y: m.where(x > 0, x, y), [A, A[::-1].copy()]),
    "pow_zero_base": (lambda m, x, y: x ** y, [np.array([0.0, 0.0, 2.0, 0.0]),
                                               np.array([2.0, 0.0, 3.0, 0.5])]),
    "square_at_zero": (lambda m, x: x ** 2 + x ** 3, [AT_BOUNDS]),
    "rpow": (lambda m, x: 2.0 ** x, [A]),
    "sigmoid_tanh_big": (lambda m, x: x.sigmoid() + x.tanh(), [BIG]),
    "sqrt_log_exp": (lambda m, x: x.exp().sqrt().log(), [A]),
    "remainder": (lambda m, x, y: x % y, [A * 3, np.array([0.7, -0.7, 1.3, 2.0])]),
    "div_broadcast": (lambda m, x, y: x / y, [A, np.array([[1.5], [-2.0], [0.5]])]),
    # indexing
    "getitem_repeats": (lambda m, x: x[[0, 0, 2]], [A]),
    "getitem_mask": (lambda m, x: x[x > 0], [A]),
    "getitem_mixed": (lambda m, x: x[:, None, 1:], [A]),
    "getitem_adv_pair": (lambda m, x: x[[2, 0], [1, 3]], [A]),
    "gather": (lambda m, x: x.gather(1, _t(m, IDX)), [A[:2]]),
    "scatter_add": (lambda m, x, s: x.scatter_add(1, _t(m, IDX), s), [A[:2], B[:2, :3]]),
    "index_select": (lambda m, x: x.index_select(1, _t(m, np.array([3, 3, 0]))), [A]),
    "masked_fill": (lambda m, x: x.masked_fill(x < 0, 0.5), [A]),
    "take_along_dim": (lambda m, x: m.take_along_dim(x, _t(m, IDX[:1]), 1), [A]),
    # shapes
    "cat_stack": (lambda m, x, y: m.cat([x, y], 0).sum(0) + m.stack([x, y], 2).sum((0, 2)),
                  [A, A * 2]),
    "split_chunk": (lambda m, x: x.split(3, 1)[1].sum() + m.chunk(x, 2, 0)[0].sum(), [A]),
    "flip_repeat_expand": (lambda m, x: x.flip(0).repeat(2, 1) + x[:1].expand(6, 4),
                           [A[:3]]),
    "permute_transpose_reshape": (lambda m, x: x.reshape(2, 6).T.permute(1, 0).reshape(-1),
                                  [A]),
    # products
    "matmul_broadcast": (lambda m, x, y: x @ y, [R.standard_normal((2, 1, 3, 4)),
                                                 R.standard_normal((5, 4, 2))]),
    "matmul_vec_mat": (lambda m, x, y: m.matmul(x, y), [A[0].copy(), B]),
    "matmul_batch_vec": (lambda m, x, y: x @ y, [R.standard_normal((2, 3, 4)), A[0].copy()]),
    "dot_outer": (lambda m, x, y: m.outer(x, y).sum(0) * m.dot(x, y), [A[0].copy(), B[:, 0].copy()]),
    "einsum": (lambda m, x, y: m.einsum("bij,jk->bki", x, y), [R.standard_normal((2, 3, 4)), B]),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 ** -1 inside pow's rule; torch is silent
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_gradients_match_torch(torch, name):
    fn, inputs = CASES[name]
    ours = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    out = fn(cr, *ours)
    ref = fn(torch, *theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert out.dtype.name == str(ref.dtype).replace("torch.", "")
    g = np.random.default_rng(1).standard_normal(tuple(ref.shape))
    out.backward(cr.from_numpy(g))
    ref.backward(torch.from_numpy(g))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-13,
                                   err_msg=name)


def test_max_dim_indices_and_single_index_gradient_match_torch(torch):
    for dim in (0, 1):
        x = cr.tensor(TIES, requires_grad=True)
        xt = torch.tensor(TIES, requires_grad=True)
        v, i = x.max(dim)
        vt, it = xt.max(dim)
        assert i.tolist() == it.tolist()
        v.sum().backward()
        vt.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_second_derivatives_match_torch(torch):
    """Double backward through several primitives (create_graph=True) agrees with torch."""
    def f(m, x, w):
        return ((x @ w).tanh().softmax(1) * x.sum(1, keepdim=True).sigmoid()).logsumexp(1).sum()

    ours = [cr.tensor(a, requires_grad=True) for a in (A, B)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (A, B)]
    gx, = cr.autograd.grad(f(cr, *ours), ours[0], create_graph=True)
    gxt, = torch.autograd.grad(f(torch, *theirs), theirs[0], create_graph=True)
    (gx ** 2).sum().backward()
    (gxt ** 2).sum().backward()
    np.testing.assert_allclose(gx.detach().numpy(), gxt.detach().numpy(), rtol=1e-10)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_p_norm_gradient_at_zero_matches_torch(torch):
    for p in (3, 1.5, 4.0):
        grads = []
        for L in (cr, torch):
            x = L.zeros(2, 3, dtype=L.float64, requires_grad=True)
            x.norm(p, dim=1).sum().backward()
            grads.append(x.grad.numpy())
        np.testing.assert_array_equal(grads[0], grads[1])
