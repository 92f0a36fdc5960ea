"""Check the hand-written NumPy networks of the benchmarks against PyTorch's autograd.

    python -m benchmarks.check_numpy

Copies the NumPy weights into the PyTorch layers, runs one batch through both and compares
the loss and every gradient (float32 tolerances). A wrong manual backward would make the
NumPy timings meaningless, so run this after changing a NumPy version.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from benchmarks._common import SEED, softmax_xent
from benchmarks.workloads import cnn, gru, mlp


def _close(name, mine, ref, failures):
    ref = ref.detach().numpy()
    err = np.abs(mine - ref).max() / (np.abs(ref).max() + 1e-12)
    status = "ok" if err < 1e-4 else "MISMATCH"
    print(f"  {name:12s} relative max error {err:.1e}  {status}")
    if status != "ok":
        failures.append(name)


def check_mlp(failures):
    print("mlp")
    x, y = mlp.teacher_data(64, 784, 10)
    net = mlp.NumpyMLP(mlp.SIZES)
    loss, d = softmax_xent(net.forward(x), y)
    grads = net.backward(d)
    Ws = [torch.tensor(W, requires_grad=True) for W in net.W]
    bs = [torch.tensor(b, requires_grad=True) for b in net.b]
    h = torch.tensor(x)
    for i, (W, b) in enumerate(zip(Ws, bs)):
        h = h @ W + b
        if i < len(Ws) - 1:
            h = h.relu()
    ref = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    ref.backward()
    print(f"  loss {loss:.6f} vs {ref.item():.6f}")
    for i, t in enumerate(Ws + bs):
        _close(f"param {i}", grads[i], t.grad, failures)


def check_cnn(failures):
    print("cnn")
    x, y = cnn._data()
    x, y = x[:16], y[:16]
    rng = np.random.default_rng(SEED)
    c1, c2 = cnn.ConvReluPool(rng, 1, 16), cnn.ConvReluPool(rng, 16, 32)
    f = c2.forward(c1.forward(np.ascontiguousarray(x.transpose(0, 2, 3, 1))))
    R = rng.standard_normal(f.shape).astype(np.float32)  # loss = sum(f * R)
    loss = float((f * R).sum())
    df = R
    d1, dW2, db2 = c2.backward(np.ascontiguousarray(df))
    _, dW1, db1 = c1.backward(d1, need_dx=False)

    def torch_weight(layer, c_in):  # rows (kh, kw, c_in) x c_out  ->  (c_out, c_in, kh, kw)
        w = layer.W.reshape(3, 3, c_in, -1).transpose(3, 2, 0, 1)
        return torch.tensor(np.ascontiguousarray(w), requires_grad=True)

    w1, w2 = torch_weight(c1, 1), torch_weight(c2, 16)
    b1 = torch.tensor(c1.b, requires_grad=True)
    b2 = torch.tensor(c2.b, requires_grad=True)
    F = torch.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), w1, b1, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
    ref = (h * torch.tensor(R.transpose(0, 3, 1, 2))).sum()
    ref.backward()
    print(f"  loss {loss:.4f} vs {ref.item():.4f}")
    _close("conv1 weight", dW1.reshape(3, 3, 1, -1).transpose(3, 2, 0, 1), w1.grad, failures)
    _close("conv1 bias", db1, b1.grad, failures)
    _close("conv2 weight", dW2.reshape(3, 3, 16, -1).transpose(3, 2, 0, 1), w2.grad, failures)
    _close("conv2 bias", db2, b2.grad, failures)


def check_gru(failures):
    print("gru")
    x, y = gru._data()
    x, y = x[:32], y[:32]
    rng = np.random.default_rng(SEED)
    g = gru.NumpyGRU(rng, 1, gru.H)
    Wl = rng.standard_normal((gru.H, 10)).astype(np.float32)
    loss, d = softmax_xent(g.forward(x) @ Wl, y)
    grads = g.backward(d @ Wl.T)
    layer = torch.nn.GRU(1, gru.H, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(g.W_ih.T))
        layer.weight_hh_l0.copy_(torch.tensor(g.W_hh.T))
        layer.bias_ih_l0.copy_(torch.tensor(g.b_ih))
        layer.bias_hh_l0.copy_(torch.tensor(g.b_hh))
    out, _ = layer(torch.tensor(x))
    ref = torch.nn.functional.cross_entropy(out[:, -1] @ torch.tensor(Wl), torch.tensor(y))
    ref.backward()
    print(f"  loss {loss:.6f} vs {ref.item():.6f}")
    _close("weight_ih", grads[0].T, layer.weight_ih_l0.grad, failures)
    _close("weight_hh", grads[1].T, layer.weight_hh_l0.grad, failures)
    _close("bias_ih", grads[2], layer.bias_ih_l0.grad, failures)
    _close("bias_hh", grads[3], layer.bias_hh_l0.grad, failures)


def main() -> int:
    failures = []
    check_mlp(failures)
    check_cnn(failures)
    check_gru(failures)
    print("all gradients match" if not failures else f"mismatches: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
