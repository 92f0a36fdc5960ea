"""The module system: registration, iteration, state_dict, load errors, repr, modes, hooks,
containers, dtype conversion, Parameter and summary."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))
        self.scale = nn.Parameter(cr.ones(1))
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("cache", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.bn(self.fc(x))) * self.scale


def test_parameter_is_a_tensor_and_works_in_ops():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    t = cr.zeros(3)
    assert nn.Parameter(t)._data is t._data  # shares data
    assert type(p + 1) is cr.Tensor


def test_registration_and_iteration_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias", "head.1.weight",
                     "head.1.bias"]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["fc", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "bn", "head", "head.0", "head.1"]
    assert [n for n, _ in net.named_parameters(prefix="m", recurse=False)] == ["m.scale"]
    assert net.get_submodule("head.1") is net.head[1]
    assert net.get_parameter("head.1.bias") is net.head[1].bias
    with pytest.raises(AttributeError, match="no submodule"):
        net.get_submodule("head.7")


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_setattr_rules():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        net.scale = cr.zeros(1)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    net.fc = nn.Identity()
    assert "fc.weight" not in net.state_dict()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        _ = net.nope

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        net.register_parameter("forward", None)
    del net.steps
    assert "steps" not in net.state_dict()


def test_state_dict_keys_and_roundtrip():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc.weight", "fc.bias", "bn.weight", "bn.bias",
                        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                        "head.1.weight", "head.1.bias"]
    assert not sd["fc.weight"].requires_grad
    assert sd["bn.num_batches_tracked"].dtype == cr.int64
    other = Net()
    w_before = other.fc.weight
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert other.fc.weight is w_before  # loaded in place: optimizers keep their references
    x = cr.randn(5, 4)
    net.eval()
    other.eval()
    np.testing.assert_array_equal(net(x).detach().numpy(), other(x).detach().numpy())
    sd["fc.weight"].numpy()[...] = 0  # state_dict values share memory with the module
    assert float(net.fc.weight.abs().sum()) == 0.0


def test_load_state_dict_errors_list_every_problem():
    net = Net()
    sd = net.state_dict()
    del sd["fc.bias"]
    sd["extra.weight"] = cr.zeros(1)
    sd["head.1.weight"] = cr.zeros(5, 3)
    with pytest.raises(RuntimeError) as e:
        Net().load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert "size mismatch for head.1.weight" in msg and "(5, 3)" in msg and "(2, 3)" in msg
    del sd["head.1.weight"]
    result = Net().load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc.bias", "head.1.weight"]
    assert result.unexpected_keys == ["extra.weight"]


def test_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 1))
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=13, out_features=32, "
                           "bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=32, "
                           "out_features=1, bias=True)\n)")
    nested = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Tanh()), out=nn.Dropout(0.2)))
    assert repr(nested) == ("Sequential(\n  (block): Sequential(\n    (0): Tanh()\n  )\n"
                            "  (out): Dropout(p=0.2, inplace=False)\n)")
    assert repr(nn.BatchNorm1d(3)) == ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")  # torch 2.13
    assert repr(nn.LayerNorm(5)) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    assert net.training and net.head[0].training
    net.eval()
    assert not net.training and not net.head[1].training
    net.train()
    assert net.bn.training
    net(cr.randn(6, 4)).sum().backward()
    assert net.fc.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(net.fc.weight.grad.abs().sum()) == 0.0
    net.zero_grad()
    assert net.fc.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.fc.weight
    net.double()
    assert net.fc.weight is w and w.dtype == cr.float64
    assert net.bn.running_mean.dtype == cr.float64
    assert net.bn.num_batches_tracked.dtype == cr.int64
    assert net(cr.randn(3, 4, dtype=cr.float64)).dtype == cr.float64
    net.to(cr.float32)
    assert w.dtype == cr.float32
    assert net.to("cpu") is net
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)) or out + 1)
    out = lin(cr.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.tile(lin.bias.detach().numpy() + 1,
                                                             (3, 1)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    out = lin(cr.ones(3, 2))
    assert calls == [(3, 2)]
    np.testing.assert_allclose(out.detach().numpy(),
                               (cr.ones(3, 2) @ lin.weight.T + lin.bias).detach().numpy())


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and list(ml.state_dict())[0] == "0.weight"
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.Tanh()})
    assert list(md.keys()) == ["a", "b"] and "a.weight" in md.state_dict()
    pl = nn.ParameterList([cr.zeros(2), nn.Parameter(cr.ones(1))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(list(pl.parameters())) == 2
    pd = nn.ParameterDict({"w": cr.zeros(2)})
    assert list(pd.state_dict()) == ["w"]
    assert nn.Identity(3, foo=1)(cr.ones(2)).tolist() == [1.0, 1.0]
    x = cr.randn(2, 3, 4)
    assert tuple(nn.Flatten()(x).shape) == (2, 12)
    assert tuple(nn.Unflatten(1, (2, 6))(nn.Flatten()(x)).shape) == (2, 2, 6)


def test_summary_reports_shapes_and_counts(capsys):
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 1))
    model.train()
    text = cr.summary(model, (1, 13))
    assert text == capsys.readouterr().out.rstrip("\n")
    lines = text.splitlines()
    row0 = next(line for line in lines if line.startswith("0 (Linear)"))
    assert "[1, 32]" in row0 and row0.endswith("448")
    row2 = next(line for line in lines if line.startswith("2 (Linear)"))
    assert "[1, 1]" in row2 and row2.endswith("33")
    assert "Total params: 481" in lines and "Trainable params: 481" in lines
    assert model.training  # mode restored
    assert not model[0]._forward_hooks  # hooks removed


def test_call_without_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(cr.ones(1))
