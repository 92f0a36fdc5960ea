"""ResidualBlock: shapes, identity vs projection shortcut, the residual formula, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_identity_shortcut_keeps_shape_and_adds_input():
    block = nn.ResidualBlock(8, 8)
    assert block.shortcut is None
    x = cr.randn(2, 8, 6, 6)
    y = block(x)
    assert y.shape == (2, 8, 6, 6)
    residual = block.bn2(block.conv2(block.bn1(block.conv1(x)).relu()))
    np.testing.assert_allclose(y.detach().numpy(),
                               np.maximum(residual.detach().numpy() + x.numpy(), 0), atol=1e-5)


@pytest.mark.parametrize("cin,cout,stride,out_hw", [(8, 16, 1, 6), (8, 8, 2, 3), (4, 8, 2, 3)])
def test_projection_shortcut_when_shape_changes(cin, cout, stride, out_hw):
    block = nn.ResidualBlock(cin, cout, stride)
    conv, bn = block.shortcut[0], block.shortcut[1]
    assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (1, 1)
    assert conv.stride == (stride, stride) and isinstance(bn, nn.BatchNorm2d)
    x = cr.randn(2, cin, 6, 6)
    y = block(x)
    assert y.shape == (2, cout, out_hw, out_hw)
    residual = block.bn2(block.conv2(block.bn1(block.conv1(x)).relu()))
    want = np.maximum((residual + bn(conv(x))).detach().numpy(), 0)
    np.testing.assert_allclose(y.detach().numpy(), want, atol=1e-5)


def test_backward_reaches_every_parameter_and_errors():
    block = nn.ResidualBlock(3, 6, stride=2)
    x = cr.randn(2, 3, 8, 8, requires_grad=True)
    block(x).sum().backward()
    assert x.grad.shape == x.shape
    assert all(p.grad is not None for p in block.parameters())
    with pytest.raises(ValueError, match="stride"):
        nn.ResidualBlock(3, 6, stride=0)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        block(cr.randn(2, 4, 8, 8))


def test_eval_mode_uses_running_stats(torch):
    block = nn.ResidualBlock(4, 4).eval()
    tb = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1, bias=False),
                             torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                             torch.nn.Conv2d(4, 4, 3, padding=1, bias=False),
                             torch.nn.BatchNorm2d(4)).eval()
    for (_, p), src in zip(tb.state_dict().items(),
                           [block.conv1.weight] + [block.bn1.state_dict()[k] for k in
                                                   ("weight", "bias", "running_mean",
                                                    "running_var", "num_batches_tracked")]
                           + [block.conv2.weight] + [block.bn2.state_dict()[k] for k in
                                                     ("weight", "bias", "running_mean",
                                                      "running_var", "num_batches_tracked")]):
        p.copy_(torch.tensor(src.detach().numpy()))
    x = np.random.randn(2, 4, 5, 5).astype(np.float32)
    want = torch.relu(tb(torch.tensor(x)) + torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(block(cr.tensor(x)).detach().numpy(), want, atol=1e-5)
