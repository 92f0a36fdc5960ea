"""torch.nn surface: the Module API against PyTorch -- forward hooks with kwargs and
always_call, full backward (pre-)hooks, state-dict hooks and the _save_to_state_dict /
_load_from_state_dict protocol, extra state, set_submodule, to_empty, _apply, refusals."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from tests.nn.test_surface_util import close


def _pair(torch, make):
    cm, tm = make(nn).double(), make(torch.nn).double()
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return cm, tm


class Scale(nn.Module):
    def forward(self, x, *, factor=1.0):
        if factor < 0:
            raise ValueError("negative")
        return x * factor


def test_forward_hooks_with_kwargs_prepend_and_always_call():
    m, calls = Scale(), []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, args: calls.append("first"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["factor"], with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: calls.append("always"), always_call=True)
    assert m(cr.tensor([1.0])).item() == 6.0 and calls == ["first", "always"]
    m2 = Scale()
    m2.register_forward_hook(lambda mod, args, out: calls.append(("after error", out)),
                             always_call=True)
    with pytest.raises(ValueError, match="negative"):
        m2(cr.tensor([1.0]), factor=-1.0)
    assert calls[-1] == ("after error", None)
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="new_args, new_kwargs"):
        bad(cr.tensor([1.0]))


def test_global_forward_hook_with_kwargs():
    seen = []
    h = nn.modules.module.register_module_forward_pre_hook(
        lambda mod, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    try:
        Scale()(cr.tensor([1.0]), factor=2.0)
    finally:
        h.remove()
    assert seen == [{"factor": 2.0}]


def _seq(m):
    return m.Sequential(m.Linear(3, 4), m.Tanh(), m.Linear(4, 2))


def _numpy(grads):
    return [None if g is None else g.detach().numpy().copy() for g in grads]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_full_backward_hooks_match_torch(torch, x_requires_grad):
    cm, tm = _pair(torch, _seq)
    seen = {"cr": [], "torch": []}

    def hooks(model, key):
        def pre(mod, grad_output):
            seen[key].append(("pre", _numpy(grad_output)))
            return tuple(g * 2 for g in grad_output)

        def full(mod, grad_input, grad_output):
            seen[key].append(("full", _numpy(grad_input), _numpy(grad_output)))
            return tuple(g + 1 for g in grad_input)

        model[2].register_full_backward_pre_hook(pre)
        model[2].register_full_backward_hook(full)
        model[0].register_full_backward_hook(
            lambda m, gi, go: seen[key].append(("first", _numpy(gi), _numpy(go))))

    hooks(cm, "cr")
    hooks(tm, "torch")
    x = np.random.default_rng(0).standard_normal((5, 3))
    xc = cr.tensor(x, requires_grad=x_requires_grad)
    xt = torch.tensor(x, requires_grad=x_requires_grad)
    cm(xc).pow(2).sum().backward()
    tm(xt).pow(2).sum().backward()
    if x_requires_grad:
        close(xc.grad, xt.grad)
    for a, b in zip(cm.parameters(), tm.parameters()):
        close(a.grad, b.grad)
    assert [s[0] for s in seen["cr"]] == [s[0] for s in seen["torch"]] == ["pre", "full", "first"]
    for a, b in zip(seen["cr"], seen["torch"]):
        for ga, gb in zip(a[1:], b[1:]):
            assert len(ga) == len(gb)
            for u, v in zip(ga, gb):
                assert (u is None) == (v is None)
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-10)


def test_backward_hook_errors_and_global_backward_hook():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        lin(cr.randn(3, 2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match="both regular backward hooks and full"):
        lin.register_backward_hook(lambda *a: None)
    names = []
    h = nn.modules.module.register_module_full_backward_hook(
        lambda m, gi, go: names.append(type(m).__name__))
    try:
        _seq(nn)(cr.randn(2, 3, requires_grad=True)).sum().backward()
        assert names == ["Linear", "Tanh", "Linear", "Sequential"]  # PyTorch's order
        names.clear()
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            _seq(nn)(cr.randn(2, 3)).sum().backward()
        assert names == ["Sequential", "Linear", "Tanh", "Linear"]  # fired at the outputs
    finally:
        h.remove()


class WithExtra(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.steps = 0

    def get_extra_state(self):
        return {"steps": self.steps}

    def set_extra_state(self, state):
        self.steps = state["steps"]

    def forward(self, x):
        return self.lin(x)


def test_extra_state_roundtrip_like_torch(torch):
    m = WithExtra()
    m.steps = 7
    sd = m.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"]  # own state first, as torch
    other = WithExtra()
    other.load_state_dict(sd)
    assert other.steps == 7
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        other.load_state_dict(sd)


class Renamed(nn.Module):
    """Loads checkpoints written when the layer was called ``old``."""

    def __init__(self):
        super().__init__()
        self.new = nn.Linear(2, 2)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        for k in [k for k in state_dict if k.startswith(prefix + "old.")]:
            state_dict[prefix + "new." + k[len(prefix) + 4:]] = state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


def test_load_from_state_dict_override_and_prefixes():
    src = nn.Sequential(OrderedDict(block=nn.Sequential(OrderedDict(old=nn.Linear(2, 2)))))
    dst = nn.Sequential(OrderedDict(block=Renamed()))
    dst.load_state_dict(src.state_dict())
    close(dst.block.new.weight, src.block.old.weight)
    assert list(nn.Linear(1, 1).state_dict(prefix="head.")) == ["head.weight", "head.bias"]
    sd = src.state_dict()
    assert sd._metadata["block.old"] == {"version": 1}


def test_state_dict_and_load_hooks(torch):
    for lib in (nn, torch.nn):
        m = lib.Linear(2, 3)
        calls = []
        m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(("pre", prefix)))
        m.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta: sd.__setitem__(prefix + "note", sd[prefix + "bias"] * 0))
        sd = m.state_dict()
        assert calls == [("pre", "")] and list(sd) == ["weight", "bias", "note"]
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"only": sd["weight"]})
        assert list(m.state_dict()) == ["only"]
        m2 = lib.Linear(2, 3)
        m2.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, *rest: sd.pop(prefix + "note", None))
        m2.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        result = m2.load_state_dict({"weight": sd["weight"], "note": sd["note"]})
        assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []


def test_load_is_atomic_when_a_shape_mismatches():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 3))
    before = net[0].weight.detach().numpy().copy()
    sd = {k: v + 1 for k, v in net.state_dict().items()}
    sd["1.weight"] = cr.zeros(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        net.load_state_dict(sd)
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), before)


def test_set_submodule_to_empty_apply_and_refusals(torch):
    m = _seq(nn)
    m.set_submodule("1", nn.ReLU())
    assert isinstance(m[1], nn.ReLU)
    with pytest.raises(AttributeError, match="has no attribute `x`"):
        m.set_submodule("x", nn.ReLU(), strict=True)
    with pytest.raises(ValueError, match="not an nn.Module"):
        m.set_submodule("1", 3)
    w = m[0].weight
    assert m.to_empty(device="cpu") is m and m[0].weight is w and w.shape == (4, 3)
    m._apply(lambda t: t * 0)
    assert not m[0].weight.detach().numpy().any() and m[0].weight is w
    with pytest.raises(TypeError, match="bfloat16"):
        m.bfloat16()
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()
    with pytest.warns(UserWarning, match="eagerly"):
        m.compile()
    assert m._call_impl(cr.randn(1, 3)).shape == (1, 2)
    from chainrule.nn.modules.module import _IncompatibleKeys  # noqa: F401

    with pytest.raises(NotImplementedError, match="registration"):
        nn.modules.module.register_module_buffer_registration_hook(lambda *a: None)
    assert sorted(n for n in dir(torch.nn.Module) if not n.startswith("__")
                  and not hasattr(nn.Module, n)) == []
