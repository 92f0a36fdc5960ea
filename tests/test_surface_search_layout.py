"""Sets and search (unique, bincount, histc, histogram, searchsorted, bucketize, isin, take,
put), layout helpers (atleast_nd, stacks, splits, rot90, meshgrid, diff, as_strided, unfold,
*_copy) and indexing writes (scatter_reduce, index_reduce, index_put, masked_scatter,
*_scatter, fill_diagonal_) against torch: values, dtypes, gradients."""

import warnings

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 4))


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert tuple(got.shape) == tuple(want.shape)
    assert got.dtype.name == str(want.dtype).split(".")[-1], (got.dtype, want.dtype)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6,
                               equal_nan=True)


NOGRAD = [
    ("unique", lambda m: m.unique(m.tensor([3, 1, 2, 3, 1, 5]))),
    ("unique_all", lambda m: m.unique(m.tensor([[3, 1], [2, 3]]), return_inverse=True,
                                      return_counts=True)),
    ("unique_dim", lambda m: m.unique(m.tensor([[1, 2], [1, 2], [0, 3]]), dim=0,
                                      return_inverse=True, return_counts=True)),
    ("unique_nan", lambda m: m.tensor([1.0, float("nan"), float("nan"), 1.0]).unique()),
    ("unique_consecutive", lambda m: m.unique_consecutive(
        m.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True)),
    ("unique_consecutive_dim", lambda m: m.tensor([[1, 2], [1, 2], [0, 3]]).unique_consecutive(
        dim=0, return_counts=True)),
    ("bincount", lambda m: m.bincount(m.tensor([0, 1, 1, 3]))),
    ("bincount_w", lambda m: m.bincount(m.tensor([0, 1, 1, 3]), m.tensor([0.5, 1.0, 1, 2]),
                                        minlength=6)),
    ("bincount_wint", lambda m: m.tensor([0, 2]).bincount(m.tensor([1, 2]))),
    ("bincount_empty", lambda m: m.bincount(m.tensor([], dtype=m.int64))),
    ("histc", lambda m: m.histc(m.tensor([1.0, 2, 1, 4, -1]), bins=4, min=0, max=3)),
    ("histc_auto", lambda m: m.tensor([1.0, 2, 1]).histc(4)),
    ("histc_point", lambda m: m.histc(m.tensor([1.0, 1.0]), bins=2)),
    ("histogram", lambda m: m.histogram(m.tensor([1.0, 2, 1, 4]), bins=4, range=(0.0, 3.0))),
    ("histogram_edges", lambda m: m.histogram(m.tensor([1.0, 2, 1]), m.tensor([0.0, 1.5, 2, 5]),
                                              weight=m.tensor([1.0, 2, 3]), density=True)),
    ("histogramdd", lambda m: m.histogramdd(m.tensor([[0.0, 1], [1, 0], [2, 0]]), bins=[2, 2])),
    ("searchsorted", lambda m: m.searchsorted(m.tensor([1, 3, 5, 7]), m.tensor([3, 6, 9]))),
    ("searchsorted_right", lambda m: m.searchsorted(m.tensor([1, 3, 5, 7]), m.tensor([3, 6]),
                                                    right=True)),
    ("searchsorted_nd", lambda m: m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]),
                                                 m.tensor([[3], [5]]), side="right",
                                                 out_int32=True)),
    ("searchsorted_sorter", lambda m: m.searchsorted(m.tensor([5, 1, 3]), m.tensor([2, 4]),
                                                     sorter=m.tensor([1, 2, 0]))),
    ("searchsorted_scalar", lambda m: m.searchsorted(m.tensor([1.0, 3.0]), 3)),
    ("bucketize", lambda m: m.bucketize(m.tensor([[3, 6], [9, 1]]), m.tensor([1, 3, 5, 7]))),
    ("bucketize_right", lambda m: m.bucketize(m.tensor([3, 5]), m.tensor([1, 3, 5, 7]),
                                              right=True, out_int32=True)),
    ("isin", lambda m: m.isin(m.tensor([1, 2, 3]), m.tensor([2, 5]))),
    ("isin_invert", lambda m: m.isin(m.tensor([1, 2, 3]), 2, invert=True)),
    ("argwhere", lambda m: m.argwhere(m.tensor([[0, 1], [1, 0]]))),
    ("unravel_index", lambda m: m.unravel_index(m.tensor([4, 1, 5]), (2, 3))),
    ("atleast", lambda m: m.atleast_1d(m.tensor(1.0)) + m.atleast_2d(m.tensor([1.0, 2.0])).sum()),
    ("atleast_3d", lambda m: [m.atleast_3d(t).shape for t in (m.tensor(1.0), m.ones(2),
                                                                m.ones(2, 3), m.ones(1, 2, 3))]),
    ("atleast_many", lambda m: m.atleast_2d(m.tensor(1.0), m.ones(3))),
    ("column_stack", lambda m: m.column_stack([m.tensor([1, 2]), m.ones(2, 2, dtype=m.int64)])),
    ("dstack", lambda m: m.dstack([m.tensor([1, 2]), m.tensor([3, 4])])),
    ("row_stack", lambda m: m.row_stack([m.tensor([1, 2]), m.tensor([3, 4])])),
    ("hsplit", lambda m: m.hsplit(m.arange(12).reshape(3, 4), [1, 3])),
    ("hsplit_1d", lambda m: m.arange(4).hsplit(2)),
    ("vsplit", lambda m: m.vsplit(m.arange(12).reshape(6, 2), 3)),
    ("dsplit", lambda m: m.dsplit(m.arange(16).reshape(2, 2, 4), [3])),
    ("meshgrid_ij", lambda m: m.meshgrid(m.tensor([1, 2]), m.tensor([3, 4, 5]), indexing="ij")),
    ("meshgrid_xy", lambda m: m.meshgrid([m.tensor([1, 2]), m.tensor([3, 4, 5]),
                                          m.tensor([6])], indexing="xy")),
    ("diff_bool", lambda m: m.diff(m.tensor([True, False, False]))),
    ("diff_int", lambda m: m.diff(m.tensor([1, 3, 6, 10]), n=2)),
    ("ravel", lambda m: m.ravel(m.arange(6).reshape(2, 3).T)),
    ("frexp", lambda m: m.frexp(m.tensor([8.0, 0.3, -5.0, 0.0]))),
]


