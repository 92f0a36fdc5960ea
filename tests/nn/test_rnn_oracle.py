"""RNN/LSTM/GRU against PyTorch with copied weights (a torch state_dict loaded through NumPy
arrays): outputs, final states and every gradient, for each configuration, plus packed
sequences and the packing utilities."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import rnn as rnn_utils

CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, batch_first=True),
    dict(nonlinearity="relu", num_layers=2),
    dict(proj_size=3),
    dict(proj_size=2, num_layers=2, bidirectional=True),
]


def _pair(torch, kind, kw):
    tm = getattr(torch.nn, kind)(4, 5, **kw).double()
    m = getattr(nn, kind)(4, 5, **kw).double()
    m.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, m


def _np(t):
    return t.detach().numpy()


def _cases():
    for kind in ("RNN", "LSTM", "GRU"):
        for kw in CONFIGS:
            if "proj_size" in kw and kind != "LSTM" or "nonlinearity" in kw and kind != "RNN":
                continue
            for given in (False, True):
                yield kind, kw, given


@pytest.mark.parametrize("kind,kw,given", list(_cases()))
@pytest.mark.parametrize("batched", [True, False])
def test_against_torch(torch, kind, kw, given, batched):
    tm, m = _pair(torch, kind, kw)
    L, N = 6, 3
    D = 2 if kw.get("bidirectional") else 1
    LD = D * kw.get("num_layers", 1)
    H_out = kw.get("proj_size") or 5
    shape = ((N, L, 4) if kw.get("batch_first") else (L, N, 4)) if batched else (L, 4)
    x = np.random.randn(*shape)
    lead = (LD, N) if batched else (LD,)
    states = [np.random.randn(*lead, H_out)] + ([np.random.randn(*lead, 5)] if kind == "LSTM"
                                                 else [])
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    cs = [cr.tensor(s, requires_grad=True) for s in states]
    targs, cargs = (tx,), (cx,)
    if given:
        targs += (tuple(ts) if kind == "LSTM" else ts[0],)
        cargs += (tuple(cs) if kind == "LSTM" else cs[0],)
    tout, th = tm(*targs)
    cout, ch = m(*cargs)
    th, ch = (th if kind == "LSTM" else (th,)), (ch if kind == "LSTM" else (ch,))
    assert tuple(cout.shape) == tuple(tout.shape)
    np.testing.assert_allclose(_np(cout), _np(tout), atol=1e-10)
    for a, b in zip(ch, th):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-10)
    w = np.random.randn(*tout.shape)
    tl = (tout * torch.tensor(w)).sum() + sum((s ** 2).sum() for s in th)
    cl = (cout * cr.tensor(w)).sum() + sum((s ** 2).sum() for s in ch)
    tl.backward()
    cl.backward()
    np.testing.assert_allclose(_np(cx.grad), tx.grad.numpy(), atol=1e-9)
    if given:
        for a, b in zip(cs, ts):
            np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), atol=1e-9)
    tgrads = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(_np(p.grad), tgrads[name].grad.numpy(), atol=1e-9,
                                   err_msg=name)


def test_init_matches_torch_bounds_and_names(torch):
    tm = torch.nn.LSTM(4, 16, num_layers=2, bidirectional=True, proj_size=3)
    m = nn.LSTM(4, 16, num_layers=2, bidirectional=True, proj_size=3)
    tshapes = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == tshapes
    assert list(m.state_dict()) == list(tm.state_dict())
    for p in m.parameters():
        a = _np(p)
        assert a.dtype == np.float32 and np.abs(a).max() <= 0.25 and np.abs(a).max() > 0.2


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_against_torch(torch, kind, enforce_sorted, batch_first):
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    tm, m = _pair(torch, kind, kw)
    lengths = [5, 3, 2, 1] if enforce_sorted else [2, 5, 1, 3]
    x = np.random.randn(4, 5, 4) if batch_first else np.random.randn(5, 4, 4)
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    cp = rnn_utils.pack_padded_sequence(cx, lengths, batch_first, enforce_sorted)
    np.testing.assert_allclose(_np(cp.data), _np(tp.data))
    np.testing.assert_array_equal(_np(cp.batch_sizes), tp.batch_sizes.numpy())
    h0 = np.random.randn(4, 4, 5)
    th0, ch0 = torch.tensor(h0), cr.tensor(h0)
    if kind == "LSTM":
        th0, ch0 = (th0, th0 * 0.5), (ch0, ch0 * 0.5)
    tout, th = tm(tp, th0)
    cout, ch = m(cp, ch0)
    assert isinstance(cout, rnn_utils.PackedSequence)
    np.testing.assert_allclose(_np(cout.data), _np(tout.data), atol=1e-10)
    th, ch = (th if kind == "LSTM" else (th,)), (ch if kind == "LSTM" else (ch,))
    for a, b in zip(ch, th):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-10)
    tpad, tl = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first, padding_value=-1.0)
    cpad, cl = rnn_utils.pad_packed_sequence(cout, batch_first, padding_value=-1.0)
    np.testing.assert_allclose(_np(cpad), _np(tpad), atol=1e-10)
    np.testing.assert_array_equal(_np(cl), tl.numpy())
    w = np.random.randn(*tpad.shape)
    ((tpad * torch.tensor(w)).sum() + (th[0] ** 2).sum()).backward()
    ((cpad * cr.tensor(w)).sum() + (ch[0] ** 2).sum()).backward()
    np.testing.assert_allclose(_np(cx.grad), tx.grad.numpy(), atol=1e-9)
    tgrads = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(_np(p.grad), tgrads[name].grad.numpy(), atol=1e-9,
                                   err_msg=name)


def test_pad_and_pack_sequence_against_torch(torch):
    seqs = [np.random.randn(n, 2) for n in (3, 5, 1)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            want = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                                   batch_first, 7.0, side)
            got = rnn_utils.pad_sequence([cr.tensor(s) for s in seqs], batch_first, 7.0, side)
            np.testing.assert_array_equal(_np(got), want.numpy())
    tp = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    cp = rnn_utils.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(_np(cp.data), tp.data.numpy())
    np.testing.assert_array_equal(_np(cp.sorted_indices), tp.sorted_indices.numpy())
    np.testing.assert_array_equal(_np(cp.unsorted_indices), tp.unsorted_indices.numpy())
    back = rnn_utils.unpack_sequence(cp)
    for a, b in zip(back, seqs):
        np.testing.assert_array_equal(_np(a), b)


def test_packing_errors():
    x = cr.randn(5, 3, 2)
    with pytest.raises(RuntimeError, match="enforce_sorted=False"):
        rnn_utils.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(ValueError, match="lengths must be in 1..5"):
        rnn_utils.pack_padded_sequence(x, [6, 5, 1])
    with pytest.raises(ValueError, match="3 lengths"):
        rnn_utils.pack_padded_sequence(x, [2, 1, 1], batch_first=True)
