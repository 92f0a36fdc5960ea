"""nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder / Transformer against
PyTorch with copied weights: outputs and the gradients of the inputs and every parameter, in
train mode with dropout 0 and in eval mode, float64 to 1e-10 and float32 to torch's
tolerances; plus masks, causal detection, the nested-tensor inference path, the
initialisation, state dicts, subclassing and copy.deepcopy of modules."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

TOL64 = dict(rtol=1e-10, atol=1e-10)
TOL32 = dict(rtol=1.3e-6, atol=1e-5)
D, H, FF = 8, 2, 16


def _np(t):
    return t.detach().numpy()


def _load(m, tm):
    m.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _activation(torch, kind):
    """The same activation for both libraries: a name, a module, or a function."""
    if kind == "tanh-fn":
        return (lambda x: torch.tanh(x)), (lambda x: x.tanh())
    if kind == "gelu-module":
        return torch.nn.GELU(), nn.GELU()
    return kind, kind


def _pair(torch, cls, dtype="double", activation="relu", **kw):
    ta, ca = _activation(torch, activation)
    tm = getattr(getattr(torch.nn, cls)(D, H, FF, activation=ta, **kw), dtype)()
    m = getattr(getattr(nn, cls)(D, H, FF, activation=ca, **kw), dtype)()
    _load(m, tm)
    return tm, m


def _tensors(torch, arrays, grad=True):
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    cs = [cr.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return ts, cs


def _kw(torch, kw, lib):
    mk = torch.tensor if lib == "torch" else cr.tensor
    return {k: (mk(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


def _compare(torch, tm, m, arrays, kw, tol=TOL64):
    ts, cs = _tensors(torch, arrays)
    t_out = tm(*ts, **_kw(torch, kw, "torch"))
    c_out = m(*cs, **_kw(torch, kw, "cr"))
    np.testing.assert_allclose(_np(c_out), _np(t_out), err_msg="output", **tol)
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(_np(t_out).dtype)
    t_out.backward(torch.tensor(g))
    c_out.backward(cr.tensor(g))
    for i, (t, c) in enumerate(zip(ts, cs)):
        if t.grad is not None:
            np.testing.assert_allclose(_np(c.grad), _np(t.grad), err_msg=f"input {i}", **tol)
    cparams = dict(m.named_parameters())
    assert set(cparams) == {n for n, _ in tm.named_parameters()}
    for name, p in tm.named_parameters():
        if p.grad is None:
            assert cparams[name].grad is None or not np.any(_np(cparams[name].grad)), name
            continue
        np.testing.assert_allclose(_np(cparams[name].grad), _np(p.grad), err_msg=name, **tol)
    return c_out


def _seq(shape_fn, n, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape_fn(n)).astype(dtype)


def _shape_fn(batch_first, batched=True, N=3):
    if not batched:
        return lambda n: (n, D)
    return (lambda n: (N, n, D)) if batch_first else (lambda n: (n, N, D))


def _masks(which, N, L, S, seed=3):
    rng = np.random.default_rng(seed)
    kpm = rng.random((N, S)) > 0.7
    kpm[:, 0] = False
    attn = rng.random((L, S)) > 0.7
    attn[:, 0] = False
    causal = np.triu(np.ones((L, S), bool), 1)
    return {"none": {}, "kpm": (kpm, None), "attn_bool": (None, attn),
            "attn_float": (None, rng.standard_normal((L, S))),
            "attn3d": (None, rng.standard_normal((N * H, L, S))),
            "causal": (None, causal), "both": (kpm, attn)}[which]


LAYER_OPTIONS = [
    dict(), dict(norm_first=True), dict(batch_first=True), dict(bias=False),
    dict(activation="gelu"), dict(activation="tanh-fn", norm_first=True),
    dict(activation="gelu-module", batch_first=True), dict(layer_norm_eps=1e-3),
]
MASK_KINDS = ["none", "kpm", "attn_bool", "attn_float", "attn3d", "causal", "both"]


# every option with the richest masks in both modes; every mask kind with two layouts
ENCODER_CASES = [(o, "both", mode) for o in range(len(LAYER_OPTIONS)) for mode in ("train", "eval")]
ENCODER_CASES += [(o, mk, mode) for mk in MASK_KINDS if mk != "both" for o, mode in
                  ((0, "train"), (2, "eval"))]


@pytest.mark.parametrize("opt,masks,mode", ENCODER_CASES)
def test_encoder_layer_matches_torch(torch, opt, masks, mode):
    kw = dict(LAYER_OPTIONS[opt])
    dropout = 0.0 if mode == "train" else 0.3
    tm, m = _pair(torch, "TransformerEncoderLayer", dropout=dropout, **kw)
    getattr(tm, mode)()
    getattr(m, mode)()
    N, S = 3, 5
    x = _seq(_shape_fn(kw.get("batch_first", False), N=N), S)
    call = {}
    if masks != "none":
        kpm, attn = _masks(masks, N, S, S)
        call = {"src_key_padding_mask": kpm, "src_mask": attn,
                "is_causal": masks == "causal"}
    _compare(torch, tm, m, [x], call)


DECODER_CASES = [(o, "both") for o in range(len(LAYER_OPTIONS))]
DECODER_CASES += [(o, mk) for mk in ("none", "kpm", "attn_bool", "attn3d", "causal")
                  for o in (0, 2)]


@pytest.mark.parametrize("opt,masks", DECODER_CASES)
def test_decoder_layer_matches_torch(torch, opt, masks):
    kw = dict(LAYER_OPTIONS[opt])
    tm, m = _pair(torch, "TransformerDecoderLayer", dropout=0.0, **kw)
    N, T, S = 3, 4, 6
    fn = _shape_fn(kw.get("batch_first", False), N=N)
    tgt, mem = _seq(fn, T, seed=1), _seq(fn, S, seed=2)
    call = {}
    if masks != "none":
        tkpm, tattn = _masks(masks, N, T, T, seed=4)
        mkpm, mattn = _masks(masks, N, T, S, seed=5)
        call = {"tgt_key_padding_mask": tkpm, "tgt_mask": tattn, "memory_key_padding_mask": mkpm,
                "memory_mask": None if masks == "causal" else mattn,
                "tgt_is_causal": masks == "causal"}
    _compare(torch, tm, m, [tgt, mem], call)


@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layers_unbatched(torch, cls):
    tm, m = _pair(torch, cls, dropout=0.0)
    args = [_seq(_shape_fn(False, False), 5)]
    if cls == "TransformerDecoderLayer":
        args.append(_seq(_shape_fn(False, False), 6, seed=1))
        call = {"tgt_key_padding_mask": np.array([False, False, True, False, True])}
    else:
        call = {"src_key_padding_mask": np.array([False, False, True, False, True])}
    out = _compare(torch, tm, m, args, call)
    assert tuple(out.shape) == (5, D)


def _stack_pair(torch, kind, num_layers=2, norm=True, **kw):
    layer_cls = "TransformerEncoderLayer" if kind == "Encoder" else "TransformerDecoderLayer"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tlayer = getattr(torch.nn, layer_cls)(D, H, FF, dropout=0.0, **kw)
        tm = getattr(torch.nn, "Transformer" + kind)(
            tlayer, num_layers, torch.nn.LayerNorm(D) if norm else None).double()
        clayer = getattr(nn, layer_cls)(D, H, FF, dropout=0.0, **kw)
        m = getattr(nn, "Transformer" + kind)(clayer, num_layers,
                                              nn.LayerNorm(D) if norm else None).double()
    with torch.no_grad():  # distinct layers and a non-trivial final norm
        for p in tm.parameters():
            p.add_(0.1 * torch.randn_like(p))
    _load(m, tm)
    return tm, m


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "kpm", "causal", "both"])
def test_encoder_and_decoder_stacks_match_torch(torch, batch_first, masks):
    N, S, T = 3, 5, 4
    fn = _shape_fn(batch_first, N=N)
    tm, m = _stack_pair(torch, "Encoder", batch_first=batch_first)
    call = {}
    if masks != "none":
        kpm, attn = _masks(masks, N, S, S)
        call = {"src_key_padding_mask": kpm, "mask": attn}
    _compare(torch, tm, m, [_seq(fn, S)], call)
    tm, m = _stack_pair(torch, "Decoder", batch_first=batch_first, norm_first=True)
    if masks != "none":
        kpm, attn = _masks(masks, N, T, T)
        call = {"tgt_key_padding_mask": kpm, "tgt_mask": attn}
    _compare(torch, tm, m, [_seq(fn, T, seed=1), _seq(fn, S, seed=2)], call)


@pytest.mark.parametrize("grad_mode", ["no_grad", "grad"])
def test_encoder_inference_zeroes_padding_as_torch(torch, grad_mode):
    """In eval mode without gradients torch's nested-tensor path returns zeros (then the
    final norm's bias) at padded positions; with gradients it computes them normally."""
    tm, m = _stack_pair(torch, "Encoder", batch_first=True)
    tm.eval()
    m.eval()
    x = _seq(_shape_fn(True, N=3), 5)
    kpm = np.array([[False] * 5, [False] * 3 + [True] * 2, [False] + [True] * 4])
    if grad_mode == "no_grad":
        with torch.no_grad(), cr.no_grad():
            t_out = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
            c_out = m(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm))
        bias = _np(m.norm.bias)
        np.testing.assert_allclose(_np(c_out)[kpm], np.broadcast_to(bias, (kpm.sum(), D)))
    else:
        t_out = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        c_out = m(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm))
    np.testing.assert_allclose(_np(c_out), _np(t_out), **TOL64)