@pytest.mark.parametrize("name,fn", NOGRAD, ids=[c[0] for c in NOGRAD])
def test_non_differentiable_match_torch(torch, name, fn):
    got, want = fn(cr), fn(torch)
    if name == "atleast_3d":
        assert [tuple(s) for s in got] == [tuple(s) for s in want]
        return
    _same(got, want)
    flat = list(got) if isinstance(got, (tuple, list)) else [got]
    while flat:
        t = flat.pop()
        if isinstance(t, (tuple, list)):
            flat.extend(t)
        else:
            assert not t.requires_grad


DIFF = [  # differentiable layout and indexing functions: fn(lib, x) with x = A (3, 4)
    ("take", lambda m, x: m.take(x, m.tensor([[0, 11], [5, 5]]))),
    ("take_neg", lambda m, x: x.take(m.tensor([-1, 2]))),
    ("put", lambda m, x: m.put(x, m.tensor([1, 5]), x[0, :2] * 3)),
    ("put_acc", lambda m, x: x.put(m.tensor([1, 1]), x[1, :2], accumulate=True)),
    ("rot90", lambda m, x: m.rot90(x) + m.rot90(x, 3).flip(0).flip(1)),
    ("rot90_2", lambda m, x: m.rot90(x, 2, [1, 0]) + x.rot90(-1, [1, 0]).T),
    ("diff", lambda m, x: m.diff(x) * 2 + m.diff(x, n=2, dim=0).sum()),
    ("diff_pre", lambda m, x: m.diff(x, dim=0, prepend=x[:1] * 2, append=x[-1:])),
    ("as_strided", lambda m, x: m.as_strided(x, (2, 2), (1, 2), 1) + x.as_strided((2, 2), (4, 1))),
    ("unfold", lambda m, x: x.unfold(1, 2, 1).sum(-1) + x.unfold(0, 2, 2).sum()),
    ("column_stack", lambda m, x: m.column_stack([x[0], x[1:3].T])),
    ("dstack", lambda m, x: m.dstack([x, x * 2])),
    ("meshgrid", lambda m, x: m.meshgrid(x[0], x[1, :2], indexing="xy")[0] * 2
     + m.meshgrid(x[0], x[1, :2], indexing="xy")[1]),
    ("sum_to_size", lambda m, x: x.sum_to_size(1, 4) + x.sum_to_size(3, 1).T.sum()),
    ("copies", lambda m, x: m.view_copy(x, (4, 3)) + m.permute_copy(x, (1, 0))
     + m.narrow_copy(x, 0, 0, 3).T + m.t_copy(x) + m.transpose_copy(x, 0, 1)),
    ("moveaxis", lambda m, x: m.moveaxis(x, 0, 1) + x.moveaxis(1, 0)),
    ("scatter_reduce_sum", lambda m, x: x.scatter_reduce(1, m.tensor([[0, 0, 1], [2, 2, 2],
                                                                     [3, 1, 1]]), x[:, 1:] * 2,
                                                         "sum", include_self=False)),
    ("scatter_reduce_mean", lambda m, x: m.scatter_reduce(x, 1, m.tensor(
        [[0, 0, 1], [2, 2, 2], [3, 1, 1]]), x[:, 1:] * 2, "mean")
     + x.scatter_reduce(0, m.tensor([[0, 0, 0, 2]]), x[1:2], "mean", include_self=False)),
    # (src never equal to self's value at its target: PyTorch's backward also counts self
    # among the ties when include_self=False)
    ("scatter_reduce_amax", lambda m, x: m.scatter_reduce(x, 1, m.tensor(
        [[0, 0, 1], [2, 2, 2], [3, 1, 1]]), x[:, 1:] * 2, "amax")
     + x.scatter_reduce(1, m.tensor([[0, 0, 1], [2, 2, 2], [3, 1, 1]]), x[:, :3] * 1.5 + 0.1,
                        "amin", include_self=False)),
    ("scatter_reduce_ties", lambda m, x: m.scatter_reduce(x.round(), 1, m.tensor(
        [[0, 0, 1], [2, 2, 2], [3, 1, 1]]), x[:, 1:].round(), "amax") * x),
    ("scatter_reduce_prod", lambda m, x: m.scatter_reduce(x, 0, m.tensor([[0, 1, 0, 2],
                                                                         [0, 1, 0, 0]]),
                                                          x[1:] * 2, "prod")
     + x.scatter_reduce(0, m.tensor([[2, 2, 1, 0]]), x[:1], "prod", include_self=False)),
    ("index_reduce", lambda m, x: x.index_reduce(0, m.tensor([0, 0, 2]), x * 2, "prod")
     + x.index_reduce(1, m.tensor([1, 1, 3, 0]), x, "mean", include_self=False)),
    ("index_reduce_max", lambda m, x: x.index_reduce(0, m.tensor([0, 0, 2]), x.flip(0), "amax")),
    ("index_put", lambda m, x: x.index_put((m.tensor([0, 2]), m.tensor([1, 1])), x[1, :2])),
    ("index_put_acc", lambda m, x: m.index_put(x, (m.tensor([0, 0]),), x[1] * 3,
                                               accumulate=True)),
    ("masked_scatter", lambda m, x: x.masked_scatter(x > 0, x.flip(0) * 3)),
    ("select_scatter", lambda m, x: m.select_scatter(x, x[0] * 2, 0, 2)
     + x.select_scatter(x[:, 0], 1, -1)),
    ("slice_scatter", lambda m, x: m.slice_scatter(x, x[:, :2] * 2, 1, 1, 4, 2)
     + x.slice_scatter(x[:2], start=1)),
    ("diagonal_scatter", lambda m, x: m.diagonal_scatter(x, x[0, :3] * 2, 1)
     + x.diagonal_scatter(x[1, :2], -1)),
]


