"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention
against PyTorch: outputs, returned weights and the gradients of every input and parameter,
in float64 (to 1e-10) and float32 (torch.testing's default tolerances), for every option;
plus dropout statistics, fully masked rows, errors, initialisation and state dicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

TOL64 = dict(rtol=1e-10, atol=1e-10)
TOL32 = dict(rtol=1.3e-6, atol=1e-5)  # torch.testing.assert_close's float32 defaults


def _np(t):
    return None if t is None else t.detach().numpy()


def _close(a, b, tol, what=""):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    np.testing.assert_allclose(_np(a), _np(b), err_msg=what, **tol)


def _inputs(torch, arrays, grad):
    """(torch tensors, chainrule tensors) of the arrays; float ones require grad if asked."""
    ts, cs = [], []
    for a in arrays:
        if a is None or not isinstance(a, np.ndarray):
            ts.append(a)
            cs.append(a)
            continue
        rg = grad and a.dtype.kind == "f"
        ts.append(torch.tensor(a, requires_grad=rg))
        cs.append(cr.tensor(a, requires_grad=rg))
    return ts, cs


def _backward_both(t_out, c_out, seed=1):
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(_np(t_out).dtype)
    import torch

    t_out.backward(torch.tensor(g))
    c_out.backward(cr.tensor(g))


def _check_sdpa(torch, arrays, kw, tol=TOL64):
    ts, cs = _inputs(torch, arrays, True)
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ckw = {k: (cr.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    t_out = torch.nn.functional.scaled_dot_product_attention(*ts, **tkw)
    c_out = F.scaled_dot_product_attention(*cs, **ckw)
    assert tuple(c_out.shape) == tuple(t_out.shape) and c_out.dtype.itemsize == \
        t_out.dtype.itemsize
    _close(t_out, c_out, tol, "output")
    _backward_both(t_out, c_out)
    for name, t, c in zip("qkv", ts, cs):
        assert np.all(np.isfinite(_np(c.grad))), name
        _close(t.grad, c.grad, tol, f"grad of {name}")
    return c_out


def _qkv(lead, L, S, E, Ev=None, dtype=np.float64, hk=None):
    rng = np.random.default_rng(0)
    klead = lead if hk is None else lead[:-1] + (hk,)
    return (rng.standard_normal((*lead, L, E)).astype(dtype),
            rng.standard_normal((*klead, S, E)).astype(dtype),
            rng.standard_normal((*klead, S, Ev or E)).astype(dtype))


SDPA_CASES = {
    "plain 4-D": ((2, 3), 4, 6, 8, None, {}),
    "Ev differs": ((2, 3), 4, 6, 8, 5, {}),
    "2-D": ((), 4, 6, 8, None, {}),
    "3-D": ((2,), 4, 6, 8, None, {}),
    "5-D": ((2, 2, 2), 3, 4, 4, None, {}),
    "scale": ((2, 3), 4, 6, 8, None, {"scale": 0.3}),
    "causal L<S": ((2, 3), 4, 6, 8, None, {"is_causal": True}),
    "causal L>S": ((2, 3), 7, 4, 8, None, {"is_causal": True}),
    "causal square 3-D": ((2,), 5, 5, 8, None, {"is_causal": True}),
    "dropout 0 exact": ((2, 3), 4, 6, 8, None, {"dropout_p": 0.0}),
}


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(torch, case):
    lead, L, S, E, Ev, kw = SDPA_CASES[case]
    _check_sdpa(torch, _qkv(lead, L, S, E, Ev), kw)


@pytest.mark.parametrize("mask_shape", [(4, 6), (1, 4, 6), (3, 1, 6), (2, 3, 4, 6), (2, 1, 4, 6),
                                        (1, 6), (6,)])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_masks_broadcast(torch, mask_shape, kind):
    rng = np.random.default_rng(3)
    if kind == "bool":
        mask = rng.random(mask_shape) > 0.3
    else:
        mask = rng.standard_normal(mask_shape)
        mask[rng.random(mask_shape) > 0.7] = -np.inf
    lead = (3,) if len(mask_shape) == 1 else (2, 3)  # torch's 4-D kernel refuses 1-D masks
    _check_sdpa(torch, _qkv(lead, 4, 6, 8), {"attn_mask": mask})


def test_sdpa_float_mask_gets_a_gradient(torch):
    """A float mask that requires grad (a learned relative-position bias) gets torch's grad."""
    q, k, v = _qkv((2, 3), 4, 6, 8)
    bias = np.random.default_rng(5).standard_normal((3, 4, 6))
    ts, cs = _inputs(torch, [q, k, v, bias], True)
    t_out = torch.nn.functional.scaled_dot_product_attention(*ts[:3], attn_mask=ts[3])
    c_out = F.scaled_dot_product_attention(*cs[:3], attn_mask=cs[3])
    _backward_both(t_out, c_out)
    _close(ts[3].grad, cs[3].grad, TOL64, "mask grad")


@pytest.mark.parametrize("kind", ["bool", "float", "causal+bool"])
def test_sdpa_fully_masked_rows_are_zero_with_zero_gradients(torch, kind):
    q, k, v = _qkv((2, 3), 4, 6, 8)
    mask = np.ones((4, 6), bool)
    mask[1] = False
    kw = {"attn_mask": mask}
    if kind == "float":
        kw = {"attn_mask": np.where(mask, 0.0, -np.inf)}
    elif kind == "causal+bool":
        mask[0, 0] = False  # row 0 of the causal mask allows only key 0
        kw = {"attn_mask": mask, "is_causal": True}
    out = _check_sdpa(torch, (q, k, v), kw)
    assert np.all(_np(out)[:, :, 1] == 0.0)


def test_sdpa_mask_with_causal_follows_torch(torch):
    """torch 2.13 (CPU) applies both for 4-D inputs without dropout and raises otherwise."""
    q, k, v = _qkv((2, 3), 5, 5, 8)
    mask = np.random.default_rng(2).random((5, 5)) > 0.2
    _check_sdpa(torch, (q, k, v), {"attn_mask": mask, "is_causal": True})
    fmask = np.random.default_rng(2).standard_normal((2, 1, 5, 5))
    _check_sdpa(torch, (q, k, v), {"attn_mask": fmask, "is_causal": True})
    for args, kw in [((q[0], k[0], v[0]), {}), ((q, k, v), {"dropout_p": 0.5}),
                     ((q, k, v[..., :4]), {})]:
        ts, cs = _inputs(torch, args, False)
        with pytest.raises(RuntimeError, match="attn_mask should not be set"):
            torch.nn.functional.scaled_dot_product_attention(
                *ts, attn_mask=torch.tensor(mask), is_causal=True, **kw)
        with pytest.raises(RuntimeError, match="attn_mask should not be set"):
            F.scaled_dot_product_attention(*cs, attn_mask=cr.tensor(mask), is_causal=True, **kw)


@pytest.mark.parametrize("lead,hk", [((2, 6), 2), ((6,), 3), ((1, 4), 1)])
def test_sdpa_grouped_query_attention(torch, lead, hk):
    _check_sdpa(torch, _qkv(lead, 4, 5, 8, hk=hk), {"enable_gqa": True})


def test_sdpa_batch_dims_broadcast(torch):
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 3, 4, 8))
    k, v = rng.standard_normal((1, 3, 6, 8)), rng.standard_normal((3, 6, 8))
    _check_sdpa(torch, (q, k, v), {})


def test_sdpa_float32_within_torch_tolerance(torch):
    q, k, v = _qkv((2, 4), 16, 20, 32, dtype=np.float32)
    mask = np.random.default_rng(1).random((16, 20)) > 0.2
    out = _check_sdpa(torch, (q, k, v), {"attn_mask": mask}, TOL32)
    assert out.dtype == cr.float32
    _check_sdpa(torch, (q, k, v), {"is_causal": True}, TOL32)


def test_sdpa_dropout_keeps_the_mean_and_drops_p():
    """With value = I, the output rows are the (dropped) attention weights themselves."""
    S, p = 40, 0.3
    q = cr.randn(8, 64, 16, dtype=cr.float64)
    k = cr.randn(8, S, 16, dtype=cr.float64)
    v = cr.tensor(np.broadcast_to(np.eye(S), (8, S, S)).copy())
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    cr.manual_seed(1)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy()
    zero = dropped == 0
    assert abs(zero.mean() - p) < 0.02
    np.testing.assert_allclose(dropped[~zero], plain[~zero] / (1 - p), rtol=1e-12)
    row_sums = dropped.sum(-1)  # E = 1, std ~ sqrt(p / (1-p) / S) per row
    assert abs(row_sums.mean() - 1.0) < 0.02
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy()
    assert np.array_equal(again, plain)  # dropout_p = 0 is exact


def test_sdpa_double_backward_matches_torch(torch):
    q, k, v = _qkv((2,), 3, 4, 5)
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 0]], bool)
    ts, cs = _inputs(torch, (q, k, v), True)
    tg = torch.autograd.grad(torch.nn.functional.scaled_dot_product_attention(
        *ts, attn_mask=torch.tensor(mask)).pow(2).sum(), ts, create_graph=True)
    cg = cr.autograd.grad(F.scaled_dot_product_attention(
        *cs, attn_mask=cr.tensor(mask)).pow(2).sum(), cs, create_graph=True)
    tgg = torch.autograd.grad(sum((g * g).sum() for g in tg), ts)
    cgg = cr.autograd.grad(sum((g * g).sum() for g in cg), cs)
    for a, b in zip(tgg, cgg):
        _close(a, b, TOL64, "second derivative")