def test_causal_mask_detection(torch):
    from chainrule.nn.transformer import _detect_is_causal_mask

    for sz in (1, 4):
        for dt in (cr.float32, cr.bool):
            causal = nn.Transformer.generate_square_subsequent_mask(sz, dtype=dt)
            assert _detect_is_causal_mask(causal) is True
            assert _detect_is_causal_mask(causal, size=sz + 1) is False
    assert _detect_is_causal_mask(cr.zeros(3, 3)) is False
    assert _detect_is_causal_mask(cr.zeros(3, 3), is_causal=True) is True
    assert _detect_is_causal_mask(None) is False


def test_generate_square_subsequent_mask(torch):
    for kw in ({}, {"dtype": "float64"}):
        t = torch.nn.Transformer.generate_square_subsequent_mask(
            5, **{k: getattr(torch, v) for k, v in kw.items()})
        c = nn.Transformer.generate_square_subsequent_mask(
            5, **{k: getattr(cr, v) for k, v in kw.items()})
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(_np(c), _np(t))


def _transformer_pair(torch, dtype="double", **kw):
    opts = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
                dim_feedforward=FF, dropout=0.0)
    opts.update(kw)
    torch.manual_seed(0)  # the float32 tolerance must not depend on what ran before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(torch.nn.Transformer(**opts), dtype)()
        m = getattr(nn.Transformer(**opts), dtype)()
    _load(m, tm)
    return tm, m


