"""PyTorch's top-level nn functions (``torch.conv2d``, ``torch.dropout(input, p, train)``,
``torch.kl_div(..., reduction=1)``, ...): each deterministic one is called positionally and
with every argument by keyword, and its values, gradients and in-place updates are compared
with PyTorch's on the same float64 inputs; the random ones are checked by their statistics
and the consistency of their masks."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import chainrule as cr

_R = np.random.default_rng(0)


def rnd(*shape, pos=False):
    a = _R.standard_normal(shape)
    return np.abs(a) + 0.2 if pos else a


def ints(values):
    return np.asarray(values, np.int64)


def logp(*shape):
    a = _R.standard_normal(shape)
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


X34, Y34 = rnd(3, 4), rnd(3, 4)
X237, X1255 = rnd(2, 3, 7), rnd(1, 2, 5, 5)
W6 = rnd(6, 3)
GRID = _R.uniform(-1.2, 1.2, (1, 3, 3, 2))

# name -> (torch's positional parameter names, [cases]); a case builds the arguments from a
# tensor maker T (T(array, grad) makes a leaf) as one positional list, plus keyword-only ones
NAMES: dict[str, tuple] = {}
CASES = []


def case(name, names, make, kwonly=None, grad_outputs=None, inplace=False):
    if len(names) > len(NAMES.get(name, ())):
        NAMES[name] = tuple(names)
    CASES.append(pytest.param(name, tuple(names), make, kwonly or {}, grad_outputs, inplace,
                              id=f"{name}-{sum(c.values[0] == name for c in CASES)}"))


# activations
case("celu", ["input", "alpha"], lambda T: [T(X34), 0.7])
case("celu_", ["input", "alpha"], lambda T: [T(X34) * 1, 0.7], inplace=True)
case("selu", ["input"], lambda T: [T(X34)])
case("selu_", ["input"], lambda T: [T(X34) * 1], inplace=True)
case("threshold", ["input", "threshold", "value"], lambda T: [T(X34), 0.1, -2.0])
case("threshold_", ["input", "threshold", "value"], lambda T: [T(X34) * 1, 0.1, -2.0],
     inplace=True)
case("hardshrink", ["input", "lambd"], lambda T: [T(X34), 0.4])
case("prelu", ["input", "weight"], lambda T: [T(X237), T(rnd(3))])
case("rrelu", ["input", "lower", "upper", "training", "generator"], lambda T: [T(X34), 0.1, 0.3, False])
case("rrelu_", ["input", "lower", "upper", "training", "generator"],
     lambda T: [T(X34) * 1, 0.1, 0.3, False], inplace=True)
# dropouts out of training (the identity) and with p = 0
for _n in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
    case(_n, ["input", "p", "train"], lambda T: [T(X237), 0.3, False])
    case(_n, ["input", "p", "train"], lambda T: [T(X237), 0.0, True])
    case(_n + "_", ["input", "p", "train"], lambda T: [T(X237) * 1, 0.3, False], inplace=True)
# convolution
_CONV = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]
_CONVT = ["input", "weight", "bias", "stride", "padding", "output_padding", "groups",
          "dilation"]
case("conv1d", _CONV, lambda T: [T(X237), T(rnd(4, 3, 3)), T(rnd(4)), 2, 1, 2, 1])
case("conv2d", _CONV, lambda T: [T(X1255), T(rnd(4, 1, 3, 3)), T(rnd(4)), 1, "same", 1, 2])
case("conv3d", _CONV, lambda T: [T(rnd(1, 2, 4, 4, 4)), T(rnd(3, 2, 2, 2, 2)), None, 1, 0,
                                 1, 1])
case("conv_transpose1d", _CONVT, lambda T: [T(X237), T(rnd(3, 2, 3)), T(rnd(2)), 2, 1, 1,
                                            1, 1])
case("conv_transpose2d", _CONVT, lambda T: [T(X1255), T(rnd(2, 2, 3, 3)), None, 2, 1, 1, 2,
                                            1])
case("conv_transpose3d", _CONVT, lambda T: [T(rnd(1, 2, 3, 3, 3)), T(rnd(2, 1, 2, 2, 2)),
                                            T(rnd(1)), 1, 0, 0, 1, 1])
case("conv_tbc", ["input", "weight", "bias", "pad"],
     lambda T: [T(rnd(7, 2, 3)), T(rnd(3, 3, 4)), T(rnd(4)), 1])
_CONVG = ["input", "weight", "bias", "stride", "padding", "dilation", "transposed",
          "output_padding", "groups"]
case("convolution", _CONVG, lambda T: [T(X1255), T(rnd(3, 2, 2, 2)), T(rnd(3)), [1, 2],
                                       [1], [1], False, [0], 1])
case("convolution", _CONVG, lambda T: [T(X237), T(rnd(3, 2, 3)), None, [2], [1], [1], True,
                                       [1], 1])
case("constant_pad_nd", ["input", "pad", "value"], lambda T: [T(X237), [1, -1, 2, 0], 1.5])
# pooling
_POOL = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"]
case("adaptive_avg_pool1d", ["input", "output_size"], lambda T: [T(X237), 3])
case("adaptive_max_pool1d", ["input", "output_size"], lambda T: [T(X237), 3])
case("avg_pool1d", ["input", "kernel_size", "stride", "padding", "ceil_mode",
                    "count_include_pad"], lambda T: [T(X237), 3, 2, 1, True, False])
case("max_pool1d", _POOL, lambda T: [T(X237), 3, 2, 1, 1, False])
case("max_pool1d_with_indices", _POOL, lambda T: [T(X237), 2, [], 0, 2, True])
case("max_pool2d", _POOL, lambda T: [T(X1255), 2, [], 0, 1, True])
case("max_pool3d", _POOL, lambda T: [T(rnd(1, 1, 4, 4, 4)), 2, 1, 1, 1, False])
# normalization (the running statistics are compared after the call too)
_BN = ["input", "weight", "bias", "running_mean", "running_var", "training", "momentum",
       "eps", "cudnn_enabled"]
_X435, _RM, _RV = rnd(4, 3, 5), rnd(3), rnd(3, pos=True)
case("batch_norm", _BN, lambda T: [T(_X435), T(rnd(3)), T(rnd(3)), T(_RM, False),
                                   T(_RV, False), True, 0.2, 1e-5, False])
case("batch_norm", _BN, lambda T: [T(_X435), None, T(rnd(3)), T(_RM, False), T(_RV, False),
                                   False, 0.1, 1e-3, True])
case("instance_norm", ["input", "weight", "bias", "running_mean", "running_var",
                       "use_input_stats", "momentum", "eps", "cudnn_enabled"],
     lambda T: [T(_X435), T(rnd(3)), T(rnd(3)), T(_RM, False), T(_RV, False), True, 0.1,
                1e-5, False])
case("layer_norm", ["input", "normalized_shape", "weight", "bias", "eps", "cudnn_enable"],
     lambda T: [T(_X435), [3, 5], T(rnd(3, 5)), T(rnd(3, 5)), 1e-4, True])
case("group_norm", ["input", "num_groups", "weight", "bias", "eps", "cudnn_enabled"],
     lambda T: [T(rnd(2, 6, 5)), 3, T(rnd(6)), T(rnd(6)), 1e-5, True])
case("rms_norm", ["input", "normalized_shape", "weight", "eps"],
     lambda T: [T(_X435), [5], T(rnd(5)), 1e-6])
case("native_layer_norm", ["input", "normalized_shape", "weight", "bias", "eps"],
     lambda T: [T(_X435), [5], T(rnd(5)), None, 1e-5])
_NBN = _BN[:-1]
case("native_batch_norm", _NBN, lambda T: [T(_X435), T(rnd(3)), T(rnd(3)), T(_RM, False),
                                           T(_RV, False), True, 0.1, 1e-5])
case("native_batch_norm", _NBN, lambda T: [T(_X435), T(rnd(3)), None, T(_RM, False),
                                           T(_RV, False), False, 0.1, 1e-5])
case("native_batch_norm", _NBN, lambda T: [T(_X435), None, None, None, None, True, 0.1,
                                           1e-5])
case("native_group_norm", ["input", "weight", "bias", "N", "C", "HxW", "group", "eps"],
     lambda T: [T(rnd(2, 6, 5)), T(rnd(6)), T(rnd(6)), 2, 6, 5, 3, 1e-5], grad_outputs=(0,))
# layers
case("bilinear", ["input1", "input2", "weight", "bias"],
     lambda T: [T(X34), T(rnd(3, 5)), T(rnd(2, 4, 5)), T(rnd(2))])
case("cosine_similarity", ["x1", "x2", "dim", "eps"], lambda T: [T(X34), T(Y34), 0, 1e-8])
case("pairwise_distance", ["x1", "x2", "p", "eps", "keepdim"],
     lambda T: [T(X34), T(Y34), 3.0, 1e-6, True])
case("pdist", ["input", "p"], lambda T: [T(X34), 1.5])
case("pixel_shuffle", ["input", "upscale_factor"], lambda T: [T(rnd(1, 8, 2, 3)), 2])
case("pixel_unshuffle", ["input", "downscale_factor"], lambda T: [T(rnd(1, 2, 4, 6)), 2])
case("channel_shuffle", ["input", "groups"], lambda T: [T(rnd(1, 6, 2, 2)), 3])
case("native_channel_shuffle", ["input", "groups"],  # PyTorch has no derivative for it
     lambda T: [T(rnd(1, 6, 2, 2), False), 2])
_EMB = ["weight", "indices", "padding_idx", "scale_grad_by_freq", "sparse"]
case("embedding", _EMB, lambda T: [T(W6), T(ints([0, 2, 5, 2]), False), 2, True, False])
case("embedding", _EMB, lambda T: [T(W6), T(ints([[0, 2], [5, 2]]), False), -1, False,
                                   False])
_BAG = ["weight", "indices", "offsets", "scale_grad_by_freq", "mode", "sparse",
        "per_sample_weights", "include_last_offset", "padding_idx"]
_IDX, _OFF = ints([0, 1, 5, 1, 2, 4]), ints([0, 2, 2, 3])
for _mode in (0, 1, 2):
    case("embedding_bag", _BAG, lambda T, m=_mode: [T(W6), T(_IDX, False), T(_OFF, False),
                                                    False, m, False, None, False, None])
    case("embedding_bag", _BAG, lambda T, m=_mode: [T(W6), T(_IDX, False), T(_OFF, False),
                                                    False, m, False, None, True, 1])
case("embedding_bag", _BAG, lambda T: [T(W6), T(_IDX, False), T(_OFF, False), False, 0,
                                       False, T(rnd(6)), False, None])
# losses: reduction is ATen's integer (0 none, 1 mean, 2 sum)
_T01 = _R.uniform(0, 1, (3, 4))
case("binary_cross_entropy_with_logits", ["input", "target", "weight", "pos_weight",
                                          "reduction"],
     lambda T: [T(X34), T(_T01), T(rnd(4), False), T(rnd(4, pos=True), False), 0])
case("binary_cross_entropy_with_logits", ["input", "target", "weight", "pos_weight",
                                          "reduction"],
     lambda T: [T(X34), T(_T01, False), None, None, 1])
_PM = ints([1, -1, 1]).astype(float)
case("cosine_embedding_loss", ["input1", "input2", "target", "margin", "reduction"],
     lambda T: [T(X34), T(Y34), T(_PM, False), 0.2, 2])
case("hinge_embedding_loss", ["input", "target", "margin", "reduction"],
     lambda T: [T(X34), T(np.sign(Y34), False), 0.5, 1])
case("kl_div", ["input", "target", "reduction"], lambda T: [T(logp(3, 4)), T(_T01), 1])
case("kl_div", ["input", "target", "reduction"], lambda T: [T(logp(3, 4)), T(logp(3, 4)), 0],
     kwonly={"log_target": True})
case("margin_ranking_loss", ["input1", "input2", "target", "margin", "reduction"],
     lambda T: [T(X34[0]), T(Y34[0]), T(np.sign(X34[1]), False), 0.1, 0])
case("poisson_nll_loss", ["input", "target", "log_input", "full", "eps", "reduction"],
     lambda T: [T(X34), T(rnd(3, 4, pos=True) * 3, False), True, True, 1e-8, 1])
case("poisson_nll_loss", ["input", "target", "log_input", "full", "eps", "reduction"],
     lambda T: [T(rnd(3, 4, pos=True)), T(rnd(3, 4, pos=True)), False, False, 1e-6, 2])
case("triplet_margin_loss", ["anchor", "positive", "negative", "margin", "p", "eps", "swap",
                             "reduction"],
     lambda T: [T(X34), T(Y34), T(rnd(3, 4)), 0.5, 1.5, 1e-6, True, 0])
_CTC = ["log_probs", "targets", "input_lengths", "target_lengths", "blank", "reduction",
        "zero_infinity"]
_LP = rnd(6, 2, 4)  # PyTorch's ctc gradient holds for log_softmax'd inputs
case("ctc_loss", _CTC, lambda T: [T(_LP).log_softmax(2), T(ints([[1, 2, 2], [3, 1, 0]]), False), [6, 5],
                                  [3, 2], 0, 1, False])
case("ctc_loss", _CTC, lambda T: [T(_LP).log_softmax(2), T(ints([[1, 2, 2], [3, 1, 0]]), False),
                                  T(ints([6, 4]), False), T(ints([3, 2]), False), 0, 0, True])
# spatial transformers, recurrent cells, legacy norms
_GS = ["input", "grid", "interpolation_mode", "padding_mode", "align_corners"]
case("grid_sampler", _GS, lambda T: [T(rnd(1, 2, 4, 5)), T(GRID), 0, 0, False])
case("grid_sampler", _GS, lambda T: [T(rnd(1, 2, 4, 5)), T(GRID), 2, 2, True])
case("grid_sampler_2d", _GS, lambda T: [T(rnd(1, 2, 4, 5)), T(GRID), 0, 1, True])
case("affine_grid_generator", ["theta", "size", "align_corners"],
     lambda T: [T(rnd(2, 2, 3)), [2, 1, 3, 4], False])
_CELL = ["input", "hx", "w_ih", "w_hh", "b_ih", "b_hh"]
_XC, _HC = rnd(3, 4), rnd(3, 5)
case("rnn_tanh_cell", _CELL, lambda T: [T(_XC), T(_HC), T(rnd(5, 4)), T(rnd(5, 5)),
                                        T(rnd(5)), T(rnd(5))])
case("rnn_relu_cell", _CELL, lambda T: [T(_XC), T(_HC), T(rnd(5, 4)), T(rnd(5, 5)), None,
                                        None])
case("lstm_cell", _CELL, lambda T: [T(_XC), [T(_HC), T(rnd(3, 5))], T(rnd(20, 4)),
                                    T(rnd(20, 5)), T(rnd(20)), T(rnd(20))])
case("gru_cell", _CELL, lambda T: [T(_XC), T(_HC), T(rnd(15, 4)), T(rnd(15, 5)), T(rnd(15)),
                                   T(rnd(15))])
case("frobenius_norm", ["input", "dim", "keepdim"], lambda T: [T(X34), [0, 1], False])
case("frobenius_norm", ["input", "dim", "keepdim"], lambda T: [T(X34), 1, True])
case("nuclear_norm", ["input", "keepdim"], lambda T: [T(X34), True])
case("nuclear_norm", ["input", "dim", "keepdim"], lambda T: [T(rnd(2, 3, 4)), [0, 2], True])


_START = _R.bit_generator.state

# PyTorch's celu backward rounds its exp(x / alpha) coefficient (1e-8 relative in float64)
_GRAD_RTOL = {"celu": 1e-7, "celu_": 1e-7}


def _maker(lib, leaves):
    def T(arr, grad=True):  # noqa: N802
        t = lib.tensor(arr, requires_grad=grad and arr.dtype.kind == "f")
        leaves.append(t)
        return t

    return T


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _call(lib, name, names, make, kwonly, by_keyword):
    _R.bit_generator.state = _START  # the arrays a case draws are the same for both libraries
    leaves = []
    args = make(_maker(lib, leaves))
    fn = getattr(lib, name)
    if by_keyword:
        return fn(**dict(zip(names, args)), **kwonly), args, leaves
    return fn(*args, **kwonly), args, leaves


@pytest.mark.parametrize("by_keyword", [False, True], ids=["positional", "keywords"])
@pytest.mark.parametrize("name,names,make,kwonly,grad_outputs,inplace", CASES)
def test_matches_torch(torch, name, names, make, kwonly, grad_outputs, inplace, by_keyword):
    torch.set_default_dtype(torch.float64)
    try:
        t_out, t_args, t_leaves = _call(torch, name, names, make, kwonly, by_keyword)
    finally:
        torch.set_default_dtype(torch.float32)
    c_out, c_args, c_leaves = _call(cr, name, names, make, kwonly, by_keyword)
    assert type(c_out) is type(t_out) or not isinstance(t_out, tuple)
    c_flat, t_flat = _flat(c_out), _flat(t_out)
    assert len(c_flat) == len(t_flat)
    for c, t in zip(c_flat, t_flat):
        assert tuple(c.shape) == tuple(t.shape)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-10)
    if inplace:
        assert c_out is c_args[0]
    rng = np.random.default_rng(1)
    pick = range(len(t_flat)) if grad_outputs is None else grad_outputs
    loss_c = loss_t = 0
    for i in pick:
        if t_flat[i].requires_grad:
            w = rng.standard_normal(tuple(t_flat[i].shape))
            loss_c = loss_c + (c_flat[i] * cr.tensor(w)).sum()
            loss_t = loss_t + (t_flat[i] * torch.tensor(w)).sum()
    if not isinstance(loss_t, int):
        loss_c.backward()
        loss_t.backward()
    for c, t in zip(c_leaves, t_leaves):  # gradients, and in-place updates of the others
        if t.grad is not None:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), atol=1e-10,
                                       rtol=_GRAD_RTOL.get(name, 1e-9))
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


_OTHERS = {  # the names without a value case above
    "svd_lowrank": ("A", "q", "niter", "M"), "pca_lowrank": ("A", "q", "center", "niter"),
    "native_dropout": ("input", "p", "train"),
    "get_autocast_dtype": ("device_type",), "set_autocast_dtype": ("device_type", "dtype"),
    "get_autocast_cpu_dtype": (), "set_autocast_cpu_dtype": ("dtype",),
    "is_autocast_cache_enabled": (), "set_autocast_cache_enabled": ("enabled",),
    "clear_autocast_cache": (),
    "autocast_increment_nesting": (), "autocast_decrement_nesting": (),
}


def _torch_names(torch, name):
    """The positional parameter names of each overload PyTorch reports for ``name``."""
    fn = getattr(torch, name)
    try:
        return [tuple(inspect.signature(fn).parameters)]
    except (TypeError, ValueError):
        pass
    try:
        fn(__no_such_argument__=1)
    except TypeError as e:
        msg = str(e)
    if "takes no keyword arguments" in msg:
        return [()]
    if "missing" in msg:
        return [tuple(re.findall(r'"(\w+)"', msg))]
    return [tuple(p.split("=")[0].split()[-1] for p in sig.split(", ") if p.strip())
            for sig in re.findall(r"\* \(([^)]*)\)", msg)]


def test_every_name_has_torchs_positional_parameters(torch):
    """Each function exists with PyTorch's positional parameter names: the table above equals
    PyTorch's (its signature, or the names its argument parser reports: required ones, and
    every one for overloaded functions) and chainrule's signature."""
    table = dict(NAMES, **_OTHERS)
    assert len(table) > 75
    for name, names in table.items():
        ours = tuple(p.name for p in inspect.signature(getattr(cr, name)).parameters.values()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY))
        overloads = _torch_names(torch, name)
        assert any(names[:len(o)] == o for o in overloads), (name, names, overloads)
        if name == "nuclear_norm":  # two overloads, (input, keepdim) and (input, dim, keepdim)
            assert ours == ("input", "dim", "keepdim")
        else:
            assert ours == names, (name, ours, names)