def test_sdpa_errors():
    q = cr.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(3, 3, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="must divide"):
        F.scaled_dot_product_attention(cr.randn(1, 3, 3, 4), cr.randn(1, 2, 3, 4),
                                       cr.randn(1, 2, 3, 4), enable_gqa=True)
    with pytest.raises(RuntimeError, match="at least 2-D"):
        F.scaled_dot_product_attention(cr.randn(4), cr.randn(4), cr.randn(4))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(4, 3, dtype=cr.bool))


# -- nn.MultiheadAttention ------------------------------------------------------------------
def _mha_pair(torch, dtype="double", **kw):
    tm = getattr(torch.nn.MultiheadAttention(8, 2, **kw), dtype)()
    m = getattr(nn.MultiheadAttention(8, 2, **kw), dtype)()
    m.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, m


MHA_CONFIGS = [
    {}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True},
    {"add_zero_attn": True}, {"kdim": 5, "vdim": 3}, {"add_bias_kv": True, "add_zero_attn": True,
                                                      "batch_first": True, "kdim": 6},
]
MASKS = ["none", "kpm_bool", "kpm_float", "attn2d_bool", "attn3d_float", "both_bool"]


def _mha_masks(which, N, L, S, heads=2):
    rng = np.random.default_rng(7)
    kpm = rng.random((N, S)) > 0.7
    kpm[:, 0] = False  # keep a key per row (fully masked rows are tested separately)
    attn = rng.random((L, S)) > 0.7
    attn[:, 0] = False
    return {
        "none": {},
        "kpm_bool": {"key_padding_mask": kpm},
        "kpm_float": {"key_padding_mask": np.where(kpm, -np.inf, rng.standard_normal((N, S)))},
        "attn2d_bool": {"attn_mask": attn},
        "attn3d_float": {"attn_mask": rng.standard_normal((N * heads, L, S))},
        "both_bool": {"key_padding_mask": kpm, "attn_mask": attn},
    }[which]


