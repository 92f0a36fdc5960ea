"""The Optimizer base: groups, zero_grad, closures, state, state dicts, errors, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


def leaf(*values, dtype=cr.float32):
    return cr.tensor(list(values), dtype=dtype, requires_grad=True)


def test_param_groups_fill_defaults_and_keep_overrides():
    a, b = leaf(1.0), leaf(2.0)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["params"] == [b]
    assert all(g["momentum"] == 0.9 and g["nesterov"] is False for g in opt.param_groups)
    c = leaf(3.0)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0


def test_group_errors():
    a = leaf(1.0)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({"params": {a}}, lr=0.1)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.Momentum([a])


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid learning rate lr=-0.1 (must be >= 0)"),
    (lambda p: optim.SGD(p, momentum=-1), "SGD: invalid momentum value momentum=-1"),
    (lambda p: optim.SGD(p, nesterov=True), "nesterov momentum requires momentum > 0"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "Adam: invalid beta parameter betas[1]=1.0 (must be in [0, 1))"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Adam: invalid epsilon value eps=-1e-08"),
    (lambda p: optim.AdamW(p, weight_decay=-1), "AdamW: invalid weight decay weight_decay=-1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "RMSprop: invalid alpha value alpha=-0.5"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Adagrad: invalid learning rate decay"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Adadelta: invalid rho value rho=1.5"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "NAdam: invalid momentum decay"),
    (lambda p: optim.Momentum(p, lr=0.1, beta=1.0), "Momentum: invalid beta value beta=1.0"),
    (lambda p: optim.LineSearchGD(p, shrink=1.5), "LineSearchGD: invalid shrink=1.5"),
])
def test_bad_hyper_parameters_are_named(make, message):
    with pytest.raises(ValueError) as info:
        make([leaf(1.0)])
    assert message in str(info.value)


def test_zero_grad_set_to_none_or_zeros():
    a = leaf(1.0, 2.0)
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and np.array_equal(g._data, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_records_under_no_grad_and_returns_loss():
    a = leaf(1.0, 2.0)
    opt = optim.SGD([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()  # would fail if the closure ran with grad mode off
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(a._data, [0.8, 1.6])
    assert opt.step() is None


def test_parameters_without_grad_are_skipped_and_dtype_kept():
    a, b = leaf(1.0, 2.0), leaf(3.0, dtype=cr.float64)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b._data[0] == 3.0 and b not in opt.state
    assert a.dtype == cr.float32 and opt.state[a]["exp_avg"].dtype == cr.float32
    (b * b).sum().backward()
    opt.step()
    assert b.dtype == cr.float64 and opt.state[b]["exp_avg_sq"].dtype == cr.float64


def test_update_bumps_version_and_is_in_place():
    a = leaf(1.0)
    arr = a._data
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    v = a._version
    opt.step()
    assert a._data is arr and a._version > v


def test_state_dict_layout():
    a, b, c = leaf(1.0), leaf(2.0), leaf(3.0)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    ((a * b).sum() + c.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and "params" not in opt.param_groups[0]["betas"]
    assert set(sd["state"]) == {0, 1, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][2]["step"] == 1


def test_load_state_dict_restores_state_and_hyper_parameters():
    a = leaf(1.0, -1.0)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
    sd = opt.state_dict()
    b = leaf(*a._data.tolist())
    opt2 = optim.SGD([b], lr=0.7, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    buf = opt2.state[b]["momentum_buffer"]
    np.testing.assert_array_equal(buf._data, opt.state[a]["momentum_buffer"]._data)
    buf._data[0] = 99.0  # a copy, not shared with the source optimizer
    assert opt.state[a]["momentum_buffer"]._data[0] != 99.0


def test_load_state_dict_casts_floating_state_to_param_dtype():
    a = leaf(1.0)
    opt = optim.Adam([a])
    (a * a).sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = leaf(1.0, dtype=cr.float64)
    opt2 = optim.Adam([b])
    opt2.load_state_dict(sd)
    assert opt2.state[b]["exp_avg"].dtype == cr.float64


def test_load_state_dict_errors():
    a, b = leaf(1.0), leaf(2.0)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict but 1"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 3 parameter groups but the optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(
            {"state": {}, "param_groups": sd["param_groups"] * 3})
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a], lr=0.1).load_state_dict({"weight": 1})


def test_adagrad_state_exists_from_construction():
    a = leaf(1.0, 2.0)
    opt = optim.Adagrad([a], initial_accumulator_value=0.3)
    assert opt.state[a]["step"] == 0
    np.testing.assert_allclose(opt.state[a]["sum"]._data, [0.3, 0.3])


def test_repr_lists_groups():
    text = repr(optim.SGD([leaf(1.0)], lr=0.1))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.1" in text


def test_step_creates_no_tensors_per_parameter(monkeypatch):
    # the hot path works on arrays: Tensor._make is only used for new state entries
    params = [leaf(1.0, 2.0) for _ in range(5)]
    opt = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = cr.ones(2)
    opt.step()
    calls = []
    orig = cr.Tensor._make
    monkeypatch.setattr(cr.Tensor, "_make", classmethod(
        lambda cls, *a: calls.append(1) or orig(*a)))
    opt.step()
    assert calls == []
