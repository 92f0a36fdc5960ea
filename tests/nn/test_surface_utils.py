"""torch.nn surface: nn.utils against PyTorch -- weight_norm / spectral_norm (hooks and
parametrizations), parametrize, orthogonal (matrix_exp, cayley, householder), pruning,
fusion, stateless.functional_call, skip_init, clip_grads_with_norm_."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import parametrizations, parametrize, prune
from tests.nn.test_surface_util import close


def _load(cm, tm):
    """Copy every entry of torch's state dict into chainrule's module (float64)."""
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _run_both(torch, cm, tm, x, steps=1):
    """Forward + backward of sum(out * r) on both; returns (cr out, torch out)."""
    r = np.random.default_rng(9).standard_normal
    for _ in range(steps):
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yc, yt = cm(xc), tm(xt)
        proj = r(tuple(yt.shape))
        (yc * cr.tensor(proj)).sum().backward()
        (yt * torch.tensor(proj)).sum().backward()
        close(yc, yt)
        close(xc.grad, xt.grad)
    for (n1, p1), (n2, p2) in zip(cm.named_parameters(), tm.named_parameters()):
        assert n1 == n2
        close(p1.grad, p2.grad)
    return yc, yt


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
@pytest.mark.parametrize("make,dim", [(lambda m: m.Linear(4, 3), 0), (lambda m: m.Linear(4, 3), None),
                                      (lambda m: m.Conv2d(2, 3, 2), 1)])
def test_weight_norm_hook(torch, make, dim):
    with pytest.warns(FutureWarning):
        cm = nn.utils.weight_norm(make(nn).double(), dim=dim)
    tm = torch.nn.utils.weight_norm(make(torch.nn).double(), dim=dim)
    assert list(cm.state_dict()) == list(tm.state_dict())
    _load(cm, tm)
    x = np.random.default_rng(0).standard_normal((2, 4) if dim != 1 else (2, 2, 4, 4))
    _run_both(torch, cm, tm, x)
    nn.utils.remove_weight_norm(cm)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    close(cm.weight, tm.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(cm)


@pytest.mark.parametrize("make,shape", [(lambda m: m.Linear(5, 4), (3, 5)),
                                        (lambda m: m.ConvTranspose2d(3, 2, 2), (1, 3, 3, 3))])
def test_spectral_norm_hook(torch, make, shape):
    cm = nn.utils.spectral_norm(make(nn).double(), n_power_iterations=2)
    tm = torch.nn.utils.spectral_norm(make(torch.nn).double(), n_power_iterations=2)
    assert list(cm.state_dict()) == list(tm.state_dict())
    _load(cm, tm)  # the same starting u, v
    x = np.random.default_rng(1).standard_normal(shape)
    _run_both(torch, cm, tm, x, steps=2)
    close(cm.weight_u, tm.weight_u)
    close(cm.weight_v, tm.weight_v)
    cm.eval(), tm.eval()
    _run_both(torch, cm, tm, x)
    nn.utils.remove_spectral_norm(cm)
    torch.nn.utils.remove_spectral_norm(tm)
    close(cm.weight, tm.weight)
    assert list(cm.state_dict()) == list(tm.state_dict())


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
def test_parametrized_weight_norm_and_old_checkpoints(torch):
    cm = parametrizations.weight_norm(nn.Linear(4, 3).double())
    tm = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3).double())
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert repr(cm) == repr(tm)
    _load(cm, tm)
    _run_both(torch, cm, tm, np.random.default_rng(2).standard_normal((2, 4)))
    old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3).double())
    fresh = parametrizations.weight_norm(nn.Linear(4, 3).double())
    _load(fresh, old)  # weight_g / weight_v keys map onto original0 / original1
    close(fresh.weight, old.weight)


def test_parametrized_spectral_norm(torch):
    cm = parametrizations.spectral_norm(nn.Conv2d(2, 3, 2).double())
    tm = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Conv2d(2, 3, 2).double())
    assert list(cm.state_dict()) == list(tm.state_dict())
    _load(cm, tm)
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 4))
    _run_both(torch, cm, tm, x, steps=2)
    close(cm.parametrizations.weight[0]._u, tm.parametrizations.weight[0]._u)
    sigma = np.linalg.svd(cm.weight.detach().numpy().reshape(3, -1), compute_uv=False)[0]
    assert abs(sigma - 1) < 0.05  # 15 iterations at registration + 2 steps


@pytest.mark.parametrize("shape", [(5, 5), (6, 3), (3, 6), (2, 4, 4)])
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("triv", [True, False])
def test_orthogonal(torch, shape, omap, triv):
    tm, cm = torch.nn.Module(), nn.Module()
    tm.weight = torch.nn.Parameter(torch.randn(*shape, dtype=torch.float64))
    cm.weight = nn.Parameter(cr.randn(*shape, dtype=cr.float64))
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=omap, use_trivialization=triv)
    parametrizations.orthogonal(cm, orthogonal_map=omap, use_trivialization=triv)
    assert list(cm.state_dict()) == list(tm.state_dict())
    _load(cm, tm)
    close(cm.weight, tm.weight, 1e-9)
    w = cm.weight.detach().numpy()
    gram = np.swapaxes(w, -1, -2) @ w if shape[-2] >= shape[-1] else w @ np.swapaxes(w, -1, -2)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(min(shape[-2:])), gram.shape),
                               atol=1e-9)
    g = np.random.default_rng(4).standard_normal(shape)
    (cm.weight * cr.tensor(g)).sum().backward()
    (tm.weight * torch.tensor(g)).sum().backward()
    close(cm.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad, 1e-8)
    if triv:  # assignment stores an orthogonal base and resets the original to -I
        q = np.linalg.qr(np.random.default_rng(5).standard_normal(shape[:-2] + (max(shape[-2:]),) * 2))[0]
        q = q[..., :shape[-2], :shape[-1]]
        cm.weight = cr.tensor(q.copy())
        close(cm.weight, q, 1e-9)


def _triu(x, k=0):
    return x * cr.tensor(np.triu(np.ones(x.shape), k), dtype=x.dtype)


class Symmetric(nn.Module):
    def forward(self, x):
        return _triu(x) + _triu(x, 1).mT

    def right_inverse(self, a):
        return _triu(a)


class Double(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, a):
        return a / 2


def test_parametrize_api():
    m = nn.Linear(3, 3)
    w_param = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and parametrize.is_parametrized(m, "weight")
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    assert m.parametrizations.weight.original is w_param  # optimizers keep their reference
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    parametrize.register_parametrization(m, "weight", Double())  # chained
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * w)
    target = np.array([[1.0, 2, 3], [2, 4, 5], [3, 5, 6]], np.float32)
    m.weight = cr.tensor(target)
    np.testing.assert_allclose(m.weight.detach().numpy(), target)
    with parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    m(cr.randn(2, 3)).sum().backward()
    assert w_param.grad is not None
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), target)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(m, "weight")

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:2]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    other = nn.Linear(3, 3)
    src = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    parametrize.transfer_parametrizations_and_params(src, other)
    close(other.weight, src.weight)


def test_prune_like_torch(torch):
    import torch.nn.utils.prune  # noqa: F401  (not imported by torch.nn.utils itself)

    def pair():
        tm = torch.nn.Linear(6, 5).double()
        cm = nn.Linear(6, 5).double()
        _load(cm, tm)
        return cm, tm

    cm, tm = pair()
    prune.l1_unstructured(cm, "weight", amount=0.3)
    torch.nn.utils.prune.l1_unstructured(tm, "weight", amount=0.3)
    prune.ln_structured(cm, "weight", amount=2, n=2, dim=0)  # a PruningContainer now
    torch.nn.utils.prune.ln_structured(tm, "weight", amount=2, n=2, dim=0)
    prune.l1_unstructured(cm, "bias", amount=1)
    torch.nn.utils.prune.l1_unstructured(tm, "bias", amount=1)
    assert list(cm.state_dict()) == list(tm.state_dict())
    close(cm.weight_mask, tm.weight_mask)
    close(cm.bias_mask, tm.bias_mask)
    _run_both(torch, cm, tm, np.random.default_rng(6).standard_normal((3, 6)))
    assert prune.is_pruned(cm)
    prune.remove(cm, "weight"), prune.remove(cm, "bias")
    torch.nn.utils.prune.remove(tm, "weight"), torch.nn.utils.prune.remove(tm, "bias")
    assert not prune.is_pruned(cm) and list(cm.state_dict()) == list(tm.state_dict())
    close(cm.weight, tm.weight)
    (c1, t1), (c2, t2) = pair(), pair()
    prune.global_unstructured([(c1, "weight"), (c2, "weight")], prune.L1Unstructured, amount=0.4)
    torch.nn.utils.prune.global_unstructured([(t1, "weight"), (t2, "weight")],
                                             torch.nn.utils.prune.L1Unstructured, amount=0.4)
    close(c1.weight_mask, t1.weight_mask)
    close(c2.weight_mask, t2.weight_mask)
    r = prune.random_structured(nn.Linear(6, 5), "weight", amount=0.4, dim=1)
    assert (r.weight_mask.numpy().sum(0) == 0).sum() == 2
    r = prune.random_unstructured(nn.Linear(10, 10), "weight", amount=13)
    assert int((r.weight_mask.numpy() == 0).sum()) == 13
    with pytest.raises(ValueError, match="should be smaller than"):
        prune.l1_unstructured(nn.Linear(2, 2), "bias", amount=5)


def test_fusion(torch):
    for kind in ("conv", "convT", "linear"):
        if kind == "linear":
            t1, t2 = torch.nn.Linear(4, 3).double().eval(), torch.nn.BatchNorm1d(3).double().eval()
            c1, c2 = nn.Linear(4, 3).double().eval(), nn.BatchNorm1d(3).double().eval()
            x = np.random.default_rng(7).standard_normal((5, 4))
        else:
            maker = "Conv2d" if kind == "conv" else "ConvTranspose2d"
            t1 = getattr(torch.nn, maker)(2, 3, 2).double().eval()
            c1 = getattr(nn, maker)(2, 3, 2).double().eval()
            t2, c2 = torch.nn.BatchNorm2d(3).double().eval(), nn.BatchNorm2d(3).double().eval()
            x = np.random.default_rng(7).standard_normal((2, 2, 4, 4))
        with torch.no_grad():
            for t in (t2.running_mean, t2.running_var, t2.weight, t2.bias):
                t.uniform_(0.5, 1.5)
        _load(c1, t1), _load(c2, t2)
        if kind == "linear":
            cf = nn.utils.fuse_linear_bn_eval(c1, c2)
            tf = torch.nn.utils.fuse_linear_bn_eval(t1, t2)
        else:
            cf = nn.utils.fuse_conv_bn_eval(c1, c2, transpose=kind == "convT")
            tf = torch.nn.utils.fuse_conv_bn_eval(t1, t2, transpose=kind == "convT")
        close(cf(cr.tensor(x)), tf(torch.tensor(x)))
        close(cf(cr.tensor(x)), c2(c1(cr.tensor(x))))
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_conv_bn_eval(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))


def test_stateless_skip_init_and_clip(torch):
    lin = nn.Linear(3, 2)
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        y = nn.utils.stateless.functional_call(lin, {"weight": cr.zeros(2, 3)}, (cr.ones(1, 3),))
    close(y, lin.bias.detach().numpy()[None])
    m = nn.utils.skip_init(nn.Linear, 5, 4)
    assert type(m) is nn.Linear and tuple(m.weight.shape) == (4, 5)
    grads = [np.random.default_rng(8).standard_normal((3, 4)) * 5, np.ones(3)]
    cps = [nn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, q, g in zip(cps, tps, grads):
        p.grad, q.grad = cr.tensor(g), torch.tensor(g)
    total = nn.utils.get_total_norm([p.grad for p in cps])
    nn.utils.clip_grads_with_norm_(cps, 1.0, total)
    torch.nn.utils.clip_grads_with_norm_(tps, 1.0, torch.nn.utils.get_total_norm([q.grad for q in tps]))
    for p, q in zip(cps, tps):
        close(p.grad, q.grad)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        nn.utils.clip_grad_norm(cps, 1.0)