def _run_mha(torch, tm, m, arrays, kw, self_attn=False, tol=TOL64):
    ts, cs = _inputs(torch, arrays, True)
    if self_attn:
        ts, cs = [ts[0]] * 3, [cs[0]] * 3
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ckw = {k: (cr.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    t_out, t_w = tm(*ts, **tkw)
    c_out, c_w = m(*cs, **ckw)
    _close(t_out, c_out, tol, "output")
    _close(t_w, c_w, tol, "weights")
    loss_t = t_out.pow(2).sum() + (0 if t_w is None else (t_w * t_w).sum())
    loss_c = c_out.pow(2).sum() + (0 if c_w is None else (c_w * c_w).sum())
    loss_t.backward()
    loss_c.backward()
    for name, t, c in zip(("query", "key", "value"), ts, cs):
        _close(t.grad, c.grad, tol, f"grad of {name}")
    cparams = dict(m.named_parameters())
    for name, p in tm.named_parameters():
        _close(p.grad, cparams[name].grad, tol, f"grad of {name}")
    return c_out, c_w


WEIGHT_MODES = [(True, True), (True, False), (False, True)]
# every configuration with both masks in each weights mode; every mask kind with two configs
MHA_CASES = [(c, "both_bool", nw, av) for c in range(len(MHA_CONFIGS)) for nw, av in WEIGHT_MODES]
MHA_CASES += [(c, mk, nw, av) for mk in MASKS if mk != "both_bool" for c in (0, 6)
              for nw, av in WEIGHT_MODES[1:]]


@pytest.mark.parametrize("cfg,masks,need_weights,average", MHA_CASES)
def test_mha_matches_torch(torch, cfg, masks, need_weights, average):
    kw = MHA_CONFIGS[cfg]
    tm, m = _mha_pair(torch, **kw)
    N, L, S = 3, 4, 5
    bf = kw.get("batch_first", False)
    rng = np.random.default_rng(cfg)
    shape = (lambda n, d: (N, n, d)) if bf else (lambda n, d: (n, N, d))
    arrays = (rng.standard_normal(shape(L, 8)), rng.standard_normal(shape(S, kw.get("kdim", 8))),
              rng.standard_normal(shape(S, kw.get("vdim", 8))))
    call = dict(_mha_masks(masks, N, L, S), need_weights=need_weights,
                average_attn_weights=average)
    out, w = _run_mha(torch, tm, m, arrays, call)
    if need_weights:
        assert tuple(w.shape) == ((N, L, S + kw.get("add_bias_kv", 0) + kw.get("add_zero_attn", 0))
                                  if average else (N, 2, L, S + kw.get("add_bias_kv", 0)
                                                   + kw.get("add_zero_attn", 0)))
    else:
        assert w is None


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [True, False])
def test_mha_self_attention_and_unbatched(torch, need_weights, batch_first):
    tm, m = _mha_pair(torch, batch_first=batch_first)
    x = np.random.default_rng(3).standard_normal((2, 5, 8))
    _run_mha(torch, tm, m, (x,), {"need_weights": need_weights}, self_attn=True)
    L, S = 4, 6
    rng = np.random.default_rng(4)
    arrays = (rng.standard_normal((L, 8)), rng.standard_normal((S, 8)),
              rng.standard_normal((S, 8)))
    kpm = np.array([False, True, False, False, True, False])
    for extra in ({}, {"key_padding_mask": kpm}, {"attn_mask": rng.standard_normal((2, L, S))}):
        out, w = _run_mha(torch, tm, m, arrays, dict(extra, need_weights=need_weights,
                                                     average_attn_weights=False))
        assert tuple(out.shape) == (L, 8)
        assert w is None or tuple(w.shape) == (2, L, S)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [True, False])
