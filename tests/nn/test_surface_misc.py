"""torch.nn surface: AdaptiveLogSoftmaxWithLoss, torch.nn.grad, grouped_mm, nn.Container,
nn.factory_kwargs, common_types and the rest of nn.functional's namespace, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.nn.test_surface_util import close, compare, compare_module


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax(torch, head_bias):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], div_value=2.0,
                                             head_bias=head_bias)
    cm = nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], div_value=2.0, head_bias=head_bias)
    assert repr(cm) == repr(tm)
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((9, 16)), np.array([0, 4, 5, 11, 12, 19, 20, 29, 3])
    compare_module(torch, cm, tm, [x, t])
    close(cm.log_prob(cr.tensor(x)), tm.log_prob(torch.tensor(x)))
    np.testing.assert_array_equal(cm.predict(cr.tensor(x)).numpy(),
                                  tm.predict(torch.tensor(x)).numpy())
    out, loss = cm(cr.tensor(x[0]), cr.tensor(t[3]))  # unbatched
    ref = tm(torch.tensor(x[0]), torch.tensor(t[3]))
    close(out, ref.output), close(loss, ref.loss)
    with pytest.raises(RuntimeError, match="Target values should be in"):
        cm(cr.tensor(x[:1]), cr.tensor([30]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_nn_grad(torch, nd):
    import torch.nn.grad  # noqa: F401

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4) + (5,) * nd)
    w = rng.standard_normal((6, 2) + (3,) * nd)
    kw = dict(stride=2, padding=1, groups=2)
    out = getattr(torch.nn.functional, f"conv{nd}d")(torch.tensor(x), torch.tensor(w), **kw)
    g = rng.standard_normal(tuple(out.shape))
    ci = getattr(nn.grad, f"conv{nd}d_input")(x.shape, cr.tensor(w), cr.tensor(g), **kw)
    ti = getattr(torch.nn.grad, f"conv{nd}d_input")(x.shape, torch.tensor(w), torch.tensor(g), **kw)
    close(ci, ti)
    cw = getattr(nn.grad, f"conv{nd}d_weight")(cr.tensor(x), w.shape, cr.tensor(g), **kw)
    tw = getattr(torch.nn.grad, f"conv{nd}d_weight")(torch.tensor(x), w.shape, torch.tensor(g), **kw)
    close(cw, tw)


def test_grouped_mm(torch):
    rng = np.random.default_rng(2)
    offs = np.array([2, 5, 8], np.int32)
    cases = [((8, 16), (3, 16, 8), offs), ((3, 8, 16), (16, 8), np.array([4, 4, 8], np.int32)),
             ((8, 16), (16, 8), np.array([8, 16], np.int32)), ((3, 8, 16), (3, 16, 8), None)]
    for sa, sb, off in cases:
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        kw_c = {} if off is None else {"offs": cr.tensor(off)}
        kw_t = {} if off is None else {"offs": torch.tensor(off)}
        compare(torch, lambda x, y: F.grouped_mm(x, y, **kw_c),
                lambda x, y: torch.nn.functional.grouped_mm(x, y, **kw_t), [a, b], tol=1e-4)
    with pytest.raises(NotImplementedError, match="float8"):
        F.scaled_mm(cr.ones(2, 2), cr.ones(2, 2), None, F.ScalingType.TensorWise, None,
                    F.ScalingType.TensorWise)


def test_functional_namespace_helpers():
    assert F.has_torch_function((cr.ones(1),)) is False
    assert F.has_torch_function_unary(cr.ones(1)) is False
    assert F.has_torch_function_variadic(cr.ones(1), 2) is False
    f = F.boolean_dispatch("flag", 1, False, lambda x, flag=False: ("true", x),
                           lambda x, flag=False: ("false", x), "m", "f")
    assert f(1) == ("false", 1) and f(1, True) == ("true", 1) and f(1, flag=True)[0] == "true"
    F.assert_int_or_pair(3, "k", "{} bad")
    with pytest.raises(AssertionError, match="k bad"):
        F.assert_int_or_pair((1, 2, 3), "k", "{} bad")
    assert F.Tensor is cr.Tensor


def test_container_factory_kwargs_common_types(torch):
    with pytest.warns(UserWarning, match="nn.Container is deprecated"):
        c = nn.Container(a=nn.Linear(2, 2), b=nn.ReLU())
    assert list(dict(c.named_children())) == ["a", "b"]
    kw = {"device": "cpu", "dtype": cr.float64}
    assert nn.factory_kwargs(kw) == torch.nn.factory_kwargs(kw)
    assert nn.factory_kwargs({"factory_kwargs": {"dtype": 1}}) == {"dtype": 1}
    with pytest.raises(TypeError, match="unexpected kwargs"):
        nn.factory_kwargs({"bad": 1})
    from chainrule.nn.common_types import _size_2_t, _size_any_t  # noqa: F401