@pytest.mark.parametrize("opts", [dict(), dict(batch_first=True, norm_first=True),
                                  dict(activation="gelu", bias=False)])
@pytest.mark.parametrize("with_masks", [False, True])
def test_transformer_matches_torch(torch, opts, with_masks):
    tm, m = _transformer_pair(torch, **opts)
    N, S, T = 3, 6, 5
    fn = _shape_fn(opts.get("batch_first", False), N=N)
    call = {}
    if with_masks:
        rng = np.random.default_rng(2)
        skpm, tkpm = rng.random((N, S)) > 0.7, rng.random((N, T)) > 0.7
        skpm[:, 0] = tkpm[:, 0] = False
        call = dict(src_mask=rng.standard_normal((S, S)),
                    tgt_mask=_np(nn.Transformer.generate_square_subsequent_mask(T,
                                                                                dtype=cr.float64)),
                    memory_mask=rng.random((T, S)) > 2, src_key_padding_mask=skpm,
                    tgt_key_padding_mask=tkpm, memory_key_padding_mask=skpm)
    _compare(torch, tm, m, [_seq(fn, S), _seq(fn, T, seed=1)], call)


def test_transformer_float32_within_torch_tolerance(torch):
    tm, m = _transformer_pair(torch, dtype="float", batch_first=True)
    fn = _shape_fn(True, N=4)
    src, tgt = _seq(fn, 9, np.float32), _seq(fn, 7, np.float32, seed=1)
    mask = _np(nn.Transformer.generate_square_subsequent_mask(7))
    out = _compare(torch, tm, m, [src, tgt], {"tgt_mask": mask, "tgt_is_causal": True}, TOL32)
    assert out.dtype == cr.float32