def test_mha_is_causal_hint(torch, need_weights, with_kpm):
    tm, m = _mha_pair(torch, batch_first=True)
    x = np.random.default_rng(5).standard_normal((2, 5, 8))
    causal = np.triu(np.ones((5, 5), bool), 1)
    kw = {"attn_mask": causal, "is_causal": True, "need_weights": need_weights}
    if with_kpm:
        kw["key_padding_mask"] = np.array([[False] * 4 + [True], [False] * 5])
    _run_mha(torch, tm, m, (x,), kw, self_attn=True)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(cr.tensor(x), cr.tensor(x), cr.tensor(x), is_causal=True)


def test_mha_fully_masked_rows_as_torch(torch):
    """need_weights=True: NaN rows as torch; need_weights=False: zero rows, finite grads."""
    tm, m = _mha_pair(torch)
    x = np.random.default_rng(6).standard_normal((4, 2, 8))
    kpm = np.array([[False, False, True, True], [True, True, True, True]])
    ts, cs = _inputs(torch, (x,), False)
    t_out, _ = tm(ts[0], ts[0], ts[0], key_padding_mask=torch.tensor(kpm))
    c_out, _ = m(cs[0], cs[0], cs[0], key_padding_mask=cr.tensor(kpm))
    assert np.all(np.isnan(_np(t_out)[:, 1])) and np.all(np.isnan(_np(c_out)[:, 1]))
    _close(t_out[:, 0], c_out[:, 0], TOL64)
    _run_mha(torch, tm, m, (x,), {"key_padding_mask": kpm, "need_weights": False},
             self_attn=True)


