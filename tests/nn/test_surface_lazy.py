"""torch.nn surface: lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*,
LazyInstanceNorm*) and Uninitialized{Parameter,Buffer} against PyTorch: repr before and after
the first call, the class they become, inferred sizes, state-dict loading, save/load."""

from __future__ import annotations

import io

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from tests.nn.test_surface_util import compare_module

CASES = [
    ("LazyLinear", (4,), {}, (3, 5)), ("LazyLinear", (2,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2, "groups": 2}, (2, 6, 7, 7)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (3, 2), {"stride": 2}, (2, 4, 5)),
    ("LazyConvTranspose2d", (2, 3), {"output_padding": 1, "stride": 2}, (1, 3, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {"bias": False}, (1, 2, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)), ("LazyBatchNorm2d", (), {"momentum": 0.3}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {"affine": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {"affine": True}, (2, 3, 6)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": True}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,shape", CASES)
def test_lazy_module_like_torch(torch, name, args, kw, shape):
    cm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(cm) == repr(tm)
    assert all(repr(p) == "<UninitializedParameter>" for p in cm.parameters())
    x = np.random.default_rng(0).standard_normal(shape)
    tm(torch.tensor(x, dtype=torch.float32))  # materialise torch's
    cm(cr.tensor(x, dtype=cr.float32))
    assert type(cm).__name__ == type(tm).__name__ == name[4:]
    assert repr(cm) == repr(tm)
    for (n1, p1), (n2, p2) in zip(cm.state_dict().items(), tm.state_dict().items()):
        assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
    compare_module(torch, cm, tm.train(), [x])


def test_lazy_load_state_dict_materialises_and_save_roundtrip(torch):
    src = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))
    lazy = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    with pytest.raises(RuntimeError, match="uninitialized"):
        _ = lazy[0].weight.shape
    lazy.load_state_dict(src.state_dict())
    assert tuple(lazy[0].weight.shape) == (3, 5)
    x = cr.randn(4, 5)
    np.testing.assert_allclose(lazy(x).detach().numpy(), src(x).detach().numpy())
    assert type(lazy[0]) is nn.Linear and lazy[0].in_features == 5
    fresh = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    fresh(x)
    buf = io.BytesIO()
    cr.save(fresh, buf)  # the materialised module is saved as the Linear it became
    buf.seek(0)
    back = cr.load(buf)
    assert repr(back) == repr(fresh)
    np.testing.assert_allclose(back(x).detach().numpy(), fresh(x).detach().numpy())


def test_uninitialized_parameter_materialize():
    from chainrule.nn.parameter import UninitializedParameter, is_lazy

    p = UninitializedParameter()
    assert is_lazy(p) and UninitializedParameter is nn.UninitializedParameter
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    b = nn.UninitializedBuffer()
    b.materialize(4, dtype=cr.float64)
    assert type(b) is cr.Tensor and b.dtype == cr.float64
    m = nn.LazyLinear(2)
    opt_params = list(m.parameters())  # same objects before and after the first call
    m(cr.randn(1, 3))
    assert all(a is b for a, b in zip(opt_params, m.parameters()))