def test_transformer_causal_flags_and_unbatched(torch):
    tm, m = _transformer_pair(torch)
    mask = _np(nn.Transformer.generate_square_subsequent_mask(5, dtype=cr.float64))
    fn = _shape_fn(False, False)
    _compare(torch, tm, m, [_seq(fn, 6), _seq(fn, 5, seed=1)],
             {"tgt_mask": mask, "tgt_is_causal": True, "src_is_causal": False})
    with pytest.raises(RuntimeError, match="batch number"):
        m(cr.randn(6, 2, D, dtype=cr.float64), cr.randn(5, 3, D, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="d_model"):
        m(cr.randn(6, 2, 4, dtype=cr.float64), cr.randn(5, 2, 4, dtype=cr.float64))


def test_transformer_state_dict_init_and_repr(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.Transformer(D, H, 2, 1, FF)
        m = nn.Transformer(D, H, 2, 1, FF)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in m.state_dict().values()] == \
        [tuple(v.shape) for v in tm.state_dict().values()]
    l0, l1 = m.encoder.layers
    assert l0 is not l1 and l0.linear1.weight is not l1.linear1.weight
    assert not np.array_equal(_np(l0.linear1.weight), _np(l1.linear1.weight))  # re-drawn
    for name, p in m.named_parameters():
        if p.dim() > 1:
            bound = np.sqrt(6.0 / sum(p.shape[:2]))  # xavier_uniform_ on a 2-D weight
            assert np.abs(_np(p)).max() <= bound, name
    assert m.d_model == D and m.nhead == H and m.batch_first is False
    assert repr(m).count("TransformerEncoderLayer") == 2


def test_encoder_deep_copies_its_layer_and_warns_like_torch(torch):
    layer = nn.TransformerEncoderLayer(D, H, FF)
    enc = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert all(lyr is not layer for lyr in enc.layers)
    for lyr in enc.layers:
        np.testing.assert_array_equal(_np(lyr.linear1.weight), _np(layer.linear1.weight))
        assert lyr.linear1.weight is not layer.linear1.weight
    for flag in (True, False):
        with warnings.catch_warnings(record=True) as cw:
            warnings.simplefilter("always")
            e = nn.TransformerEncoder(layer, 1, enable_nested_tensor=flag)
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, H, FF), 1,
                                        enable_nested_tensor=flag)
        assert [str(w.message) for w in cw] == [str(w.message) for w in tw]
        assert e.use_nested_tensor is False and e.enable_nested_tensor is flag


def test_activation_options(torch):
    assert nn.TransformerEncoderLayer(D, H, FF).activation is F.relu
    assert nn.TransformerEncoderLayer(D, H, FF, activation="gelu").activation_relu_or_gelu == 2
    layer = nn.TransformerEncoderLayer(D, H, FF, activation=nn.GELU())
    assert "activation" in dict(layer.named_children())
    assert nn.TransformerEncoderLayer(D, H, FF, activation=F.silu).activation_relu_or_gelu == 0
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(D, H, FF, activation="tanh")


def test_subclassing_transformer_like_the_tutorials():
    class TranslationModel(nn.Transformer):
        def __init__(self, vocab: int):
            super().__init__(d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
                             dim_feedforward=FF, dropout=0.0, batch_first=True)
            self.embed = nn.Embedding(vocab, D)
            self.head = nn.Linear(D, vocab)

        def forward(self, src, tgt):
            mask = self.generate_square_subsequent_mask(tgt.shape[1])
            out = super().forward(self.embed(src), self.embed(tgt), tgt_mask=mask)
            return self.head(out)

    model = TranslationModel(11)
    src, tgt = cr.randint(0, 11, (2, 7)), cr.randint(0, 11, (2, 5))
    loss = nn.functional.cross_entropy(model(src, tgt).reshape(-1, 11), tgt.reshape(-1))
    loss.backward()
    assert model.embed.weight.grad is not None and "embed.weight" in model.state_dict()
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    first = float(loss)
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(src, tgt).reshape(-1, 11), tgt.reshape(-1))
        loss.backward()
        opt.step()
    assert float(loss) < 0.5 * first


def test_deepcopy_of_modules_and_tensors():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.MultiheadAttention(4, 2))
    out = m[0](cr.randn(5, 3)).sum()
    out.backward()
    c = copy.deepcopy(m)
    for (name, p), q in zip(m.named_parameters(), c.parameters()):
        assert p is not q and type(q) is nn.Parameter and q.requires_grad
        np.testing.assert_array_equal(_np(p), _np(q), err_msg=name)
    assert c[0].weight.grad is not m[0].weight.grad
    np.testing.assert_array_equal(_np(c[0].weight.grad), _np(m[0].weight.grad))
    assert c[1].running_mean is not m[1].running_mean
    with cr.no_grad():
        c[0].weight.add_(1.0)
    assert not np.array_equal(_np(c[0].weight), _np(m[0].weight))
    shared = nn.Linear(2, 2)
    tied = nn.Sequential(shared, shared)
    t2 = copy.deepcopy(tied)
    assert t2[0] is t2[1]  # the memo keeps shared submodules shared
    x = cr.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