def test_mha_dropout_only_in_training(torch):
    tm, m = _mha_pair(torch, dropout=0.5)
    tm.eval()
    m.eval()
    x = np.random.default_rng(8).standard_normal((4, 2, 8))
    _run_mha(torch, tm, m, (x, x[::-1].copy(), x), {})
    m.train()
    y = cr.tensor(x)
    a, wa = m(y, y, y)
    b, wb = m(y, y, y)
    assert not np.allclose(_np(a), _np(b))  # dropout is random in training
    assert (np.sum(_np(wa) == 0) > 0)  # returned weights are after dropout, as torch


def test_mha_float32_within_torch_tolerance(torch):
    tm, m = _mha_pair(torch, dtype="float", batch_first=True)
    x = np.random.default_rng(9).standard_normal((4, 12, 8)).astype(np.float32)
    kpm = np.zeros((4, 12), bool)
    kpm[:, 9:] = True
    out, w = _run_mha(torch, tm, m, (x,), {"key_padding_mask": kpm}, self_attn=True, tol=TOL32)
    assert out.dtype == cr.float32 and w.dtype == cr.float32


def test_mha_functional_with_static_kv(torch):
    """F.multi_head_attention_forward with static_k/static_v (keys given per head)."""
    tm, m = _mha_pair(torch)
    rng = np.random.default_rng(10)
    q, kv = rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 8))
    sk, sv = rng.standard_normal((4, 6, 4)), rng.standard_normal((4, 6, 4))
    outs = []
    for lib, mod, mk in ((torch, tm, torch.tensor), (cr, m, cr.tensor)):
        f = lib.nn.functional.multi_head_attention_forward
        out, w = f(mk(q), mk(kv), mk(kv), 8, 2, mod.in_proj_weight, mod.in_proj_bias, None, None,
                   False, 0.0, mod.out_proj.weight, mod.out_proj.bias, static_k=mk(sk),
                   static_v=mk(sv))
        outs.append((out, w))
    _close(outs[0][0], outs[1][0], TOL64)
    _close(outs[0][1], outs[1][1], TOL64)


def test_mha_state_dict_init_and_repr(torch):
    for kw in ({}, {"kdim": 5, "vdim": 3, "add_bias_kv": True}, {"bias": False}):
        tm, m = torch.nn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw)
        assert list(m.state_dict()) == list(tm.state_dict())
        assert [tuple(v.shape) for v in m.state_dict().values()] == \
            [tuple(v.shape) for v in tm.state_dict().values()]
        assert repr(m) == repr(tm)
        assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
        assert isinstance(m.out_proj, nn.Linear)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    bk = m.bias_k.detach().numpy()
    assert bk.shape == (1, 1, 64) and 0.05 < bk.std() < 0.3  # xavier_normal_: std 1/sqrt(64)