def test_random_functions_statistics_and_masks():
    """dropout / feature_dropout / alpha_dropout / native_dropout / rrelu in training: the
    kept fraction, the scaling, one draw per channel, gradients following the mask."""
    cr.manual_seed(0)
    x = cr.ones(40, 50, 4, dtype=cr.float64, requires_grad=True)
    y = cr.dropout(x, 0.3, True)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7])
    assert abs((y.detach().numpy() == 0).mean() - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    f = cr.feature_dropout(x, 0.5, True).detach().numpy()
    assert (f == f[:, :, :1]).all() and abs((f[:, :, 0] == 0).mean() - 0.5) < 0.05
    z = cr.randn(200, 100, dtype=cr.float64)
    a = cr.alpha_dropout(z, 0.2, True).numpy()
    assert abs(a.mean()) < 0.05 and abs(a.std() - 1) < 0.05
    fa = cr.feature_alpha_dropout(cr.randn(50, 40, 6), 0.5, True).numpy()
    assert fa.shape == (50, 40, 6)
    out, mask = cr.native_dropout(x, 0.25, True)
    assert mask.dtype == cr.bool and abs(mask.float().mean().item() - 0.75) < 0.02
    np.testing.assert_allclose(out.detach().numpy(), mask.numpy() / 0.75)
    out, mask = cr.native_dropout(x, 0.25, False)
    assert mask.numpy().all() and out is not x and out.requires_grad
    t = cr.ones(5)
    assert cr.dropout_(t, 1.0, True) is t and (t.numpy() == 0).all()
    neg = -cr.rand(1000, dtype=cr.float64) - 0.1
    neg.requires_grad_()
    r = cr.rrelu(neg, 0.1, 0.3, True)
    slope = r.detach().numpy() / neg.detach().numpy()
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.05
    r.sum().backward()
    np.testing.assert_allclose(neg.grad.numpy(), slope)
    g1, g2 = cr.Generator().manual_seed(3), cr.Generator().manual_seed(3)
    np.testing.assert_array_equal(cr.rrelu(neg, training=True, generator=g1).detach().numpy(),
                                  cr.rrelu(neg, training=True, generator=g2).detach().numpy())


def test_svd_and_pca_lowrank(torch):
    """Exact on a rank-4 matrix: reconstruction, singular values and the principal subspace
    equal PyTorch's (the random probes differ, so signs and bases are not compared)."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 12))
    for arr in (a, a.T):
        u, s, v = cr.svd_lowrank(cr.tensor(arr), q=6)
        rec = u.numpy() @ np.diag(s.numpy()) @ v.numpy().T
        np.testing.assert_allclose(rec, arr, atol=1e-9)
        ts = torch.svd_lowrank(torch.tensor(arr), q=6)[1].numpy()
        np.testing.assert_allclose(s.numpy()[:4], ts[:4], rtol=1e-9)
    m = rng.standard_normal((1, 12))
    u, s, v = cr.svd_lowrank(cr.tensor(a + m), 4, 2, cr.tensor(m))
    np.testing.assert_allclose(u.numpy() @ np.diag(s.numpy()) @ v.numpy().T, a, atol=1e-9)
    u, s, v = cr.pca_lowrank(cr.tensor(a), q=4)
    tu, ts, tv = torch.pca_lowrank(torch.tensor(a), q=4)
    np.testing.assert_allclose(s.numpy(), ts.numpy(), rtol=1e-9)
    np.testing.assert_allclose(v.numpy() @ v.numpy().T, tv.numpy() @ tv.numpy().T, atol=1e-9)
    assert cr.pca_lowrank(cr.tensor(a))[0].shape == (30, 6)
    with pytest.raises(ValueError, match="q"):
        cr.pca_lowrank(cr.tensor(a), q=13)


def test_autocast_switches_follow_torch(torch):
    name = lambda d: str(d).split(".")[-1]  # noqa: E731
    for dev in ("cpu", "cuda", "xla", "mps"):
        assert name(cr.get_autocast_dtype(dev)) == name(torch.get_autocast_dtype(dev))
    assert cr.is_autocast_cache_enabled() is torch.is_autocast_cache_enabled() is True
    with pytest.raises(RuntimeError, match="device type"):
        cr.get_autocast_dtype("foo")
    with cr.autocast("cpu", dtype=cr.float16):
        assert cr.get_autocast_dtype("cpu") == cr.float16
        assert cr.autocast_increment_nesting() == 2 and cr.autocast_decrement_nesting() == 1
    assert cr.get_autocast_dtype("cpu") == cr.bfloat16
    cr.set_autocast_dtype("cpu", cr.float64)
    with pytest.warns(DeprecationWarning):
        assert cr.get_autocast_cpu_dtype() == cr.float64
    cr.set_autocast_dtype("cpu", cr.bfloat16)
    cr.set_autocast_cache_enabled(False)
    assert not cr.is_autocast_cache_enabled()
    cr.set_autocast_cache_enabled(True)
    cr.clear_autocast_cache()
    cr.set_autocast_cpu_enabled(False)
    with pytest.raises(RuntimeError, match="no autocast"):
        cr.set_autocast_cpu_enabled(True)


def test_cpu_module_and_gradscaler(torch):
    ours = {n for n in dir(torch.cpu) if not n.startswith("_") and getattr(getattr(torch.cpu, n), "__module__", "")
            == "torch.cpu"}
    assert ours <= set(dir(cr.cpu)), ours - set(dir(cr.cpu))
    for f in ("is_available", "device_count", "current_device", "is_initialized"):
        assert getattr(cr.cpu, f)() == getattr(torch.cpu, f)()
    s = cr.cpu.Stream()
    with cr.cpu.stream(s):
        assert cr.cpu.current_stream() is s
    assert cr.cpu.current_stream() is not s
    cr.cpu.synchronize()
    assert cr.cpu.Event().query() and "architecture" in cr.cpu.get_capabilities()
    from chainrule.cpu.amp import GradScaler  # noqa: F401  (torch.cpu.amp)
    assert cr.GradScaler is cr.amp.GradScaler


def test_tensor_methods_hardshrink_prelu_resize(torch):
    x = np.array([[0.5, -0.6, 0.2], [1.5, -0.1, -2.0]])
    for lib in (cr, torch):
        t = lib.tensor(x, requires_grad=True)
        y = t.hardshrink(0.4) + t.prelu(lib.tensor([0.25], dtype=lib.float64))
        y.sum().backward()
        if lib is cr:
            ours = y.detach().numpy(), t.grad.numpy()
    np.testing.assert_allclose(ours[0], y.detach().numpy())
    np.testing.assert_allclose(ours[1], t.grad.numpy())

    def resizes(lib):
        a = lib.arange(6.0).reshape(2, 3)
        out = [a.resize_(2).clone()]
        b = lib.arange(6.0).reshape(2, 3).t()
        out += [b.resize_(3, 2).clone(), b.resize_(2, 2).clone()]
        c = lib.arange(4.0)
        v = c[:2]
        v.resize_(3)
        v[2] = 100
        out += [c, v.resize_as_(lib.zeros(1, 3)).clone(), lib.arange(4.0).resize_(2, 2)]
        return [o.numpy() for o in out]

    for o, t in zip(resizes(cr), resizes(torch)):
        np.testing.assert_array_equal(o, t)
    assert cr.arange(4.0).resize_(6).shape == (6,)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        cr.ones(3, requires_grad=True).resize_(2)
