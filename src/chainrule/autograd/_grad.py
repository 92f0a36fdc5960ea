"""``chainrule.autograd.grad`` with ``is_grads_batched``: the engine's ``grad`` run once
under ``vmap`` over the leading dim of every grad_output (one batched backward pass, not a
loop), as PyTorch does."""

from __future__ import annotations

from ..tensor import Tensor
from .engine import grad as _engine_grad


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs`` (``torch.autograd.grad``), without
    touching ``.grad``. With ``is_grads_batched=True`` the first dim of each grad_output is
    a batch: the result has the same leading dim (a batch of vector-Jacobian products).
    ``materialize_grads=True`` gives zeros instead of None for unused inputs."""
    if not is_grads_batched:
        return _engine_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads=materialize_grads)
    if grad_outputs is None:
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs (a batch of them)")
    single = isinstance(grad_outputs, Tensor)
    gos = [grad_outputs] if single else list(grad_outputs)
    from ..func import vmap

    def one(*g):
        res = _engine_grad(outputs, inputs, list(g), True, create_graph,
                           allow_unused, materialize_grads=True)
        return tuple(res)

    return vmap(one)(*gos)
