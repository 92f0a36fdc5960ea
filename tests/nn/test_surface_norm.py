"""torch.nn surface: InstanceNorm1d/2d/3d, LocalResponseNorm, CrossMapLRN2d, RMSNorm and their
functional forms against PyTorch (float64 values, input and parameter gradients, running
statistics)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import close, compare, compare_module

SHAPES = {"InstanceNorm1d": (3, 4, 7), "InstanceNorm2d": (2, 4, 5, 3),
          "InstanceNorm3d": (2, 4, 3, 2, 3)}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.3},
                                {"affine": True, "bias": False}, {"momentum": None,
                                                                  "track_running_stats": True}])
def test_instance_norm_module(torch, name, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPES[name]) * 2 + 1
    tm, cm = getattr(torch.nn, name)(4, **kw), getattr(nn, name)(4, **kw)
    if kw.get("affine"):
        with torch.no_grad():
            for p in tm.parameters():
                p.uniform_(0.5, 1.5)
    assert repr(cm) == repr(tm)
    compare_module(torch, cm, tm, [x])
    for a, b in zip(cm.buffers(), tm.buffers()):
        close(a, b)  # running statistics after one training step
    cm.eval(), tm.eval()
    compare(torch, cm, tm, [x[0]])  # unbatched input, eval mode
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())


def test_instance_norm_errors():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(cr.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(cr.randn(2, 4, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(cr.randn(2, 3, 1))


def test_instance_norm_functional(torch):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 6)), rng.standard_normal(3), rng.standard_normal(3)
    compare(torch, lambda *a: F.instance_norm(a[0], weight=a[1], bias=a[2]),
            lambda *a: torch.nn.functional.instance_norm(a[0], weight=a[1], bias=a[2]), [x, w, b])
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    compare(torch, lambda a: F.instance_norm(a, cr.tensor(rm), cr.tensor(rv), use_input_stats=False),
            lambda a: torch.nn.functional.instance_norm(a, torch.tensor(rm), torch.tensor(rv),
                                                        use_input_stats=False), [x])


@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(2, 5, 7), (2, 6, 3, 4), (1, 5, 2, 3, 2)])
def test_local_response_norm(torch, size, shape):
    x = np.random.default_rng(2).standard_normal(shape) * 3
    kw = dict(alpha=0.3, beta=0.7, k=1.5)
    compare(torch, nn.LocalResponseNorm(size, **kw), torch.nn.LocalResponseNorm(size, **kw), [x])
    assert repr(nn.LocalResponseNorm(size, **kw)) == repr(torch.nn.LocalResponseNorm(size, **kw))
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(cr.randn(2, 3), 2)


@pytest.mark.parametrize("size,c", [(3, 7), (5, 8), (2, 3), (4, 2)])
def test_cross_map_lrn2d_forward_matches_torch(torch, size, c):
    x = np.random.default_rng(3).standard_normal((2, c, 3, 2)) * 2
    kw = dict(alpha=0.5, beta=0.75, k=2.0)
    close(nn.CrossMapLRN2d(size, **kw)(cr.tensor(x)),
          torch.nn.CrossMapLRN2d(size, **kw)(torch.tensor(x)))
    assert repr(nn.CrossMapLRN2d(size)) == repr(torch.nn.CrossMapLRN2d(size))
    xc = cr.tensor(x, requires_grad=True)  # gradient: the exact derivative of that forward
    assert cr.autograd.gradcheck(lambda a: nn.CrossMapLRN2d(size, **kw)(a), (xc,))


@pytest.mark.parametrize("ns,shape,kw", [
    (4, (3, 4), {}), ((2, 3), (2, 5, 2, 3), {"eps": 1e-3}), (3, (2, 3), {"elementwise_affine": False}),
    ((5,), (5,), {"eps": 0.5}),
])
def test_rms_norm(torch, ns, shape, kw):
    x = np.random.default_rng(4).standard_normal(shape)
    tm, cm = torch.nn.RMSNorm(ns, **kw), nn.RMSNorm(ns, **kw)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 2)
    assert repr(cm) == repr(tm)
    compare_module(torch, cm, tm, [x])
    t_ns = (ns,) if isinstance(ns, int) else ns
    compare(torch, lambda a: F.rms_norm(a, ns), lambda a: torch.nn.functional.rms_norm(a, t_ns), [x])


def test_rms_norm_default_eps_follows_dtype(torch):
    x = np.array([[1e-5, -2e-5, 0.0]], np.float32)
    close(F.rms_norm(cr.tensor(x), (3,)), torch.nn.functional.rms_norm(torch.tensor(x), (3,)), 1e-6)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.rms_norm(cr.randn(2, 3), (4,))