def test_mha_mixed_mask_types_warn_like_torch(torch):
    tm, m = _mha_pair(torch)
    x = np.random.default_rng(11).standard_normal((3, 2, 8))
    kpm, attn = np.zeros((2, 3), bool), np.zeros((3, 3))
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tm(*([torch.tensor(x)] * 3), key_padding_mask=torch.tensor(kpm),
           attn_mask=torch.tensor(attn))
    with warnings.catch_warnings(record=True) as cw:
        warnings.simplefilter("always")
        m(*([cr.tensor(x)] * 3), key_padding_mask=cr.tensor(kpm), attn_mask=cr.tensor(attn))
    assert [str(w.message) for w in cw] == [str(w.message) for w in tw if "mismatched" in
                                            str(w.message)]


def test_mha_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 2)
    m = nn.MultiheadAttention(8, 2)
    x = cr.randn(3, 2, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(3, 4))
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, key_padding_mask=cr.zeros(2, 3, dtype=cr.int64))
    with pytest.raises(AssertionError, match="embedding dimension"):
        m(cr.randn(3, 2, 6), cr.randn(3, 2, 6), cr.randn(3, 2, 6))


def test_sdpa_forward_mode_matches_finite_differences():
    import chainrule.autograd.forward_ad as fwAD

    q, k, v = (cr.randn(2, 3, 4, dtype=cr.float64) for _ in range(3))
    tq, tk = cr.randn(2, 3, 4, dtype=cr.float64), cr.randn(2, 3, 4, dtype=cr.float64)
    mask = cr.tensor(np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1]], bool))  # row 1: no key

    def f(a, b):
        return F.scaled_dot_product_attention(a, b, v, attn_mask=mask).numpy()

    with fwAD.dual_level():
        out = F.scaled_dot_product_attention(fwAD.make_dual(q, tq), fwAD.make_dual(k, tk), v,
                                             attn_mask=mask)
        jvp = fwAD.unpack_dual(out).tangent.numpy()
    eps = 1e-6
    fd = (f(q + eps * tq, k + eps * tk) - f(q - eps * tq, k - eps * tk)) / (2 * eps)
    np.testing.assert_allclose(jvp, fd, atol=1e-8)
    assert np.all(jvp[:, 1] == 0)


def test_sdpa_kernel_selects_backends_as_torch(torch):
    """torch.nn.attention's sdpa_kernel: MATH refuses attn_mask with is_causal, FLASH (4-D
    only) applies both, and a call no allowed CPU kernel runs raises 'No available kernel'."""
    from torch.nn.attention import SDPBackend as TorchBackend
    from torch.nn.attention import sdpa_kernel as t_kernel

    from chainrule.nn.attention import SDPBackend as CrBackend
    from chainrule.nn.attention import sdpa_kernel as c_kernel

    assert {m.name: m.value for m in CrBackend} == \
        {n: int(v) for n, v in TorchBackend.__members__.items()}
    q4, q3 = _qkv((2, 3), 5, 5, 8)[0], _qkv((3,), 5, 5, 8)[0]
    mask = np.tril(np.ones((5, 5), bool))
    cases = [("MATH", q4, {"attn_mask": mask, "is_causal": True}),
             ("FLASH_ATTENTION", q4, {"attn_mask": mask, "is_causal": True}),
             ("FLASH_ATTENTION", q3, {}), ("MATH", q3, {"is_causal": True}),
             ("EFFICIENT_ATTENTION", q4, {})]
    for backend, q, kw in cases:
        ts, cs = _inputs(torch, [q], False)
        tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        ckw = {k: (cr.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        try:
            with warnings.catch_warnings(), t_kernel(getattr(TorchBackend, backend)):
                warnings.simplefilter("ignore")
                expected = torch.nn.functional.scaled_dot_product_attention(*ts * 3, **tkw)
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=str(e)[:40].replace("(", r"\(")), \
                    c_kernel(getattr(CrBackend, backend)):
                F.scaled_dot_product_attention(*cs * 3, **ckw)
        else:
            with c_kernel([getattr(CrBackend, backend)]):
                got = F.scaled_dot_product_attention(*cs * 3, **ckw)
            _close(expected, got, TOL64, backend)
    F.scaled_dot_product_attention(*_inputs(torch, [q3], False)[1] * 3)  # restored after