@pytest.mark.parametrize("name,fn", DIFF, ids=[c[0] for c in DIFF])
def test_differentiable_match_torch(torch, name, fn):
    xc = cr.tensor(A, requires_grad=True)
    xt = torch.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # index_reduce is beta in torch
        oc, ot = fn(cr, xc), fn(torch, xt)
    _same(oc, ot)
    w = RNG.standard_normal(tuple(ot.shape))
    (oc * cr.tensor(w)).sum().backward()
    (ot * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_as_strided_scatter(torch):
    """Values as torch; the gradient by hand (PyTorch 2.13's gradient for the input is
    wrong here: it is nonzero only at the overwritten positions)."""
    f = lambda m, x: m.as_strided_scatter(x, x[0, :2] * 5, (2,), (3,), 1)  # noqa: E731
    x = cr.tensor(A, requires_grad=True)
    out = f(cr, x)
    _same(out, f(torch, torch.tensor(A)))
    w = np.arange(12.0).reshape(3, 4) + 1
    (out * cr.tensor(w)).sum().backward()
    want = w.copy()
    want.reshape(-1)[[1, 4]] = 0  # overwritten by src = 5 x[0, :2]
    want[0, 0] += 5 * w.reshape(-1)[1]
    want[0, 1] += 5 * w.reshape(-1)[4]
    np.testing.assert_allclose(x.grad.numpy(), want)


def test_inplace_writes_match_torch(torch):
    for lib in (cr, torch):
        x = lib.zeros(3, 3)
        x.fill_diagonal_(5.0)
        y = lib.zeros(5, 2).fill_diagonal_(1.0, wrap=True)
        z = lib.ones(4).scatter_reduce_(0, lib.tensor([0, 0, 3]), lib.tensor([2.0, 3, 4]),
                                        "prod")
        u = lib.zeros(4).masked_scatter_(lib.tensor([True, False, True, False]),
                                         lib.tensor([1.0, 2, 3]))
        v = lib.zeros(3).index_put_((lib.tensor([0, 0]),), lib.tensor([1.0, 2]), True)
        p = lib.zeros(4).put_(lib.tensor([3, 0]), lib.tensor([7.0, 8]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            q = lib.ones(3).index_reduce_(0, lib.tensor([0, 0]), lib.tensor([2.0, 5]), "amax")
        r = lib.ones(2, 3).tril_().triu_(-1)
        out = [t.tolist() for t in (x, y, z, u, v, p, q, r)]
        if lib is cr:
            ours = out
    assert ours == out


def test_inplace_writes_record_gradients(torch):
    for lib in (cr, torch):
        w = lib.tensor(A, requires_grad=True)
        h = w * 1.0
        h.index_put_((lib.tensor([2]), lib.tensor([3])), w[0, 0] * 4, accumulate=True)
        h.fill_diagonal_(0.5)
        h.scatter_reduce_(1, lib.tensor([[0, 0], [1, 1], [2, 3]]), w[:, :2] ** 2, "sum")
        (h * h).sum().backward()
        if lib is cr:
            g = w.grad.numpy()
    np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-12)


def test_errors():
    with pytest.raises(RuntimeError, match="1-d non-negative"):
        cr.bincount(cr.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="floating"):
        cr.histc(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="opposites"):
        cr.searchsorted(cr.tensor([1, 2]), cr.tensor([1]), right=True, side="left")
    with pytest.raises(IndexError, match="out of range"):
        cr.take(cr.ones(3), cr.tensor([3]))
    with pytest.raises(RuntimeError, match="not divisible"):
        cr.hsplit(cr.ones(2, 5), 2)
    with pytest.raises(RuntimeError, match="at least 2 dimension"):
        cr.vsplit(cr.ones(3), 3)
    with pytest.raises(RuntimeError, match="rotation dims"):
        cr.rot90(cr.ones(2, 2), 1, (0, 0))
    with pytest.raises(RuntimeError, match="reduce argument"):
        cr.ones(3).scatter_reduce(0, cr.tensor([0]), cr.ones(1), "max")
    with pytest.raises(RuntimeError, match="at least 3 elements"):
        cr.zeros(3).masked_scatter(cr.tensor([True, True, True]), cr.ones(2))
    with pytest.raises(RuntimeError, match="maximum size"):
        cr.ones(3).unfold(0, 4, 1)
    with pytest.warns(UserWarning, match="indexing argument"):
        cr.meshgrid(cr.ones(2), cr.ones(3))
