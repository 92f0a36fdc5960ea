"""PyTorch's torch.func tutorials as their authors wrote them (model ensembling with a
``.to('meta')`` base model, per-sample gradients through ``F.nll_loss``), and the pieces
they needed: the meta device for modules (chainrule/_meta.py) and class-index losses under
vmap (their checks and 'mean' denominator read no values). Creating tensors with
``device="meta"`` directly is not covered: creation functions ignore ``device``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.func import functional_call, grad, stack_module_state, vmap


class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def test_model_ensembling_with_a_meta_base_model():
    cr.manual_seed(0)
    models = [_MLP() for _ in range(4)]
    data = cr.randn(4, 8, 3, 4)
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(params, buffers, x):
        return functional_call(base, (params, buffers), (x,))

    got = vmap(fmodel)(params, buffers, data)
    want = cr.stack([m(x) for m, x in zip(models, data)])
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    same = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, data[0])
    np.testing.assert_allclose(same.detach().numpy(),
                               cr.stack([m(data[0]) for m in models]).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_meta_modules_as_torch(torch):
    for lib in (torch, cr):
        m = lib.nn.Linear(3, 2).to("meta")
        assert m.weight.is_meta and str(m.weight.device) == "meta"
        assert tuple(m.weight.shape) == (2, 3) and m.weight.requires_grad
        assert repr(m.bias.detach()) == "tensor(..., device='meta', size=(2,))"
        m2 = copy.deepcopy(m)
        assert m2.weight.is_meta
        m.to_empty(device="cpu")
        assert not m.weight.is_meta and str(m.weight.device) == "cpu"
        assert m(lib.ones(1, 3)).shape == (1, 2)
    m = cr.nn.Linear(3, 2).to("meta")
    with pytest.raises(RuntimeError, match="'meta' device has no data"):
        m(cr.ones(1, 3))
    with pytest.raises(RuntimeError, match="'meta' device has no data"):
        m.weight.sum().item()


def test_per_sample_gradients_through_nll_loss_as_torch(torch):
    """The tutorial's vmap(grad(loss)) with F.nll_loss equals the per-sample loop (and
    torch's own result for the same weights)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 12)).astype(np.float32)
    x = rng.standard_normal((6, 12)).astype(np.float32)
    y = np.array([0, 3, 1, 4, 2, 2])
    out = {}
    for lib, fc in ((torch, torch.func), (cr, cr.func)):
        lin = lib.nn.Linear(12, 5, bias=False)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
        params = {k: v.detach() for k, v in lin.named_parameters()}

        def loss(params, sample, target, lib=lib, lin=lin, fc=fc):
            pred = fc.functional_call(lin, params, (sample.unsqueeze(0),))
            return lib.nn.functional.nll_loss(lib.nn.functional.log_softmax(pred, 1),
                                              target.unsqueeze(0))

        g = fc.vmap(fc.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(x), lib.tensor(y))
        out[lib.__name__] = g["weight"].detach().numpy()
    np.testing.assert_allclose(out["chainrule"], out["torch"], rtol=1e-5, atol=1e-6)
    # cross_entropy with class weights and ignore_index, mean reduction, under vmap
    wt = cr.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    lin = cr.nn.Linear(12, 5, bias=False)

    def ce(p, sample, target):
        pred = functional_call(lin, p, (sample.unsqueeze(0),))
        return F.cross_entropy(pred, target.unsqueeze(0), weight=wt, ignore_index=2)

    p = {"weight": cr.tensor(w)}
    per = vmap(grad(ce), in_dims=(None, 0, 0))(p, cr.tensor(x), cr.tensor(y))["weight"]
    for i in range(6):
        ref = grad(ce)(p, cr.tensor(x[i]), cr.tensor(y[i]))["weight"]
        np.testing.assert_allclose(per[i].numpy(), ref.numpy(), rtol=1e-5, atol=1e-7)
    with pytest.raises(IndexError, match="out of bounds"):
        vmap(grad(ce), in_dims=(None, 0, 0))(p, cr.tensor(x), cr.tensor(y + 5))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_class_losses_under_vmap_equal_the_loop(reduction):
    """nll_loss, cross_entropy (class weights, ignore_index) and multi_margin_loss (class
    weights), per example under vmap, equal the per-example loop (the class weights were
    read for the first example only under vmap)."""
    wt = cr.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    x = cr.randn(6, 5)
    y = cr.tensor([0, 3, 1, 4, 2, 2])
    losses = (
        lambda a, b, **k: F.cross_entropy(a, b, ignore_index=2, **k),
        lambda a, b, **k: F.nll_loss(a.log_softmax(1), b, ignore_index=2, **k),
        F.multi_margin_loss,
    )
    for loss in losses:
        def one(a, b, loss=loss):
            return loss(a.unsqueeze(0), b.unsqueeze(0), weight=wt, reduction=reduction)

        batched = vmap(one)(x, y).numpy()
        looped = cr.stack([one(x[i], y[i]) for i in range(6)]).numpy()
        np.testing.assert_allclose(batched, looped, rtol=1e-6, equal_nan=True)
