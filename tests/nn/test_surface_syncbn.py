"""torch.nn surface: SyncBatchNorm. On two MPI processes (this file is also the worker), a
model whose batch is split across ranks must give, for each rank's slice, the outputs,
input gradients, summed parameter gradients and running statistics of one BatchNorm on the
whole batch; in one process it is BatchNorm."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import nn


def _reference_and_slices(rank, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 4, 2)) * 2 + 1
    proj = rng.standard_normal(x.shape)
    rows = slice(rank * 8 // size, (rank + 1) * 8 // size)
    return x, proj, rows


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-10, atol=1e-10)


def _run_worker():
    from chainrule import distributed as dist

    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    x, proj, rows = _reference_and_slices(rank, size)
    ref = nn.BatchNorm2d(3, momentum=0.3).double()
    xr = cr.tensor(x, requires_grad=True)
    ref_out = ref(xr)
    (ref_out * cr.tensor(proj)).sum().backward()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3, momentum=0.3)))
    model = model.double()
    xs = cr.tensor(x[rows], requires_grad=True)
    out = model(xs)
    (out * cr.tensor(proj[rows])).sum().backward()
    _close(out, ref_out.detach().numpy()[rows])
    bn = model[0]
    for p in bn.parameters():
        dist.all_reduce(p.grad)
    _close(xs.grad, xr.grad.numpy()[rows])
    for a, b in [(bn.weight.grad, ref.weight.grad), (bn.bias.grad, ref.bias.grad),
                 (bn.running_mean, ref.running_mean), (bn.running_var, ref.running_var)]:
        _close(a, b.numpy())
    print("ok", rank)
    dist.destroy_process_group()


def test_sync_batchnorm_on_two_processes():
    from tests.distributed import _mpi

    out = _mpi.check(_mpi.run(2, "../../nn/test_surface_syncbn"))
    assert out.count("ok") == 2


def test_sync_batchnorm_single_process_is_batchnorm(torch):
    x = np.random.default_rng(1).standard_normal((4, 3, 5))
    sbn, bn = nn.SyncBatchNorm(3).double(), nn.BatchNorm1d(3).double()
    a, b = cr.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    sbn(a).pow(2).sum().backward()
    bn(b).pow(2).sum().backward()
    _close(a.grad, b.grad.numpy())
    _close(sbn.running_var, bn.running_var.numpy())
    assert repr(sbn) == repr(torch.nn.SyncBatchNorm(3))
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert isinstance(converted, nn.SyncBatchNorm) and converted.weight is bn.weight


if __name__ == "__main__":
    _run_worker()
